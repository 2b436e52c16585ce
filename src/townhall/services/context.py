"""What every use case needs, built once by the container and passed in explicitly."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from townhall.config import Settings
from townhall.ids import IdGenerator
from townhall.services.expiring_cache import ExpiringCache
from townhall.services.passwords import PasswordHasher
from townhall.services.principal import Principal
from townhall.services.ratelimit import RateLimitCounter, SlidingWindowLimiter
from townhall.services.reaction_permits import ReactionPermits
from townhall.storage.uow import UnitOfWorkFactory

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class ServiceContext:
    settings: Settings
    uow: UnitOfWorkFactory
    ids: IdGenerator
    clock: Clock
    passwords: PasswordHasher
    login_failures: SlidingWindowLimiter
    rate_limits: RateLimitCounter
    """settings.rate_limits: counted on this node, or in Redis for every node."""
    tokens: ExpiringCache[str, Principal]
    """token hash -> principal, trusted for `settings.token_cache_s`."""
    reaction_permits: ReactionPermits
    message_limiter: SlidingWindowLimiter
    """Direct messages sent, per user (domain/messages.py: MESSAGES_PER_MINUTE)."""
    message_address_limiter: SlidingWindowLimiter
    """Direct messages sent, per client address (MESSAGES_PER_MINUTE_PER_ADDRESS)."""
