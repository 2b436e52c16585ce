"""The Space aggregate as the rules see it: the Space, its stage, and one person at a time.

A Space may have thousands of listeners, so the rules never need all of them: an action
gets the Space with its stage (host, co-hosts, speakers) and the participants it touches.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.roles import STAGE_ROLES, Role
from townhall.types import UserId


class WhoCanSpeak(StrEnum):
    EVERYONE = "everyone"
    FOLLOWED = "followed"
    INVITED = "invited"


@dataclass(frozen=True)
class Limits:
    """Stage sizes as on X: one host, two co-hosts, ten other speakers."""

    max_cohosts: int = 2
    max_speakers: int = 10
    max_pins: int = 5
    max_schedule_ahead_days: int = 30


@dataclass
class Participant:
    user_id: UserId
    role: Role
    muted: bool
    hand_raised: bool
    joined_at: datetime
    present: bool = True

    @property
    def on_stage(self) -> bool:
        return self.present and self.role in STAGE_ROLES


@dataclass
class Space:
    id: int
    host_id: UserId
    state: SpaceState
    title: str
    who_can_speak: WhoCanSpeak
    recording: bool
    captions: bool
    scheduled_start: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    lang: str | None
    topic_ids: list[str]
    created_at: datetime
    stage: dict[UserId, Participant] = field(default_factory=dict)
    """Present participants whose role is host, cohost or speaker."""

    def count_role(self, role: Role) -> int:
        return sum(1 for p in self.stage.values() if p.present and p.role is role)

    @property
    def cohost_ids(self) -> list[UserId]:
        return [p.user_id for p in self.stage.values() if p.present and p.role is Role.COHOST]

    @property
    def speaker_ids(self) -> list[UserId]:
        return [p.user_id for p in self.stage.values() if p.present and p.role is Role.SPEAKER]


@dataclass(frozen=True)
class Access:
    """What the rules need to know about a person's relation to the host."""

    blocked_with_host: bool = False
    """Either the host blocked them or they blocked the host."""
    banned_by_host: bool = False
    """Removed-and-blocked from one of this host's Spaces earlier."""
    followed_by_host: bool = False


@dataclass(frozen=True)
class SpaceEvent:
    """A state change, as published on the Space's event stream (data holds ids as ints)."""

    type: str
    data: dict[str, Any]
    state: bool = True
    """State events get a per-Space seq and are replayed on resume; others are ephemeral."""


def participant_data(participant: Participant) -> dict[str, Any]:
    return {
        "user_id": participant.user_id,
        "role": participant.role.value,
        "muted": participant.muted,
        "hand_raised": participant.hand_raised,
        "joined_at": participant.joined_at,
    }
