"""Picks the bus for a deployment, so callers never branch on whether Redis is configured."""

from townhall.realtime.bus import EventBus
from townhall.realtime.memory import InProcessBus
from townhall.realtime.redis_bus import RedisBus


def create_bus(redis_url: str) -> EventBus:
    """In-process bus for a single node; Redis pub/sub as soon as a Redis URL is configured."""
    if not redis_url:
        return InProcessBus()
    return RedisBus(redis_url)
