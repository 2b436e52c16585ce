"""Queries about what hangs off a live Space: pinned posts, shared posts and polls."""

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from townhall.storage.tables import PollRow, PollVoteRow, PostRow, SpacePinRow


def pinned_ids(session: Session, space_ids: list[int]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {space_id: [] for space_id in space_ids}
    if not space_ids:
        return result
    rows = session.execute(
        select(SpacePinRow.space_id, SpacePinRow.post_id)
        .where(SpacePinRow.space_id.in_(space_ids))
        .order_by(SpacePinRow.created_at)
    )
    for space_id, post_id in rows:
        result[space_id].append(post_id)
    return result


def add_pin(session: Session, row: SpacePinRow) -> bool:
    if session.get(SpacePinRow, (row.space_id, row.post_id)) is not None:
        return False
    session.add(row)
    session.flush()
    return True


def remove_pin(session: Session, space_id: int, post_id: int) -> bool:
    result = session.execute(
        delete(SpacePinRow).where(SpacePinRow.space_id == space_id, SpacePinRow.post_id == post_id)
    )
    return bool(getattr(result, "rowcount", 0))


def shared_posts(session: Session, space_id: int, limit: int) -> list[PostRow]:
    return list(
        session.scalars(
            select(PostRow)
            .where(PostRow.space_id == space_id)
            .order_by(PostRow.id.desc())
            .limit(limit)
        )
    )


def get_poll(session: Session, space_id: int, poll_id: int) -> PollRow | None:
    row = session.get(PollRow, poll_id)
    return row if row is not None and row.space_id == space_id else None


def list_polls(session: Session, space_id: int) -> list[PollRow]:
    return list(
        session.scalars(
            select(PollRow).where(PollRow.space_id == space_id).order_by(PollRow.id.desc())
        )
    )


def open_polls(session: Session, space_id: int) -> list[PollRow]:
    return list(
        session.scalars(
            select(PollRow).where(PollRow.space_id == space_id, PollRow.closed_at.is_(None))
        )
    )


def tallies(session: Session, poll_ids: list[int]) -> dict[int, dict[int, int]]:
    result: dict[int, dict[int, int]] = {poll_id: {} for poll_id in poll_ids}
    if not poll_ids:
        return result
    rows = session.execute(
        select(PollVoteRow.poll_id, PollVoteRow.option, func.count())
        .where(PollVoteRow.poll_id.in_(poll_ids))
        .group_by(PollVoteRow.poll_id, PollVoteRow.option)
    )
    for poll_id, option, count in rows:
        result[poll_id][option] = int(count)
    return result


def votes_of(session: Session, poll_ids: list[int], user_id: int) -> dict[int, int]:
    if not poll_ids:
        return {}
    rows = session.execute(
        select(PollVoteRow.poll_id, PollVoteRow.option).where(
            PollVoteRow.poll_id.in_(poll_ids), PollVoteRow.user_id == user_id
        )
    )
    return {poll_id: option for poll_id, option in rows}


def has_voted(session: Session, poll_id: int, user_id: int) -> bool:
    return session.get(PollVoteRow, (poll_id, user_id)) is not None


def add_vote(session: Session, row: PollVoteRow) -> None:
    session.add(row)
    session.flush()
