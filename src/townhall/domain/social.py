"""Rules of the social graph: who may follow, reply to or interact with whom."""

from dataclasses import dataclass

from townhall.domain.errors import Forbidden, Invalid
from townhall.types import UserId


@dataclass(frozen=True)
class BlockState:
    """Blocks between two people, in both directions."""

    a_blocks_b: bool
    b_blocks_a: bool

    @property
    def any(self) -> bool:
        return self.a_blocks_b or self.b_blocks_a


def check_can_follow(follower: UserId, followee: UserId, blocks: BlockState) -> None:
    """`blocks` is seen from the follower (a) towards the followee (b)."""
    if follower == followee:
        raise Invalid("You cannot follow yourself.", code="cannot_follow_self")
    if blocks.b_blocks_a:
        raise Forbidden("This account has blocked you.", code="blocked")
    if blocks.a_blocks_b:
        raise Forbidden("You have blocked this account; unblock it first.", code="blocking")


def check_can_block(blocker: UserId, blocked: UserId) -> None:
    if blocker == blocked:
        raise Invalid("You cannot block yourself.", code="cannot_block_self")


def check_can_interact(actor: UserId, other: UserId, blocks: BlockState) -> None:
    """Replying to or otherwise engaging with someone is off when either blocked the other."""
    if actor != other and blocks.any:
        raise Forbidden("You cannot interact with this account.", code="blocked")
