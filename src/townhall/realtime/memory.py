"""The single-process bus: the default, when one server process serves every client."""

from townhall.realtime.bus import EventBus, Message


class InProcessBus(EventBus):
    """Delivers straight into local subscriptions; there are no other nodes to tell."""

    async def publish(self, channel: str, message: Message) -> None:
        """Hand the message to local subscribers; they share the object, so never mutate it."""
        self._deliver_local(channel, message)
