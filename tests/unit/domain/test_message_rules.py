"""What a direct message may hold, and who may message whom."""

import pytest

from townhall.domain.errors import Forbidden, Invalid
from townhall.domain.messages import check_can_message, check_message_text, pair_key
from townhall.domain.social import BlockState
from townhall.types import UserId

ME = UserId(1)
THEM = UserId(2)
NO_BLOCKS = BlockState(a_blocks_b=False, b_blocks_a=False)


@pytest.mark.parametrize("text", ["hi", "🎙" * 1000, "line one\nline two\ttabbed", "<b>x</b>"])
def test_text_of_one_to_1000_code_points_is_kept_as_given(text: str) -> None:
    assert check_message_text(text) == text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_message"),
        (" \n\t", "empty_message"),
        ("a" * 1001, "message_too_long"),
        ("bell\x07", "invalid_message"),
    ],
)
def test_bad_text_is_refused(text: str, code: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_message_text(text)
    assert caught.value.code == code


def test_you_cannot_message_yourself() -> None:
    with pytest.raises(Invalid):
        check_can_message(ME, ME, NO_BLOCKS)


@pytest.mark.parametrize(
    ("blocks", "code"),
    [
        (BlockState(a_blocks_b=False, b_blocks_a=True), "blocked"),
        (BlockState(a_blocks_b=True, b_blocks_a=False), "blocking"),
    ],
)
def test_a_block_either_way_forbids_messages(blocks: BlockState, code: str) -> None:
    with pytest.raises(Forbidden) as caught:
        check_can_message(ME, THEM, blocks)
    assert caught.value.code == code


def test_a_pair_has_one_key_whoever_starts() -> None:
    assert pair_key(7, 3) == pair_key(3, 7) == "3:7"
