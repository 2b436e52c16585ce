"""Reactions come from a fixed emoji set; polls have 2-4 options, run 1 min-24 h, one vote each."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.domain.spaces.builders import NOW
from townhall.domain.errors import Conflict, Invalid
from townhall.domain.spaces import polls, reactions

# The set named in the issue; the module may offer more, never fewer.
REQUIRED_REACTIONS = ("💜", "😂", "😲", "😢", "💯", "👏", "✋", "👍", "👎", "🔥")
HANDS = ("👏", "✋", "👍", "👎")
NOT_HANDS = ("💜", "😂", "😲", "😢", "💯", "🔥")
SKIN_TONES = ("\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff")
ONE_MINUTE_S = 60
ONE_DAY_S = 24 * 60 * 60
NO_DATABASE = settings(database=None)

# Reactions -----------------------------------------------------------------------------


@pytest.mark.parametrize("emoji", REQUIRED_REACTIONS)
def test_every_reaction_named_in_the_issue_is_allowed(emoji: str) -> None:
    assert reactions.check_reaction(emoji) == emoji


@pytest.mark.parametrize("tone", SKIN_TONES)
@pytest.mark.parametrize("hand", HANDS)
def test_hands_come_in_every_skin_tone(hand: str, tone: str) -> None:
    assert reactions.check_reaction(hand + tone) == hand + tone


@pytest.mark.parametrize("emoji", NOT_HANDS)
def test_skin_tones_on_hearts_faces_and_fire_are_refused(emoji: str) -> None:
    with pytest.raises(Invalid):
        reactions.check_reaction(emoji + SKIN_TONES[0])


@pytest.mark.parametrize(
    "emoji",
    [
        pytest.param("🍕", id="an emoji outside the set"),
        pytest.param("", id="nothing"),
        pytest.param("like", id="a word"),
        pytest.param("💜💜", id="two reactions at once"),
        pytest.param("👍 ", id="trailing space"),
        pytest.param(SKIN_TONES[2], id="a bare skin tone"),
        pytest.param("👍" + SKIN_TONES[0] + SKIN_TONES[1], id="two skin tones"),
        pytest.param("\U0001f9d1\u200d\U0001f4bb", id="a zero-width-joiner sequence"),
    ],
)
def test_anything_else_is_invalid(emoji: str) -> None:
    with pytest.raises(Invalid) as caught:
        reactions.check_reaction(emoji)
    assert caught.value.code == "invalid_emoji"


@NO_DATABASE
@given(text=st.lists(st.integers(min_value=1, max_value=0x1FAFF).map(chr), max_size=3).map("".join))
def test_only_members_of_the_set_pass(text: str) -> None:
    if text in reactions.ALLOWED_REACTIONS:
        assert reactions.check_reaction(text) == text
    else:
        with pytest.raises(Invalid):
            reactions.check_reaction(text)


def test_the_rate_limit_is_five_reactions_a_second() -> None:
    assert reactions.REACTIONS_PER_SECOND == 5


# Opening a poll ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 3, 4])
def test_a_poll_has_two_to_four_options(count: int) -> None:
    options = [f"Option {n}" for n in range(count)]
    assert polls.check_poll("Which?", options, ONE_MINUTE_S) == ("Which?", options)


@pytest.mark.parametrize("count", [0, 1, 5])
def test_fewer_than_two_or_more_than_four_options_are_invalid(count: int) -> None:
    with pytest.raises(Invalid) as caught:
        polls.check_poll("Which?", [f"Option {n}" for n in range(count)], ONE_MINUTE_S)
    assert caught.value.code == "invalid_options"


@pytest.mark.parametrize("duration_s", [ONE_MINUTE_S, 3600, ONE_DAY_S])
def test_a_poll_runs_from_one_minute_to_a_day(duration_s: int) -> None:
    polls.check_poll("Which?", ["Yes", "No"], duration_s)


@pytest.mark.parametrize("duration_s", [0, ONE_MINUTE_S - 1, ONE_DAY_S + 1])
def test_shorter_than_a_minute_or_longer_than_a_day_is_invalid(duration_s: int) -> None:
    with pytest.raises(Invalid) as caught:
        polls.check_poll("Which?", ["Yes", "No"], duration_s)
    assert caught.value.code == "invalid_duration"


def test_question_and_options_are_trimmed() -> None:
    assert polls.check_poll("  Which? ", [" Yes", "No  "], ONE_MINUTE_S) == (
        "Which?",
        ["Yes", "No"],
    )


@pytest.mark.parametrize(
    ("question", "options"),
    [
        pytest.param("   ", ["Yes", "No"], id="blank question"),
        pytest.param("q" * 141, ["Yes", "No"], id="question over 140 characters"),
        pytest.param("Which?", ["Yes", "  "], id="blank option"),
        pytest.param("Which?", ["Yes", "n" * 26], id="option over 25 characters"),
        pytest.param("Which?", ["Yes", " Yes "], id="the same option twice"),
    ],
)
def test_malformed_polls_are_invalid(question: str, options: list[str]) -> None:
    with pytest.raises(Invalid):
        polls.check_poll(question, options, ONE_MINUTE_S)


def test_a_poll_closes_its_duration_after_opening() -> None:
    assert polls.closes_at(NOW, 90) == NOW + timedelta(seconds=90)


# Voting --------------------------------------------------------------------------------


def test_a_first_vote_for_a_listed_option_counts() -> None:
    polls.check_vote(option=3, option_count=4, is_open=True, already_voted=False)


def test_one_vote_per_participant() -> None:
    with pytest.raises(Conflict) as caught:
        polls.check_vote(option=0, option_count=2, is_open=True, already_voted=True)
    assert caught.value.code == "already_voted"


def test_a_closed_poll_takes_no_votes() -> None:
    with pytest.raises(Conflict) as caught:
        polls.check_vote(option=0, option_count=2, is_open=False, already_voted=False)
    assert caught.value.code == "poll_closed"


@pytest.mark.parametrize("option", [-1, 2, 10])
def test_a_vote_for_an_option_that_does_not_exist_is_invalid(option: int) -> None:
    with pytest.raises(Invalid) as caught:
        polls.check_vote(option=option, option_count=2, is_open=True, already_voted=False)
    assert caught.value.code == "invalid_option"


def test_a_closed_poll_says_so_before_judging_the_option() -> None:
    with pytest.raises(Conflict):
        polls.check_vote(option=7, option_count=2, is_open=False, already_voted=True)
