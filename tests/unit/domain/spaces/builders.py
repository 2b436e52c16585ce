"""Small Spaces for the rule tests, built through the domain's own actions."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from townhall.domain.spaces import actions
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.model import Access, Limits, Participant, Space, WhoCanSpeak
from townhall.domain.spaces.roles import Role
from townhall.types import UserId

NOW = datetime(2030, 5, 1, 18, 0, tzinfo=UTC)
HOST_ID = UserId(1)
NO_RESTRICTIONS = Access()
X_LIMITS = Limits()
"""The limits as on X: two co-hosts, ten speakers, five pins, thirty days ahead."""


def make_space(
    state: SpaceState = SpaceState.LIVE, who_can_speak: WhoCanSpeak = WhoCanSpeak.EVERYONE
) -> Space:
    """A Space as the service hands it to the rules, before anyone has joined."""
    return Space(
        id=7,
        host_id=HOST_ID,
        state=state,
        title="Town square",
        who_can_speak=who_can_speak,
        recording=False,
        captions=False,
        scheduled_start=NOW + timedelta(hours=1) if state is SpaceState.SCHEDULED else None,
        started_at=NOW if state is SpaceState.LIVE else None,
        ended_at=None,
        lang="en",
        topic_ids=[],
        created_at=NOW,
    )


def join(space: Space, user_id: UserId, access: Access = NO_RESTRICTIONS) -> Participant:
    participant, _ = actions.join(space, user_id, None, access, NOW)
    return participant


def join_with_role(
    space: Space, host: Participant, user_id: UserId, role: Role, limits: Limits = X_LIMITS
) -> Participant:
    """Joins, then is put in `role` by the host."""
    participant = join(space, user_id)
    if role is not Role.LISTENER:
        actions.set_role(space, host, participant, role, limits)
    return participant


def join_with_hand_raised(space: Space, user_id: UserId) -> Participant:
    participant = join(space, user_id)
    actions.raise_hand(space, participant, NO_RESTRICTIONS, invited=False)
    return participant


# The room the permission matrix (and the ended-Space tests) act in --------------------

HOST = "host"
COHOST = "cohost"
OTHER_COHOST = "other cohost"
SPEAKER = "speaker"
LISTENER = "listener"
NON_PARTICIPANT = "non-participant"
GUEST_ID = UserId(99)
"""Someone outside the Space, for invites."""

ROOMY = Limits(max_cohosts=3, max_speakers=10)
"""Room for one more co-host, so in the matrix only permissions decide."""


@dataclass
class Room:
    """A live Space with a host, two co-hosts, a speaker, a listener with a raised hand,
    and someone who never joined. Everyone on stage has unmuted, so a mute shows."""

    space: Space
    ids: dict[str, UserId]
    people: dict[UserId, Participant] = field(default_factory=dict)

    def id_of(self, who: str) -> UserId:
        return self.ids[who]

    def get(self, who: str) -> Participant | None:
        return self.people.get(self.ids[who])


def make_room(limits: Limits = ROOMY) -> Room:
    space = make_space()
    ids = {
        HOST: HOST_ID,
        COHOST: UserId(2),
        OTHER_COHOST: UserId(3),
        SPEAKER: UserId(4),
        LISTENER: UserId(5),
        NON_PARTICIPANT: UserId(6),
    }
    host = join(space, HOST_ID)
    room = Room(space, ids, {HOST_ID: host})
    for who in (COHOST, OTHER_COHOST):
        room.people[ids[who]] = join_with_role(space, host, ids[who], Role.COHOST, limits)
    speaker = join_with_hand_raised(space, ids[SPEAKER])
    actions.approve_request(space, host, speaker, limits)
    room.people[ids[SPEAKER]] = speaker
    room.people[ids[LISTENER]] = join_with_hand_raised(space, ids[LISTENER])
    for person in space.stage.values():
        actions.set_self_muted(space, person, False)
    return room
