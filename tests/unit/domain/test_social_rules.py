"""Who may follow, block and interact with whom."""

import pytest

from townhall.domain.errors import Forbidden, Invalid
from townhall.domain.social import BlockState, check_can_block, check_can_follow, check_can_interact
from townhall.types import UserId

ME = UserId(1)
THEM = UserId(2)
NO_BLOCKS = BlockState(a_blocks_b=False, b_blocks_a=False)


def test_you_cannot_follow_yourself() -> None:
    with pytest.raises(Invalid):
        check_can_follow(ME, ME, NO_BLOCKS)


def test_a_blocked_user_cannot_follow_the_blocker() -> None:
    with pytest.raises(Forbidden) as caught:
        check_can_follow(ME, THEM, BlockState(a_blocks_b=False, b_blocks_a=True))
    assert caught.value.code == "blocked"


def test_you_cannot_follow_someone_you_blocked() -> None:
    with pytest.raises(Forbidden) as caught:
        check_can_follow(ME, THEM, BlockState(a_blocks_b=True, b_blocks_a=False))
    assert caught.value.code == "blocking"


def test_following_is_allowed_without_blocks() -> None:
    check_can_follow(ME, THEM, NO_BLOCKS)


def test_you_cannot_block_yourself() -> None:
    with pytest.raises(Invalid):
        check_can_block(ME, ME)


@pytest.mark.parametrize(
    "blocks", [BlockState(True, False), BlockState(False, True), BlockState(True, True)]
)
def test_a_block_either_way_stops_interaction(blocks: BlockState) -> None:
    with pytest.raises(Forbidden):
        check_can_interact(ME, THEM, blocks)
