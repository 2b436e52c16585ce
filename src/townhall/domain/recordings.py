"""Rules for recordings, clips and replays: states, who may do what, clip windows, speaker turns."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from townhall.domain.errors import Conflict, Forbidden, Invalid


class RecordingState(StrEnum):
    RECORDING = "recording"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


CLIP_MIN_S = 5
CLIP_MAX_S = 60
CLIP_DEFAULT_S = 30
SPEAKER_TURN_GAP_MS = 1000
"""`speaking` arrives up to five times a second while someone talks: a longer gap ends a turn."""
SPEAKING_INTERVAL_MS = 200
REPLAYED_LOG_TYPES = frozenset(
    {
        "pin.added",
        "pin.removed",
        "poll.opened",
        "poll.updated",
        "poll.closed",
        "post.shared",
        "caption",
        "participant.joined",
        "participant.role_changed",
    }
)
"""Stored state events a replay shows as they happened (captions: the final ones)."""


@dataclass(frozen=True)
class ClipWindow:
    start_ms: int
    end_ms: int


def check_clip_window(
    recorded_ms: int, start_offset_ms: int | None, duration_s: int | None
) -> ClipWindow:
    """Without a start, the last `duration_s` (30 by default) of what is recorded so far."""
    length_s = CLIP_DEFAULT_S if duration_s is None else duration_s
    if not CLIP_MIN_S <= length_s <= CLIP_MAX_S:
        raise Invalid(
            f"A clip lasts {CLIP_MIN_S} to {CLIP_MAX_S} seconds.", code="invalid_clip_duration"
        )
    length_ms = length_s * 1000
    if recorded_ms < CLIP_MIN_S * 1000:
        raise Conflict("Not enough has been recorded yet to clip.", code="recording_too_short")
    if start_offset_ms is None:
        start = max(0, recorded_ms - length_ms)
        return ClipWindow(start, recorded_ms)
    if start_offset_ms < 0 or start_offset_ms > recorded_ms - CLIP_MIN_S * 1000:
        raise Invalid(
            "The clip must start inside the recording, at least 5 s before its end.",
            code="invalid_clip_offset",
        )
    return ClipWindow(start_offset_ms, min(recorded_ms, start_offset_ms + length_ms))


def check_may_clip(space_state: str, recording_state: str, is_participant: bool) -> None:
    """A live recorded Space: its participants; an ended one: anyone who can replay it."""
    if space_state == "live":
        if recording_state != RecordingState.RECORDING:
            raise Conflict("This Space is not being recorded.", code="not_recording")
        if not is_participant:
            raise Forbidden("Join the Space to clip it.", code="not_a_participant")
        return
    if recording_state != RecordingState.READY:
        raise Conflict("The recording is not ready.", code=f"recording_{recording_state}")


def check_may_delete(space_state: str, actor_id: int, host_id: int) -> None:
    if actor_id != host_id:
        raise Forbidden("Only the host can delete the recording.", code="not_host")
    if space_state == "live":
        raise Conflict("End the Space before deleting its recording.", code="space_live")


def speaker_turns(speaking: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """(offset_ms, user_id) of `speaking` events -> turns `{user_id, offset_ms, duration_ms}`."""
    open_turns: dict[str, list[int]] = {}
    turns: list[tuple[int, str, int]] = []
    for offset_ms, user_id in sorted(speaking):
        turn = open_turns.get(user_id)
        if turn is not None and offset_ms - turn[1] <= SPEAKER_TURN_GAP_MS:
            turn[1] = offset_ms
            continue
        if turn is not None:
            turns.append((turn[0], user_id, turn[1] - turn[0] + SPEAKING_INTERVAL_MS))
        open_turns[user_id] = [offset_ms, offset_ms]
    for user_id, (start, last) in open_turns.items():
        turns.append((start, user_id, last - start + SPEAKING_INTERVAL_MS))
    turns.sort()
    return [
        {"offset_ms": start, "user_id": user_id, "duration_ms": duration}
        for start, user_id, duration in turns
    ]
