"""Queries about follows and blocks, with counters kept in the same transaction."""

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from townhall.domain.social import BlockState
from townhall.storage.tables import BlockRow, FollowRow, UserRow


def get_follow(session: Session, follower_id: int, followee_id: int) -> FollowRow | None:
    return session.scalars(
        select(FollowRow).where(
            FollowRow.follower_id == follower_id, FollowRow.followee_id == followee_id
        )
    ).first()


def add_follow(session: Session, row: FollowRow) -> None:
    session.add(row)
    session.flush()
    _bump_counts(session, row.follower_id, row.followee_id, +1)


def remove_follow(session: Session, follower_id: int, followee_id: int) -> bool:
    result = session.execute(
        delete(FollowRow).where(
            FollowRow.follower_id == follower_id, FollowRow.followee_id == followee_id
        )
    )
    removed = bool(getattr(result, "rowcount", 0))
    if removed:
        _bump_counts(session, follower_id, followee_id, -1)
    return removed


def _bump_counts(session: Session, follower_id: int, followee_id: int, delta: int) -> None:
    session.execute(
        update(UserRow)
        .where(UserRow.id == follower_id)
        .values(following_count=UserRow.following_count + delta)
    )
    session.execute(
        update(UserRow)
        .where(UserRow.id == followee_id)
        .values(followers_count=UserRow.followers_count + delta)
    )


def list_followers(
    session: Session, user_id: int, before_id: int | None, limit: int
) -> list[FollowRow]:
    query = select(FollowRow).where(FollowRow.followee_id == user_id)
    if before_id is not None:
        query = query.where(FollowRow.id < before_id)
    return list(session.scalars(query.order_by(FollowRow.id.desc()).limit(limit)))


def list_following(
    session: Session, user_id: int, before_id: int | None, limit: int
) -> list[FollowRow]:
    query = select(FollowRow).where(FollowRow.follower_id == user_id)
    if before_id is not None:
        query = query.where(FollowRow.id < before_id)
    return list(session.scalars(query.order_by(FollowRow.id.desc()).limit(limit)))


def following_ids_among(session: Session, follower_id: int, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(FollowRow.followee_id).where(
                FollowRow.follower_id == follower_id, FollowRow.followee_id.in_(user_ids)
            )
        )
    )


def follower_ids_among(session: Session, followee_id: int, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(FollowRow.follower_id).where(
                FollowRow.followee_id == followee_id, FollowRow.follower_id.in_(user_ids)
            )
        )
    )


def block_state(session: Session, a: int, b: int) -> BlockState:
    def blocks(blocker: int, blocked: int) -> bool:
        return bool(
            session.scalar(
                select(
                    exists().where(BlockRow.blocker_id == blocker, BlockRow.blocked_id == blocked)
                )
            )
        )

    return BlockState(a_blocks_b=blocks(a, b), b_blocks_a=blocks(b, a))


def blocked_ids_among(session: Session, blocker_id: int, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(BlockRow.blocked_id).where(
                BlockRow.blocker_id == blocker_id, BlockRow.blocked_id.in_(user_ids)
            )
        )
    )


def add_block(session: Session, row: BlockRow) -> bool:
    if session.get(BlockRow, (row.blocker_id, row.blocked_id)) is not None:
        return False
    session.add(row)
    session.flush()
    return True


def remove_block(session: Session, blocker_id: int, blocked_id: int) -> bool:
    result = session.execute(
        delete(BlockRow).where(BlockRow.blocker_id == blocker_id, BlockRow.blocked_id == blocked_id)
    )
    return bool(getattr(result, "rowcount", 0))


def blocker_ids_among(session: Session, blocked_id: int, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(BlockRow.blocker_id).where(
                BlockRow.blocked_id == blocked_id, BlockRow.blocker_id.in_(user_ids)
            )
        )
    )
