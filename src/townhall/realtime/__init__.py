"""Event bus between services and WebSocket clients: in-process by default, Redis across nodes."""

from townhall.realtime.bus import (
    BusState,
    EventBus,
    Message,
    Subscription,
    SubscriptionClosed,
    SubscriptionOverflowed,
)
from townhall.realtime.factory import create_bus
from townhall.realtime.memory import InProcessBus
from townhall.realtime.redis_bus import RedisBus

__all__ = [
    "BusState",
    "EventBus",
    "InProcessBus",
    "Message",
    "RedisBus",
    "Subscription",
    "SubscriptionClosed",
    "SubscriptionOverflowed",
    "create_bus",
]
