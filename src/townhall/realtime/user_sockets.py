"""The Space event sockets open on this node, by user, so a suspension can close them.

A Space's sockets are written by its broadcaster (realtime/fanout.py) and, once live, no
longer have a route's call stack behind them (api/ws_protocol.py): nothing else knows
which of them belong to whom. Used on the event loop only.
"""

from townhall.realtime.fanout import Sink

CLOSE_SESSION_ENDED = 4401
SESSION_ENDED_REASON = "your session has ended"


class UserSockets:
    def __init__(self) -> None:
        self._by_user: dict[int, set[Sink]] = {}

    def add(self, user_id: int, sink: Sink) -> None:
        self._by_user.setdefault(user_id, set()).add(sink)

    def remove(self, user_id: int, sink: Sink) -> None:
        sinks = self._by_user.get(user_id)
        if sinks is None:
            return
        sinks.discard(sink)
        if not sinks:
            del self._by_user[user_id]

    def close_all(self, user_id: int) -> int:
        """Starts closing every socket of the user with 4401 (the web client goes to the
        login page, as for its personal socket); how many there were."""
        sinks = self._by_user.pop(user_id, set())
        for sink in sinks:
            sink.close(CLOSE_SESSION_ENDED, SESSION_ENDED_REASON)
        return len(sinks)

    def count(self, user_id: int) -> int:
        return len(self._by_user.get(user_id, ()))
