"""Queries about direct-message conversations, their members and messages.

Each list is a constant number of queries per page, whatever its length.
"""

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from townhall.storage.tables import ConversationMemberRow, ConversationRow, MessageRow


def get_conversation(session: Session, conversation_id: int) -> ConversationRow | None:
    return session.get(ConversationRow, conversation_id)


def get_by_pair_key(session: Session, key: str) -> ConversationRow | None:
    return session.scalars(select(ConversationRow).where(ConversationRow.pair_key == key)).first()


def get_member(
    session: Session, conversation_id: int, user_id: int
) -> ConversationMemberRow | None:
    return session.get(ConversationMemberRow, (conversation_id, user_id))


def add_conversation(
    session: Session, row: ConversationRow, members: list[ConversationMemberRow]
) -> None:
    session.add(row)
    session.flush()
    session.add_all(members)
    session.flush()


def member_ids(session: Session, conversation_ids: list[int]) -> dict[int, list[int]]:
    """conversation id -> its members' user ids."""
    found: dict[int, list[int]] = {cid: [] for cid in conversation_ids}
    if not conversation_ids:
        return found
    rows = session.execute(
        select(ConversationMemberRow.conversation_id, ConversationMemberRow.user_id)
        .where(ConversationMemberRow.conversation_id.in_(conversation_ids))
        .order_by(ConversationMemberRow.user_id)
    )
    for conversation_id, user_id in rows:
        found[conversation_id].append(user_id)
    return found


def list_for_user(
    session: Session, user_id: int, before_activity_id: int | None, limit: int
) -> list[ConversationRow]:
    """The user's conversations, most recently active first."""
    query = (
        select(ConversationRow)
        .join(
            ConversationMemberRow,
            ConversationMemberRow.conversation_id == ConversationRow.id,
        )
        .where(ConversationMemberRow.user_id == user_id)
    )
    if before_activity_id is not None:
        query = query.where(ConversationRow.activity_id < before_activity_id)
    return list(session.scalars(query.order_by(ConversationRow.activity_id.desc()).limit(limit)))


def unread_counts(session: Session, user_id: int, conversation_ids: list[int]) -> dict[int, int]:
    """conversation id -> messages from others newer than the user's read marker."""
    if not conversation_ids:
        return {}
    rows = session.execute(
        select(MessageRow.conversation_id, func.count())
        .join(
            ConversationMemberRow,
            (ConversationMemberRow.conversation_id == MessageRow.conversation_id)
            & (ConversationMemberRow.user_id == user_id),
        )
        .where(
            MessageRow.conversation_id.in_(conversation_ids),
            MessageRow.sender_id != user_id,
            MessageRow.id > ConversationMemberRow.last_read_id,
        )
        .group_by(MessageRow.conversation_id)
    )
    return {conversation_id: count for conversation_id, count in rows}


def get_messages(session: Session, message_ids: list[int]) -> dict[int, MessageRow]:
    if not message_ids:
        return {}
    rows = session.scalars(select(MessageRow).where(MessageRow.id.in_(message_ids)))
    return {row.id: row for row in rows}


def list_messages(
    session: Session, conversation_id: int, before_id: int | None, limit: int
) -> list[MessageRow]:
    query = select(MessageRow).where(MessageRow.conversation_id == conversation_id)
    if before_id is not None:
        query = query.where(MessageRow.id < before_id)
    return list(session.scalars(query.order_by(MessageRow.id.desc()).limit(limit)))


def add_message(session: Session, row: MessageRow) -> None:
    session.add(row)
    session.flush()
    session.execute(
        update(ConversationRow)
        .where(ConversationRow.id == row.conversation_id)
        .values(last_message_id=row.id, activity_id=row.id)
    )
    # Your own message is read by you: the sender's marker moves with it.
    mark_read(session, row.conversation_id, row.sender_id, row.id)


def latest_message_id(session: Session, conversation_id: int) -> int | None:
    return session.scalar(
        select(func.max(MessageRow.id)).where(MessageRow.conversation_id == conversation_id)
    )


def mark_read(session: Session, conversation_id: int, user_id: int, up_to_id: int) -> None:
    """Moves the marker forward only: a late or stale mark cannot un-read newer messages."""
    session.execute(
        update(ConversationMemberRow)
        .where(
            ConversationMemberRow.conversation_id == conversation_id,
            ConversationMemberRow.user_id == user_id,
            ConversationMemberRow.last_read_id < up_to_id,
        )
        .values(last_read_id=up_to_id)
    )
