"""Rules for clips, deleting recordings and a replay's speaker turns."""

import pytest

from townhall.domain.errors import Conflict, Forbidden, Invalid
from townhall.domain.recordings import (
    ClipWindow,
    check_clip_window,
    check_may_clip,
    check_may_delete,
    speaker_turns,
)


def test_a_clip_is_the_last_30_seconds_by_default() -> None:
    assert check_clip_window(95_000, None, None) == ClipWindow(65_000, 95_000)


def test_a_clip_of_a_short_recording_is_all_of_it() -> None:
    assert check_clip_window(12_000, None, None) == ClipWindow(0, 12_000)


def test_a_clip_from_an_offset_stops_at_the_end_of_the_recording() -> None:
    assert check_clip_window(60_000, 10_000, 20) == ClipWindow(10_000, 30_000)
    assert check_clip_window(60_000, 50_000, 60) == ClipWindow(50_000, 60_000)


@pytest.mark.parametrize("duration_s", [0, 4, 61, 600])
def test_a_clip_lasts_5_to_60_seconds(duration_s: int) -> None:
    with pytest.raises(Invalid):
        check_clip_window(120_000, None, duration_s)


@pytest.mark.parametrize("start_ms", [-1, 56_000, 1_000_000])
def test_a_clip_starts_inside_the_recording_at_least_5_seconds_before_its_end(
    start_ms: int,
) -> None:
    with pytest.raises(Invalid):
        check_clip_window(60_000, start_ms, 5)


def test_nothing_is_clipped_before_5_seconds_are_recorded() -> None:
    with pytest.raises(Conflict):
        check_clip_window(4_000, None, None)


def test_a_live_recording_is_clipped_by_its_participants_only() -> None:
    check_may_clip("live", "recording", is_participant=True)
    with pytest.raises(Forbidden):
        check_may_clip("live", "recording", is_participant=False)


def test_an_ended_recording_is_clipped_once_ready() -> None:
    check_may_clip("ended", "ready", is_participant=False)
    for state in ("recording", "processing", "failed"):
        with pytest.raises(Conflict):
            check_may_clip("ended", state, is_participant=True)


def test_only_the_host_deletes_a_recording_and_not_while_live() -> None:
    check_may_delete("ended", actor_id=1, host_id=1)
    with pytest.raises(Forbidden):
        check_may_delete("ended", actor_id=2, host_id=1)
    with pytest.raises(Conflict):
        check_may_delete("live", actor_id=1, host_id=1)


def test_speaking_events_become_turns_split_by_a_pause_of_over_a_second() -> None:
    speaking = [(0, "a"), (200, "a"), (400, "a"), (3000, "a"), (3200, "a"), (300, "b")]
    assert speaker_turns(speaking) == [
        {"offset_ms": 0, "user_id": "a", "duration_ms": 600},
        {"offset_ms": 300, "user_id": "b", "duration_ms": 200},
        {"offset_ms": 3000, "user_id": "a", "duration_ms": 400},
    ]
