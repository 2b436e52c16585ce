"""What Space use cases hand back: the Space as API.md and X's Space object name its fields."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from townhall.domain.spaces.model import Participant, Space
from townhall.services.views import UserSummary, user_summaries
from townhall.storage import spaces as store
from townhall.storage.tables import SpaceParticipantRow, SpaceRow
from townhall.types import UserId


@dataclass(frozen=True)
class SpaceView:
    id: int
    state: str
    title: str
    creator_id: int
    host_ids: list[UserId]
    cohost_ids: list[UserId]
    speaker_ids: list[UserId]
    invited_user_ids: list[int]
    participant_count: int
    subscriber_count: int
    scheduled_start: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    lang: str | None
    topic_ids: list[str]
    is_ticketed: bool
    who_can_speak: str
    recording: bool
    captions: bool
    share_url: str
    pinned_post_ids: list[int]
    seq: int
    host: UserSummary | None
    """Who hosts it, so a card can show them without another request."""


@dataclass(frozen=True)
class ParticipantView:
    user_id: int
    role: str
    muted: bool
    hand_raised: bool
    joined_at: datetime
    user: UserSummary | None
    """Who it is, so a room can show names without a lookup per person."""


def participant_views(
    session: Session,
    people: list[Participant],
    known_users: dict[int, UserSummary] | None = None,
) -> list[ParticipantView]:
    wanted: set[int] = {p.user_id for p in people}
    users = dict(known_users or {})
    if not wanted <= users.keys():
        users.update(user_summaries(session, wanted - users.keys()))
    return [
        ParticipantView(
            user_id=p.user_id,
            role=p.role.value,
            muted=p.muted,
            hand_raised=p.hand_raised,
            joined_at=p.joined_at,
            user=users.get(p.user_id),
        )
        for p in people
    ]


def participant_view(session: Session, participant: Participant) -> ParticipantView:
    return participant_views(session, [participant])[0]


def participant_row_views(
    session: Session, rows: list[SpaceParticipantRow]
) -> list[ParticipantView]:
    return participant_views(session, [store.to_participant(row) for row in rows])


def space_view(
    row: SpaceRow,
    space: Space,
    invited: list[int],
    pinned: list[int],
    host: UserSummary | None = None,
) -> SpaceView:
    return SpaceView(
        id=row.id,
        state=space.state.value,
        title=space.title,
        creator_id=space.host_id,
        host_ids=[space.host_id, *space.cohost_ids],
        cohost_ids=list(space.cohost_ids),
        speaker_ids=list(space.speaker_ids),
        invited_user_ids=invited,
        participant_count=row.participant_count,
        subscriber_count=row.subscriber_count,
        scheduled_start=space.scheduled_start,
        started_at=space.started_at,
        ended_at=space.ended_at,
        created_at=space.created_at,
        lang=space.lang,
        topic_ids=space.topic_ids,
        is_ticketed=False,
        who_can_speak=space.who_can_speak.value,
        recording=space.recording,
        captions=space.captions,
        share_url=f"/s/{row.id}",
        pinned_post_ids=pinned,
        seq=row.event_seq,
        host=host,
    )


def space_views(session: Session, rows: list[SpaceRow]) -> list[SpaceView]:
    """Views for many Spaces in a constant number of queries."""
    from townhall.storage import space_extras

    ids = [row.id for row in rows]
    stages = store.stage_of(session, ids)
    invites = store.invited_ids(session, ids)
    pins = space_extras.pinned_ids(session, ids)
    hosts = user_summaries(session, {row.host_id for row in rows})
    return [
        space_view(
            row,
            store.to_space(row, stages[row.id]),
            invites[row.id],
            pins[row.id],
            hosts.get(row.host_id),
        )
        for row in rows
    ]
