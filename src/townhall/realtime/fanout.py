"""One channel's events to many sockets: a task per channel, not a queue and a task per socket.

```
 bus channel ──one Subscription──> Broadcaster task
                                     │  take what is queued, at most once per window
                                     │  listeners.count: keep the latest of the window
                                     │  seq gap: fetch the missing events once, for all
                                     v
                      per member: one Sink.send(frames, shared bytes)
                          RawSink   -> one transport write of the concatenated messages
                          QueueSink -> ASGI send per message (servers without the raw write)
```

Each member keeps its own `last_seq`, so a client still gets every state event exactly
once and in order: a member whose `last_seq` is the channel's goes the shared way; one
that is ahead (it read the store after the bus delivered) or behind (a gap) is served on
its own, and catches up from the store while later frames wait for it. A member that
cannot take its frames (the write buffer past a bound, or too many held frames) is too
slow: it gets `resync` and the socket is closed, and the others are not held up.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from townhall.realtime.bus import EventBus, Subscription, SubscriptionClosed, SubscriptionOverflowed
from townhall.realtime.frames import EncodedOnce, shared
from townhall.realtime.raw_socket import RawWebSocket

log = logging.getLogger("townhall.realtime")

WINDOW_S = 0.025
"""Frames that arrive within this time of the last send go out together, one write a socket."""

MAX_WINDOW_S = 0.09
"""The window grows with the audience up to this: under the reaction batcher's 100 ms, so
a steady stream of reaction frames still goes out as each arrives."""

WINDOW_PER_SOCKET_S = 40e-6
"""Window per socket: a write costs ~15-30 µs of kernel time on loopback, so a Space with
2,000 sockets sends at most ~12 batches a second (a join storm sends 100 frames a second)."""

MAX_BUFFERED_BYTES = 512 * 1024
"""Unsent bytes a raw socket may hold before its client counts as too slow."""

MAX_HELD_FRAMES = 1000
"""Frames a member may hold while it catches up (or a fallback socket may queue)."""

CHANNEL_QUEUE_SIZE = 10_000
"""Messages the channel's one subscription may hold while its broadcaster is busy."""

COLLAPSIBLE = frozenset({"listeners.count"})
"""Ephemeral frames where only the latest of a window matters."""

CLOSE_TOO_SLOW = 4408
TOO_SLOW_REASON = "too far behind; reconnect with since"

CatchUp = Callable[[int], Awaitable[tuple[Sequence[EncodedOnce] | None, int]]]
"""after_seq -> (the stored state events after it, or None if too many; the latest seq)."""

MakeResync = Callable[[int], EncodedOnce]
"""seq -> the `resync` frame that tells a client to refetch everything up to that seq."""


class Sink(ABC):
    """Where one socket's frames go."""

    @abstractmethod
    def send(self, frames: Sequence[EncodedOnce], wire: bytes | None) -> bool:
        """Send frames in order (`wire`: their concatenated messages); False if too slow."""

    @abstractmethod
    def close_too_slow(self, resync: EncodedOnce) -> None:
        """Send `resync` and close the socket with 4408; never waits."""

    @abstractmethod
    def close(self, code: int, reason: str) -> None:
        """Close the socket (e.g. 4401: its session ended); never waits."""


class RawSink(Sink):
    """Writes whole messages straight to the connection: one write per send."""

    def __init__(self, raw: RawWebSocket, max_buffered_bytes: int = MAX_BUFFERED_BYTES) -> None:
        self._raw = raw
        self._max_buffered_bytes = max_buffered_bytes

    def send(self, frames: Sequence[EncodedOnce], wire: bytes | None) -> bool:
        if wire is None:
            wire = b"".join([frame.wire() for frame in frames])
        if not wire:
            return True
        # -1: the socket is closing; its protocol tells the route's clean-up when it goes.
        return self._raw.write(wire) <= self._max_buffered_bytes

    def close_too_slow(self, resync: EncodedOnce) -> None:
        self._raw.write(resync.wire())
        self._raw.close(CLOSE_TOO_SLOW, TOO_SLOW_REASON)

    def close(self, code: int, reason: str) -> None:
        self._raw.close(code, reason)


SendText = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


class QueueSink(Sink):
    """For ASGI servers without the raw write: a bounded queue and a task that sends.

    The socket's route awaits `run` for the life of the socket (a raw socket needs no task:
    it is detached from its route once live, see api/ws_protocol.py)."""

    def __init__(
        self, send_text: SendText, close: Close, max_frames: int = MAX_HELD_FRAMES
    ) -> None:
        self._send_text = send_text
        self._close = close
        self._max_frames = max_frames
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._too_slow = False
        self._closing: tuple[int, str] | None = None

    def send(self, frames: Sequence[EncodedOnce], wire: bytes | None) -> bool:
        if self._too_slow or self._closing is not None:
            return True
        self._queue.extend(frame.text() for frame in frames)
        self._wake.set()
        return len(self._queue) <= self._max_frames

    def close_too_slow(self, resync: EncodedOnce) -> None:
        self._too_slow = True
        self._queue.clear()
        self._queue.append(resync.text())
        self._wake.set()

    def close(self, code: int, reason: str) -> None:
        self._closing = (code, reason)
        self._queue.clear()
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._closing is not None:
                await self._close(*self._closing)
                return
            while self._queue:
                await self._send_text(self._queue.popleft())
            if self._too_slow:
                await self._close(CLOSE_TOO_SLOW, TOO_SLOW_REASON)
                return


class MemberState(enum.Enum):
    HOLDING = "holding"
    """Not live yet (still being sent its backlog) or catching up on a gap: frames wait."""
    LIVE = "live"
    ENDED = "ended"


class Member:
    """One socket in a channel: what it has been sent, and frames held for it meanwhile."""

    def __init__(self, broadcaster: Broadcaster, sink: Sink) -> None:
        self._broadcaster = broadcaster
        self.sink = sink
        self.state = MemberState.HOLDING
        self.last_seq = 0
        self._held: list[EncodedOnce] = []
        self._catching_up: asyncio.Task[None] | None = None

    def go_live(self, last_seq: int) -> None:
        """The socket has everything up to `last_seq`; send what was held, then live frames."""
        if self.state is MemberState.ENDED:
            return
        self.last_seq = last_seq
        self._release()

    def leave(self) -> None:
        if self.state is MemberState.ENDED:
            return
        self.state = MemberState.ENDED
        self._held = []
        if self._catching_up is not None:
            self._catching_up.cancel()
        self._broadcaster._remove(self)

    def _release(self) -> None:
        held, self._held = self._held, []
        self.state = MemberState.LIVE
        self._deliver(held)

    def _hold(self, frames: Sequence[EncodedOnce]) -> None:
        self._held.extend(frames)
        if len(self._held) > MAX_HELD_FRAMES:
            self._too_slow()

    def _send(self, frames: Sequence[EncodedOnce], wire: bytes | None = None) -> None:
        if (frames or wire) and not self.sink.send(frames, wire):
            self._too_slow()

    def _deliver(self, frames: Sequence[EncodedOnce]) -> None:
        """Send what this socket has not had, in seq order; on a gap, catch up first."""
        out: list[EncodedOnce] = []
        for index, frame in enumerate(frames):
            seq = frame.get("seq")
            if seq is None:
                out.append(frame)
            elif seq <= self.last_seq:
                continue
            elif seq == self.last_seq + 1:
                out.append(frame)
                self.last_seq = seq
            else:
                self._send(out)
                if self.state is MemberState.LIVE:
                    self.state = MemberState.HOLDING
                    self._held = list(frames[index:])
                    self._catching_up = asyncio.create_task(self._catch_up())
                return
        self._send(out)

    async def _catch_up(self) -> None:
        try:
            frames, latest = await self._broadcaster.catch_up(self.last_seq)
        except Exception:
            log.exception("catching up on %s failed", self._broadcaster.channel)
            frames, latest = None, self.last_seq
        if self.state is not MemberState.HOLDING:
            return
        self._catching_up = None
        if frames is None:
            # Too much was missed to send it all: the client refetches, the stream goes on.
            self._send([self._broadcaster.make_resync(latest)])
        else:
            self._send([f for f in frames if f["seq"] > self.last_seq])
        self.last_seq = max(self.last_seq, latest)
        if self.state is MemberState.HOLDING:
            self._release()

    def _too_slow(self, seq: int | None = None) -> None:
        if self.state is MemberState.ENDED:
            return
        resync = self._broadcaster.make_resync(self.last_seq if seq is None else seq)
        self.leave()
        self.sink.close_too_slow(resync)


class Broadcaster:
    """Sends one channel's events to its members, batched per window."""

    def __init__(
        self,
        bus: EventBus,
        channel: str,
        catch_up: CatchUp,
        make_resync: MakeResync,
        on_empty: Callable[[Broadcaster], None],
        window_s: float = WINDOW_S,
        max_window_s: float = MAX_WINDOW_S,
    ) -> None:
        self.channel = channel
        self.catch_up = catch_up
        self.make_resync = make_resync
        self._on_empty = on_empty
        self._window_s = window_s
        self._max_window_s = max(window_s, max_window_s)
        self._members: dict[Member, None] = {}
        self.seq: int | None = None
        """The latest state event sent to live members that are in step with the channel."""
        self._subscription: Subscription = bus.subscribe(channel, maxsize=CHANNEL_QUEUE_SIZE)
        self._task = asyncio.create_task(self._run(), name=f"fanout-{channel}")

    def join(self, sink: Sink) -> Member:
        """A new member holds frames until the route has sent its backlog and calls go_live."""
        member = Member(self, sink)
        self._members[member] = None
        return member

    def member_count(self) -> int:
        return len(self._members)

    def window_s(self) -> float:
        """How long to gather frames after a send: longer for a larger audience."""
        grown = len(self._members) * WINDOW_PER_SOCKET_S
        return min(self._max_window_s, max(self._window_s, grown))

    def _remove(self, member: Member) -> None:
        self._members.pop(member, None)
        if not self._members:
            self.close()
            self._on_empty(self)

    def close(self) -> None:
        self._subscription.close()
        self._task.cancel()

    async def _run(self) -> None:
        subscription = self._subscription
        try:
            loop = asyncio.get_running_loop()
            while True:
                first = await subscription.get()
                started = loop.time()
                batch = [first, *subscription.ready()]
                base = self.seq
                try:
                    frames = await self._in_order(batch)
                    if frames:
                        self._dispatch(frames, base)
                except Exception:
                    log.exception("fan-out of %s failed for a batch", self.channel)
                # The window counts from the start of this send, not its end: writing to
                # thousands of sockets takes most of a window itself, and reaction batches
                # every 100 ms must still go out as each arrives, not wait out a second delay.
                await asyncio.sleep(max(0.0, self.window_s() - (loop.time() - started)))
        except SubscriptionOverflowed:
            log.warning("fan-out of %s fell behind; every socket must resync", self.channel)
            for member in list(self._members):
                member._too_slow()
        except SubscriptionClosed:
            pass

    async def _in_order(self, batch: list[dict[str, object]]) -> list[EncodedOnce]:
        """The batch as sent: state events in seq order without gaps, counts collapsed."""
        frames: list[EncodedOnce] = []
        latest_of: dict[object, int] = {}
        for message in batch:
            frame = shared(message)
            seq = frame.get("seq")
            if seq is None:
                if frame.get("type") in COLLAPSIBLE:
                    latest_of[frame.get("type")] = len(frames)
                frames.append(frame)
                continue
            if self.seq is not None:
                if seq <= self.seq:
                    continue  # already sent, from the store, when its gap was filled
                if seq > self.seq + 1:
                    frames.extend(await self._missing(self.seq, seq))
            frames.append(frame)
            self.seq = seq
        if latest_of:
            keep = set(latest_of.values())
            frames = [
                f
                for index, f in enumerate(frames)
                if f.get("type") not in COLLAPSIBLE or index in keep
            ]
        return frames

    async def _missing(self, after: int, before: int) -> list[EncodedOnce]:
        """State events another thread committed first but published later: read them once."""
        try:
            stored, _ = await self.catch_up(after)
        except Exception:
            log.exception("filling a gap in %s failed", self.channel)
            return []
        if stored is None:
            return []
        return [f for f in stored if after < f["seq"] < before]

    def _dispatch(self, frames: list[EncodedOnce], base: int | None) -> None:
        top = self.seq
        wire: bytes | None = None
        for member in list(self._members):
            try:
                state = member.state
                if state is MemberState.LIVE:
                    if top == base or member.last_seq == base:
                        if wire is None:
                            wire = b"".join([frame.wire() for frame in frames])
                        if member.last_seq == base and top is not None:
                            member.last_seq = top
                        member._send(frames, wire)
                    else:
                        member._deliver(frames)
                elif state is MemberState.HOLDING:
                    member._hold(frames)
            except Exception:
                # One broken socket must not stop the Space's stream for everyone else.
                log.exception("sending to a socket of %s failed; dropping it", self.channel)
                member.leave()


class FanoutHub:
    """The broadcasters of one server process, one per channel with sockets on this node."""

    def __init__(
        self, bus: EventBus, window_s: float = WINDOW_S, max_window_s: float = MAX_WINDOW_S
    ) -> None:
        self.bus = bus
        self.window_s = window_s
        self.max_window_s = max_window_s
        self._broadcasters: dict[str, Broadcaster] = {}

    def join(self, channel: str, sink: Sink, catch_up: CatchUp, make_resync: MakeResync) -> Member:
        broadcaster = self._broadcasters.get(channel)
        if broadcaster is None:
            broadcaster = Broadcaster(
                self.bus,
                channel,
                catch_up,
                make_resync,
                self._forget,
                self.window_s,
                self.max_window_s,
            )
            self._broadcasters[channel] = broadcaster
        return broadcaster.join(sink)

    def broadcaster(self, channel: str) -> Broadcaster | None:
        return self._broadcasters.get(channel)

    def _forget(self, broadcaster: Broadcaster) -> None:
        if self._broadcasters.get(broadcaster.channel) is broadcaster:
            del self._broadcasters[broadcaster.channel]

    def close(self) -> None:
        for broadcaster in list(self._broadcasters.values()):
            broadcaster.close()
        self._broadcasters.clear()
