"""Lifecycle rules: scheduled -> live -> ended, scheduling, titles and who may host."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.domain.spaces.builders import HOST_ID, NOW, join, join_with_role, make_space
from townhall.domain.errors import Conflict, Forbidden, Invalid
from townhall.domain.spaces import actions
from townhall.domain.spaces.lifecycle import SpaceState, check_transition, require_state
from townhall.domain.spaces.model import Limits
from townhall.domain.spaces.roles import Role
from townhall.types import UserId

LATER = NOW + timedelta(minutes=5)
THIRTY_DAYS_S = 30 * 24 * 60 * 60
NO_DATABASE = settings(database=None)

# The transition table ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        pytest.param(SpaceState.SCHEDULED, SpaceState.LIVE, id="scheduled can go live"),
        pytest.param(SpaceState.SCHEDULED, SpaceState.ENDED, id="scheduled can be cancelled"),
        pytest.param(SpaceState.LIVE, SpaceState.ENDED, id="live can end"),
    ],
)
def test_allowed_transitions(current: SpaceState, target: SpaceState) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        pytest.param(SpaceState.LIVE, SpaceState.SCHEDULED, id="live cannot go back to scheduled"),
        pytest.param(SpaceState.LIVE, SpaceState.LIVE, id="live cannot start again"),
        pytest.param(SpaceState.ENDED, SpaceState.LIVE, id="ended never reopens"),
        pytest.param(SpaceState.ENDED, SpaceState.SCHEDULED, id="ended cannot be rescheduled"),
        pytest.param(SpaceState.ENDED, SpaceState.ENDED, id="ended cannot end again"),
        pytest.param(SpaceState.SCHEDULED, SpaceState.SCHEDULED, id="scheduled stays put"),
    ],
)
def test_refused_transitions_are_conflicts_naming_both_states(
    current: SpaceState, target: SpaceState
) -> None:
    with pytest.raises(Conflict) as caught:
        check_transition(current, target)
    assert current.value in caught.value.message
    assert target.value in caught.value.message
    assert caught.value.code == f"space_{current.value}"


def test_require_state_names_the_state_it_wanted_and_the_one_it_got() -> None:
    with pytest.raises(Conflict) as caught:
        require_state(SpaceState.ENDED, SpaceState.SCHEDULED, SpaceState.LIVE)
    assert "scheduled or live" in caught.value.message
    assert "ended" in caught.value.message


def test_require_state_accepts_any_expected_state() -> None:
    require_state(SpaceState.LIVE, SpaceState.SCHEDULED, SpaceState.LIVE)


# Start, end, cancel --------------------------------------------------------------------


def test_the_host_can_start_a_scheduled_space_early() -> None:
    space = make_space(SpaceState.SCHEDULED)
    events = actions.start(space, HOST_ID, LATER)
    assert space.state is SpaceState.LIVE
    assert space.started_at == LATER
    assert [event.type for event in events] == ["space.updated"]
    assert events[0].data["state"] == "live"


def test_a_live_space_cannot_be_started_again() -> None:
    space = make_space(SpaceState.LIVE)
    with pytest.raises(Conflict):
        actions.start(space, HOST_ID, LATER)
    assert space.started_at == NOW


def test_the_host_ending_a_live_space_takes_everyone_off_stage() -> None:
    space = make_space(SpaceState.LIVE)
    host = join(space, HOST_ID)
    speaker = join_with_role(space, host, UserId(2), Role.SPEAKER)
    events = actions.end(space, HOST_ID, LATER)
    assert space.state is SpaceState.ENDED
    assert space.ended_at == LATER
    assert space.stage == {}
    assert not host.present
    assert not speaker.present
    assert [event.type for event in events] == ["space.ended"]


def test_a_scheduled_space_is_cancelled_not_ended() -> None:
    space = make_space(SpaceState.SCHEDULED)
    with pytest.raises(Conflict):
        actions.end(space, HOST_ID, LATER)
    assert space.state is SpaceState.SCHEDULED


def test_cancelling_a_scheduled_space_ends_it() -> None:
    space = make_space(SpaceState.SCHEDULED)
    events = actions.cancel(space, HOST_ID, LATER)
    assert space.state is SpaceState.ENDED
    assert space.ended_at == LATER
    assert space.started_at is None
    assert [(event.type, event.data.get("cancelled")) for event in events] == [
        ("space.ended", True)
    ]


def test_a_live_space_cannot_be_cancelled() -> None:
    space = make_space(SpaceState.LIVE)
    with pytest.raises(Conflict) as caught:
        actions.cancel(space, HOST_ID, LATER)
    assert caught.value.code == "space_live"
    assert space.state is SpaceState.LIVE


@pytest.mark.parametrize("ended_by", ["end", "cancel"])
def test_an_ended_space_never_reopens(ended_by: str) -> None:
    if ended_by == "end":
        space = make_space(SpaceState.LIVE)
        actions.end(space, HOST_ID, NOW)
    else:
        space = make_space(SpaceState.SCHEDULED)
        actions.cancel(space, HOST_ID, NOW)
    for attempt in (actions.start, actions.end, actions.cancel):
        with pytest.raises(Conflict):
            attempt(space, HOST_ID, LATER)
    with pytest.raises(Conflict):
        actions.end_for_host_timeout(space, LATER)
    assert space.state is SpaceState.ENDED
    assert space.ended_at == NOW


def test_only_the_host_can_start_end_or_cancel() -> None:
    someone = UserId(2)
    with pytest.raises(Forbidden):
        actions.start(make_space(SpaceState.SCHEDULED), someone, NOW)
    with pytest.raises(Forbidden):
        actions.cancel(make_space(SpaceState.SCHEDULED), someone, NOW)
    with pytest.raises(Forbidden):
        actions.end(make_space(SpaceState.LIVE), someone, NOW)


def test_a_host_whose_connection_never_came_back_ends_the_space() -> None:
    space = make_space(SpaceState.LIVE)
    join(space, HOST_ID)
    events = actions.end_for_host_timeout(space, LATER)
    assert space.state is SpaceState.ENDED
    assert [event.type for event in events] == ["space.ended"]


# Editing -------------------------------------------------------------------------------


def test_the_host_can_edit_a_scheduled_space() -> None:
    space = make_space(SpaceState.SCHEDULED)
    actions.update(space, None, HOST_ID, title="  Renamed  ", captions=True)
    assert space.title == "Renamed"
    assert space.captions is True
    assert space.state is SpaceState.SCHEDULED


def test_recording_is_chosen_before_the_space_goes_live() -> None:
    scheduled = make_space(SpaceState.SCHEDULED)
    actions.update(scheduled, None, HOST_ID, recording=True)
    assert scheduled.recording is True

    live = make_space(SpaceState.LIVE)
    with pytest.raises(Conflict) as refused:
        actions.update(live, None, HOST_ID, title="Renamed", recording=True)
    assert refused.value.code == "recording_fixed"
    assert (live.recording, live.title) == (False, "Town square")
    # Saying what it already is changes nothing, so it is no conflict.
    actions.update(live, None, HOST_ID, title="Renamed", recording=False)
    assert live.title == "Renamed"


def test_an_ended_space_cannot_be_edited() -> None:
    space = make_space(SpaceState.LIVE)
    actions.end(space, HOST_ID, NOW)
    with pytest.raises(Conflict):
        actions.update(space, None, HOST_ID, title="Renamed")
    assert space.title == "Town square"


@pytest.mark.parametrize("title", ["", "   ", "x" * 71])
def test_titles_are_one_to_seventy_characters(title: str) -> None:
    with pytest.raises(Invalid):
        actions.check_title(title)


def test_a_seventy_character_title_is_fine_and_titles_are_trimmed() -> None:
    assert actions.check_title("x" * 70) == "x" * 70
    assert actions.check_title("  Town square \n") == "Town square"


# Scheduling ----------------------------------------------------------------------------


def test_a_start_in_the_past_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        actions.check_schedule(NOW - timedelta(seconds=1), NOW, Limits())
    assert caught.value.code == "start_in_past"


def test_a_start_right_now_is_not_in_the_future() -> None:
    with pytest.raises(Invalid):
        actions.check_schedule(NOW, NOW, Limits())


def test_a_start_exactly_thirty_days_ahead_is_allowed() -> None:
    actions.check_schedule(NOW + timedelta(days=30), NOW, Limits())


def test_a_start_more_than_thirty_days_ahead_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        actions.check_schedule(NOW + timedelta(days=30, seconds=1), NOW, Limits())
    assert caught.value.code == "start_too_far"
    assert "30 days" in caught.value.message


def test_the_schedule_horizon_is_a_setting() -> None:
    limits = Limits(max_schedule_ahead_days=7)
    actions.check_schedule(NOW + timedelta(days=7), NOW, limits)
    with pytest.raises(Invalid):
        actions.check_schedule(NOW + timedelta(days=8), NOW, limits)


@NO_DATABASE
@given(ahead_s=st.integers(min_value=-THIRTY_DAYS_S, max_value=2 * THIRTY_DAYS_S))
def test_a_schedule_is_accepted_exactly_when_in_the_next_thirty_days(ahead_s: int) -> None:
    start = NOW + timedelta(seconds=ahead_s)
    if 0 < ahead_s <= THIRTY_DAYS_S:
        actions.check_schedule(start, NOW, Limits())
    else:
        with pytest.raises(Invalid):
            actions.check_schedule(start, NOW, Limits())


# Who may host --------------------------------------------------------------------------


def test_below_the_follower_minimum_hosting_is_forbidden_saying_how_many_are_needed() -> None:
    with pytest.raises(Forbidden) as caught:
        actions.check_can_host(followers_count=599, min_followers=600)
    assert caught.value.code == "not_enough_followers"
    assert "600" in caught.value.message
    assert "599" in caught.value.message


def test_reaching_the_follower_minimum_is_enough_to_host() -> None:
    actions.check_can_host(followers_count=600, min_followers=600)


def test_with_the_default_minimum_of_zero_anyone_can_host() -> None:
    actions.check_can_host(followers_count=0, min_followers=0)
