"""Queries about Spaces, their participants, invites, bans, reminders and event log."""

import json
from datetime import datetime

from sqlalchemy import Select, and_, case, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.model import Participant, Space, WhoCanSpeak
from townhall.domain.spaces.roles import STAGE_ROLES, Role
from townhall.storage.tables import (
    BlockRow,
    FollowRow,
    HostBanRow,
    SpaceEventRow,
    SpaceInviteRow,
    SpaceParticipantRow,
    SpaceReminderRow,
    SpaceRow,
)
from townhall.types import UserId

STAGE_ROLE_VALUES = [role.value for role in STAGE_ROLES]


def get_space_row(session: Session, space_id: int, for_update: bool = False) -> SpaceRow | None:
    query = select(SpaceRow).where(SpaceRow.id == space_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def to_participant(row: SpaceParticipantRow) -> Participant:
    return Participant(
        user_id=UserId(row.user_id),
        role=Role(row.role),
        muted=row.muted,
        hand_raised=row.hand_raised,
        joined_at=row.joined_at,
        present=row.present,
    )


def to_space(row: SpaceRow, stage_rows: list[SpaceParticipantRow]) -> Space:
    return Space(
        id=row.id,
        host_id=UserId(row.host_id),
        state=SpaceState(row.state),
        title=row.title,
        who_can_speak=WhoCanSpeak(row.who_can_speak),
        recording=row.recording,
        captions=row.captions,
        scheduled_start=row.scheduled_start,
        started_at=row.started_at,
        ended_at=row.ended_at,
        lang=row.lang,
        topic_ids=list(json.loads(row.topic_ids)),
        created_at=row.created_at,
        stage={UserId(p.user_id): to_participant(p) for p in stage_rows},
    )


def copy_space_into(space: Space, row: SpaceRow) -> None:
    row.state = space.state.value
    row.title = space.title
    row.who_can_speak = space.who_can_speak.value
    row.recording = space.recording
    row.captions = space.captions
    row.scheduled_start = space.scheduled_start
    row.started_at = space.started_at
    row.ended_at = space.ended_at


def stage_rows(session: Session, space_id: int) -> list[SpaceParticipantRow]:
    return list(
        session.scalars(
            select(SpaceParticipantRow)
            .where(
                SpaceParticipantRow.space_id == space_id,
                SpaceParticipantRow.present.is_(True),
                SpaceParticipantRow.role.in_(STAGE_ROLE_VALUES),
            )
            .order_by(SpaceParticipantRow.joined_at)
        )
    )


def stage_of(session: Session, space_ids: list[int]) -> dict[int, list[SpaceParticipantRow]]:
    result: dict[int, list[SpaceParticipantRow]] = {space_id: [] for space_id in space_ids}
    if not space_ids:
        return result
    rows = session.scalars(
        select(SpaceParticipantRow)
        .where(
            SpaceParticipantRow.space_id.in_(space_ids),
            SpaceParticipantRow.present.is_(True),
            SpaceParticipantRow.role.in_(STAGE_ROLE_VALUES),
        )
        .order_by(SpaceParticipantRow.joined_at)
    )
    for row in rows:
        result[row.space_id].append(row)
    return result


def get_participant_row(
    session: Session, space_id: int, user_id: int
) -> SpaceParticipantRow | None:
    return session.get(SpaceParticipantRow, (space_id, user_id))


def save_participant(session: Session, space_id: int, participant: Participant) -> int:
    """Saves the participant; returns how the count of present people changed (-1, 0, 1)."""
    row = session.get(SpaceParticipantRow, (space_id, participant.user_id))
    was_present = False
    if row is None:
        row = SpaceParticipantRow(space_id=space_id, user_id=participant.user_id)
        session.add(row)
    else:
        was_present = bool(row.present)
    row.role = participant.role.value
    row.muted = participant.muted
    row.hand_raised = participant.hand_raised
    row.joined_at = participant.joined_at
    row.present = participant.present
    return int(participant.present) - int(was_present)


def present_participants(session: Session, space_id: int) -> list[SpaceParticipantRow]:
    """Stage first (host, co-hosts, speakers), then listeners by arrival."""
    stage_first = case(
        (SpaceParticipantRow.role == Role.HOST.value, 0),
        (SpaceParticipantRow.role == Role.COHOST.value, 1),
        (SpaceParticipantRow.role == Role.SPEAKER.value, 2),
        else_=3,
    )
    return list(
        session.scalars(
            select(SpaceParticipantRow)
            .where(SpaceParticipantRow.space_id == space_id, SpaceParticipantRow.present.is_(True))
            .order_by(stage_first, SpaceParticipantRow.joined_at)
        )
    )


def may_react(session: Session, space_id: int) -> list[int]:
    """Everyone present in the Space if it is live, but nobody blocked with its host."""
    host = select(SpaceRow.host_id).where(SpaceRow.id == space_id).scalar_subquery()
    participant = SpaceParticipantRow.user_id
    blocked = exists().where(
        or_(
            and_(BlockRow.blocker_id == participant, BlockRow.blocked_id == host),
            and_(BlockRow.blocker_id == host, BlockRow.blocked_id == participant),
        )
    )
    live = exists().where(SpaceRow.id == space_id, SpaceRow.state == SpaceState.LIVE.value)
    return list(
        session.scalars(
            select(participant).where(
                SpaceParticipantRow.space_id == space_id,
                SpaceParticipantRow.present.is_(True),
                live,
                ~blocked,
            )
        )
    )


def count_present(session: Session, space_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SpaceParticipantRow)
            .where(SpaceParticipantRow.space_id == space_id, SpaceParticipantRow.present.is_(True))
        )
        or 0
    )


def mark_everyone_gone(session: Session, space_id: int) -> None:
    session.execute(
        update(SpaceParticipantRow)
        .where(SpaceParticipantRow.space_id == space_id, SpaceParticipantRow.present.is_(True))
        .values(present=False, hand_raised=False)
    )


def present_in_live_spaces(session: Session) -> list[tuple[int, int, bool]]:
    rows = session.execute(
        select(SpaceParticipantRow.space_id, SpaceParticipantRow.user_id, SpaceRow.host_id)
        .join(SpaceRow, SpaceRow.id == SpaceParticipantRow.space_id)
        .where(SpaceRow.state == "live", SpaceParticipantRow.present.is_(True))
    )
    return [(space_id, user_id, user_id == host_id) for space_id, user_id, host_id in rows]


def live_space_of_host(session: Session, host_id: int) -> SpaceRow | None:
    return session.scalars(
        select(SpaceRow).where(SpaceRow.host_id == host_id, SpaceRow.state == "live")
    ).first()


def live_spaces_of(session: Session, user_ids: set[int]) -> dict[int, int]:
    """user id -> the live Space they host or speak in, for the avatars' live ring.

    Two queries whatever the number of users; hosting wins over speaking elsewhere.
    """
    if not user_ids:
        return {}
    speaking = session.execute(
        select(SpaceParticipantRow.user_id, SpaceParticipantRow.space_id)
        .join(SpaceRow, SpaceRow.id == SpaceParticipantRow.space_id)
        .where(
            SpaceParticipantRow.user_id.in_(user_ids),
            SpaceParticipantRow.present.is_(True),
            SpaceParticipantRow.role.in_(("cohost", "speaker")),
            SpaceRow.state == "live",
        )
    )
    found = {user_id: space_id for user_id, space_id in speaking}
    hosting = session.execute(
        select(SpaceRow.host_id, SpaceRow.id).where(
            SpaceRow.host_id.in_(user_ids), SpaceRow.state == "live"
        )
    )
    found.update({host_id: space_id for host_id, space_id in hosting})
    return found


# Invites, bans, reminders ---------------------------------------------------------------


def get_invite(session: Session, space_id: int, user_id: int) -> SpaceInviteRow | None:
    return session.get(SpaceInviteRow, (space_id, user_id))


def put_invite(session: Session, row: SpaceInviteRow) -> None:
    existing = session.get(SpaceInviteRow, (row.space_id, row.user_id))
    if existing is None:
        session.add(row)
    else:
        existing.role = row.role
        existing.invited_by = row.invited_by
        existing.created_at = row.created_at


def delete_invite(session: Session, space_id: int, user_id: int) -> None:
    session.execute(
        delete(SpaceInviteRow).where(
            SpaceInviteRow.space_id == space_id, SpaceInviteRow.user_id == user_id
        )
    )


def invited_ids(session: Session, space_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {space_id: [] for space_id in space_ids}
    if not space_ids:
        return result
    for space_id, user_id in session.execute(
        select(SpaceInviteRow.space_id, SpaceInviteRow.user_id).where(
            SpaceInviteRow.space_id.in_(space_ids)
        )
    ):
        result[space_id].append(user_id)
    return result


def blocked_with(session: Session, user_id: int, host_id: int) -> bool:
    """Whether either blocked the other, in one query."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    or_(
                        and_(BlockRow.blocker_id == user_id, BlockRow.blocked_id == host_id),
                        and_(BlockRow.blocker_id == host_id, BlockRow.blocked_id == user_id),
                    )
                )
            )
        )
    )


def entry_barriers(session: Session, user_id: int, host_id: int) -> tuple[bool, bool]:
    """(blocked either way, banned by the host), in one query: what a join must know."""
    blocked = exists().where(
        or_(
            and_(BlockRow.blocker_id == user_id, BlockRow.blocked_id == host_id),
            and_(BlockRow.blocker_id == host_id, BlockRow.blocked_id == user_id),
        )
    )
    banned = exists().where(HostBanRow.host_id == host_id, HostBanRow.user_id == user_id)
    row = session.execute(select(blocked, banned)).one()
    return bool(row[0]), bool(row[1])


def is_banned(session: Session, host_id: int, user_id: int) -> bool:
    return session.get(HostBanRow, (host_id, user_id)) is not None


def add_ban(session: Session, row: HostBanRow) -> None:
    if session.get(HostBanRow, (row.host_id, row.user_id)) is None:
        session.add(row)


def add_reminder(session: Session, row: SpaceReminderRow) -> bool:
    if session.get(SpaceReminderRow, (row.space_id, row.user_id)) is not None:
        return False
    session.add(row)
    session.execute(
        update(SpaceRow)
        .where(SpaceRow.id == row.space_id)
        .values(subscriber_count=SpaceRow.subscriber_count + 1)
    )
    return True


def reminder_user_ids(session: Session, space_id: int) -> list[int]:
    return list(
        session.scalars(
            select(SpaceReminderRow.user_id).where(SpaceReminderRow.space_id == space_id)
        )
    )


def has_reminder(session: Session, space_id: int, user_id: int) -> bool:
    return session.get(SpaceReminderRow, (space_id, user_id)) is not None


def follower_ids(session: Session, user_id: int) -> list[int]:
    return list(
        session.scalars(select(FollowRow.follower_id).where(FollowRow.followee_id == user_id))
    )


# Event log ------------------------------------------------------------------------------


def append_event(
    session: Session, space_row: SpaceRow, kind: str, data_json: str, at: datetime
) -> int:
    """Gives the event the Space's next seq; the caller holds the Space row's write lock."""
    space_row.event_seq = space_row.event_seq + 1
    session.add(
        SpaceEventRow(
            space_id=space_row.id, seq=space_row.event_seq, type=kind, data=data_json, at=at
        )
    )
    return space_row.event_seq


def events_since(
    session: Session, space_id: int, since_seq: int, limit: int
) -> list[SpaceEventRow]:
    return list(
        session.scalars(
            select(SpaceEventRow)
            .where(SpaceEventRow.space_id == space_id, SpaceEventRow.seq > since_seq)
            .order_by(SpaceEventRow.seq)
            .limit(limit)
        )
    )


# Discovery ------------------------------------------------------------------------------


def discovery_query(
    viewer_id: int | None, state: SpaceState, text_query: str | None
) -> Select[SpaceRow]:
    query = select(SpaceRow).where(SpaceRow.state == state.value)
    if text_query:
        pattern = (
            "%"
            + text_query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        query = query.where(
            or_(
                func.lower(SpaceRow.title).like(pattern, escape="\\"),
                func.lower(SpaceRow.topic_ids).like(pattern, escape="\\"),
            )
        )
    if viewer_id is not None:
        # A Space of someone who blocked you (or whom you blocked) is never shown to you.
        query = query.where(
            ~exists().where(
                or_(
                    and_(BlockRow.blocker_id == SpaceRow.host_id, BlockRow.blocked_id == viewer_id),
                    and_(BlockRow.blocker_id == viewer_id, BlockRow.blocked_id == SpaceRow.host_id),
                )
            )
        )
    return query


def followed_first(viewer_id: int | None) -> object:
    """0 for Spaces hosted by someone the viewer follows, else 1: sorts them first."""
    if viewer_id is None:
        return None
    return case(
        (
            exists().where(
                FollowRow.follower_id == viewer_id, FollowRow.followee_id == SpaceRow.host_id
            ),
            0,
        ),
        else_=1,
    )
