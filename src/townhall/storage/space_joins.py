"""The statements of a listener's join, in SQLAlchemy Core, built once.

A join storm runs this at tens a second inside the one write transaction SQLite allows:
here a join costs seven small statements and no ORM unit-of-work bookkeeping (which made
up most of the ~10 ms a join used to take). Only a join uses it; every other change of a
Space goes through the ORM in services.spaces.commit_change.
"""

from datetime import datetime
from typing import cast

from sqlalchemy import (
    Connection,
    Row,
    Table,
    and_,
    bindparam,
    exists,
    insert,
    or_,
    select,
    update,
)

from townhall.domain.spaces.model import Participant
from townhall.storage.tables import (
    BlockRow,
    HostBanRow,
    SpaceEventRow,
    SpaceParticipantRow,
    SpaceRow,
    UserRow,
)

_spaces = cast(Table, SpaceRow.__table__)
_participants = cast(Table, SpaceParticipantRow.__table__)
_events = cast(Table, SpaceEventRow.__table__)
_blocks = cast(Table, BlockRow.__table__)
_bans = cast(Table, HostBanRow.__table__)
_users = cast(Table, UserRow.__table__)

_SPACE = select(_spaces).where(_spaces.c.id == bindparam("space_id"))
_SPACE_LOCKED = _SPACE.with_for_update()

_BLOCKED = exists().where(
    or_(
        and_(
            _blocks.c.blocker_id == bindparam("user_id"),
            _blocks.c.blocked_id == bindparam("host_id"),
        ),
        and_(
            _blocks.c.blocker_id == bindparam("host_id"),
            _blocks.c.blocked_id == bindparam("user_id"),
        ),
    )
)
_BANNED = exists().where(
    _bans.c.host_id == bindparam("host_id"), _bans.c.user_id == bindparam("user_id")
)
_BARRIERS = select(_BLOCKED, _BANNED)

_PARTICIPANT = select(_participants).where(
    _participants.c.space_id == bindparam("space_id"),
    _participants.c.user_id == bindparam("user_id"),
)
_SUMMARY = select(
    _users.c.id, _users.c.username, _users.c.display_name, _users.c.avatar_path
).where(_users.c.id == bindparam("user_id"))
_INSERT_PARTICIPANT = insert(_participants)
_UPDATE_PARTICIPANT = (
    update(_participants)
    .where(
        _participants.c.space_id == bindparam("p_space_id"),
        _participants.c.user_id == bindparam("p_user_id"),
    )
    .values(
        role=bindparam("role"),
        muted=bindparam("muted"),
        hand_raised=bindparam("hand_raised"),
        joined_at=bindparam("joined_at"),
        present=bindparam("present"),
    )
)
_INSERT_EVENT = insert(_events)
_UPDATE_COUNTERS = (
    update(_spaces)
    .where(_spaces.c.id == bindparam("s_id"))
    .values(event_seq=bindparam("event_seq"), participant_count=bindparam("participant_count"))
)


def space(conn: Connection, space_id: int) -> Row[tuple[object, ...]] | None:
    """The Space's row, locked for the transaction on PostgreSQL (SQLite's write lock is
    already the whole database's)."""
    statement = _SPACE_LOCKED if conn.dialect.name == "postgresql" else _SPACE
    return conn.execute(statement, {"space_id": space_id}).first()


def barriers(conn: Connection, user_id: int, host_id: int) -> tuple[bool, bool]:
    """(blocked either way, banned by the host)."""
    row = conn.execute(_BARRIERS, {"user_id": user_id, "host_id": host_id}).one()
    return bool(row[0]), bool(row[1])


def participant(conn: Connection, space_id: int, user_id: int) -> Row[tuple[object, ...]] | None:
    return conn.execute(_PARTICIPANT, {"space_id": space_id, "user_id": user_id}).first()


def summary_row(conn: Connection, user_id: int) -> tuple[int, str, str, str | None] | None:
    row = conn.execute(_SUMMARY, {"user_id": user_id}).first()
    return (row[0], row[1], row[2], row[3]) if row is not None else None


def save(conn: Connection, space_id: int, person: Participant, existed: bool) -> None:
    values = {
        "role": person.role.value,
        "muted": person.muted,
        "hand_raised": person.hand_raised,
        "joined_at": person.joined_at,
        "present": person.present,
    }
    if existed:
        conn.execute(
            _UPDATE_PARTICIPANT, {"p_space_id": space_id, "p_user_id": person.user_id, **values}
        )
    else:
        conn.execute(
            _INSERT_PARTICIPANT, {"space_id": space_id, "user_id": person.user_id, **values}
        )


def append_event(
    conn: Connection, space_id: int, seq: int, kind: str, data_json: str, at: datetime
) -> None:
    conn.execute(
        _INSERT_EVENT, {"space_id": space_id, "seq": seq, "type": kind, "data": data_json, "at": at}
    )


def set_counters(conn: Connection, space_id: int, event_seq: int, participant_count: int) -> None:
    conn.execute(
        _UPDATE_COUNTERS,
        {"s_id": space_id, "event_seq": event_seq, "participant_count": participant_count},
    )
