"""Use cases for direct messages: start a conversation, send, list, read, mark read.

Every change is pushed after commit to each member's own event stream
(`WS /api/v1/events`, channel `user:{id}`), as notifications are.
"""

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from townhall.domain import messages as rules
from townhall.domain.errors import Invalid, NotFound, RateLimited
from townhall.domain.pagination import check_limit, decode_cursor, encode_cursor
from townhall.domain.spaces.roles import Role
from townhall.services import space_stage
from townhall.services.context import ServiceContext
from townhall.services.json import format_time, to_json
from townhall.services.lookup import require_user, require_user_id
from townhall.services.notifications import user_channel
from townhall.services.spaces import load
from townhall.services.views import Page, UserSummary, user_summaries
from townhall.storage import conversations as store
from townhall.storage import social as social_store
from townhall.storage.tables import ConversationMemberRow, ConversationRow, MessageRow
from townhall.storage.uow import UnitOfWork
from townhall.types import UserId

log = logging.getLogger("townhall.conversations")


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: int
    sender_id: int
    sender: UserSummary | None
    text: str
    space_id: int | None
    invite_role: str | None
    created_at: datetime


@dataclass(frozen=True)
class ConversationView:
    id: int
    participant_ids: list[int]
    participants: list[UserSummary]
    last_message: MessageView | None
    unread_count: int
    created_at: datetime


def _message_views(session: Session, rows: list[MessageRow]) -> list[MessageView]:
    senders = user_summaries(session, {row.sender_id for row in rows})
    return [_message_view(row, senders.get(row.sender_id)) for row in rows]


def _message_view(row: MessageRow, sender: UserSummary | None) -> MessageView:
    return MessageView(
        id=row.id,
        conversation_id=row.conversation_id,
        sender_id=row.sender_id,
        sender=sender,
        text=row.text,
        space_id=row.space_id,
        invite_role=row.invite_role,
        created_at=row.created_at,
    )


def _conversation_views(
    session: Session, viewer_id: int, rows: list[ConversationRow]
) -> list[ConversationView]:
    """A page of conversations in five queries: members, people, live Spaces, last
    messages and unread counts."""
    ids = [row.id for row in rows]
    members = store.member_ids(session, ids)
    people = user_summaries(session, {uid for uids in members.values() for uid in uids})
    last = store.get_messages(session, [row.last_message_id for row in rows if row.last_message_id])
    unread = store.unread_counts(session, viewer_id, ids)
    return [
        ConversationView(
            id=row.id,
            participant_ids=members[row.id],
            participants=[people[uid] for uid in members[row.id] if uid in people],
            last_message=(
                _message_view(
                    last[row.last_message_id], people.get(last[row.last_message_id].sender_id)
                )
                if row.last_message_id in last
                else None
            ),
            unread_count=unread.get(row.id, 0),
            created_at=row.created_at,
        )
        for row in rows
    ]


def _frame(kind: str, at: datetime, data: Any) -> dict[str, Any]:
    return {"type": kind, "space_id": None, "seq": None, "at": format_time(at), "data": data}


def _access(session: Session, conversation_id: int, user_id: int) -> tuple[ConversationRow, int]:
    """The conversation and the caller's read marker; to anyone else it does not exist (404)."""
    row = store.get_conversation(session, conversation_id)
    member = store.get_member(session, conversation_id, user_id) if row is not None else None
    if row is None or member is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    return row, member.last_read_id


def _others(session: Session, conversation_id: int, user_id: int) -> list[int]:
    return [
        uid
        for uid in store.member_ids(session, [conversation_id])[conversation_id]
        if uid != user_id
    ]


def _check_not_blocked(session: Session, user_id: UserId, other_id: int) -> None:
    rules.check_can_message(
        user_id, UserId(other_id), social_store.block_state(session, user_id, other_id)
    )


def do_start_conversation(
    ctx: ServiceContext, user_id: UserId, user_ids: list[int] | None, username: str | None
) -> tuple[ConversationView, bool]:
    """Returns the one-to-one conversation with that person, creating it if need be
    (then True): starting it twice, from either side, gives the same conversation."""
    if (user_ids is None) == (username is None):
        raise Invalid("Give either user_ids or username.", code="invalid_recipients")
    if user_ids is not None and len(set(user_ids)) != 1:
        raise Invalid(
            "A conversation is between you and one other person.", code="invalid_recipients"
        )
    try:
        return _start(ctx, user_id, user_ids, username)
    except IntegrityError:  # both sides started it at once: the other one's stands
        return _start(ctx, user_id, user_ids, username)


def _start(
    ctx: ServiceContext, user_id: UserId, user_ids: list[int] | None, username: str | None
) -> tuple[ConversationView, bool]:
    with ctx.uow.write() as uow:
        if username is not None:
            other = require_user(uow.session, username)
        else:
            assert user_ids is not None
            other = require_user_id(uow.session, user_ids[0])
        _check_not_blocked(uow.session, user_id, other.id)
        key = rules.pair_key(user_id, other.id)
        row = store.get_by_pair_key(uow.session, key)
        created = row is None
        if row is None:
            conversation_id = ctx.ids.next_id()
            row = ConversationRow(
                id=conversation_id,
                pair_key=key,
                created_at=ctx.clock(),
                last_message_id=None,
                activity_id=conversation_id,
            )
            store.add_conversation(
                uow.session,
                row,
                [
                    ConversationMemberRow(
                        conversation_id=conversation_id, user_id=uid, last_read_id=0
                    )
                    for uid in (user_id, other.id)
                ],
            )
        view = _conversation_views(uow.session, user_id, [row])[0]
    if created:
        log.info("conversation %s between %s and %s", row.id, user_id, other.id)
    return view, created


def get_conversation(
    ctx: ServiceContext, user_id: UserId, conversation_id: int
) -> ConversationView:
    with ctx.uow.read() as uow:
        row, _ = _access(uow.session, conversation_id, user_id)
        return _conversation_views(uow.session, user_id, [row])[0]


def list_conversations(
    ctx: ServiceContext, user_id: UserId, cursor: str | None, limit: int | None
) -> Page[ConversationView]:
    """Most recently active first; the cursor is the last one's activity (newest message id)."""
    page_size = check_limit(limit)
    before = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        rows = store.list_for_user(uow.session, user_id, before, page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        views = _conversation_views(uow.session, user_id, rows)
    next_cursor = encode_cursor(rows[-1].activity_id) if more else None
    return Page(data=views, next_cursor=next_cursor)


def list_messages(
    ctx: ServiceContext,
    user_id: UserId,
    conversation_id: int,
    cursor: str | None,
    limit: int | None,
) -> Page[MessageView]:
    """Newest first, as chat clients load history upwards."""
    page_size = check_limit(limit)
    before_id = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        _access(uow.session, conversation_id, user_id)
        rows = store.list_messages(uow.session, conversation_id, before_id, page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        views = _message_views(uow.session, rows)
    return Page(data=views, next_cursor=encode_cursor(rows[-1].id) if more else None)


def do_send_message(
    ctx: ServiceContext,
    user_id: UserId,
    conversation_id: int,
    text: str,
    space_id: int | None,
    invite_role: str | None,
    client_ip: str,
) -> MessageView:
    """Sends a message, optionally carrying a Space and, from its host or a co-host, an
    invite to speak in it (the existing invite: the invitee also gets its notification)."""
    rules.check_message_text(text)
    role = _invite_role(invite_role, space_id)
    with ctx.uow.read() as uow:
        _access(uow.session, conversation_id, user_id)
        others = _others(uow.session, conversation_id, user_id)
        for other_id in others:
            _check_not_blocked(uow.session, user_id, other_id)
        if space_id is not None:
            load(uow.session, space_id, user_id)  # unknown or hidden from you: 404
    _check_rate(ctx, user_id, client_ip)
    if role is not None:
        assert space_id is not None
        for other_id in others:
            space_stage.do_invite(ctx, user_id, space_id, other_id, role)
    with ctx.uow.write() as uow:
        # Checked again inside the write: a block made meanwhile still stops the message.
        _access(uow.session, conversation_id, user_id)
        for other_id in others:
            _check_not_blocked(uow.session, user_id, other_id)
        row = MessageRow(
            id=ctx.ids.next_id(),
            conversation_id=conversation_id,
            sender_id=user_id,
            text=text,
            space_id=space_id,
            invite_role=role.value if role is not None else None,
            created_at=ctx.clock(),
        )
        store.add_message(uow.session, row)
        view = _message_views(uow.session, [row])[0]
        _publish(uow, [user_id, *others], _frame("message", row.created_at, to_json(view)))
    return view


def _check_rate(ctx: ServiceContext, user_id: UserId, client_ip: str) -> None:
    """Counts per sender and per client address (API.md: rate limits count both)."""
    wait_s = ctx.message_limiter.acquire(f"dm:{user_id}")
    if wait_s is None:
        wait_s = ctx.message_address_limiter.acquire(f"dm-ip:{client_ip}")
    if wait_s is not None:
        raise RateLimited(
            f"At most {rules.MESSAGES_PER_MINUTE} messages a minute.",
            retry_after_s=math.ceil(wait_s),
        )


def _invite_role(invite_role: str | None, space_id: int | None) -> Role | None:
    if invite_role is None:
        return None
    if space_id is None:
        raise Invalid("An invite needs the Space it is to.", code="invite_needs_space")
    if invite_role not in (Role.SPEAKER.value, Role.COHOST.value):
        raise Invalid("Invites are to speak or to co-host.", code="invalid_role")
    return Role(invite_role)


def _publish(uow: UnitOfWork, user_ids: list[int], frame: dict[str, Any]) -> None:
    for uid in user_ids:
        uow.emit(user_channel(uid), frame)


def do_mark_read(
    ctx: ServiceContext, user_id: UserId, conversation_id: int, up_to_id: int | None
) -> None:
    """Marks the conversation read up to a message (default: all of it). Your other tabs
    and devices hear of it, so their unread counts agree."""
    with ctx.uow.write() as uow:
        _, marker = _access(uow.session, conversation_id, user_id)
        latest = store.latest_message_id(uow.session, conversation_id) or 0
        target = latest if up_to_id is None else min(up_to_id, latest)
        store.mark_read(uow.session, conversation_id, user_id, target)
        data = {
            "conversation_id": str(conversation_id),
            "last_read_id": str(max(marker, target)),
            "unread_count": store.unread_counts(uow.session, user_id, [conversation_id]).get(
                conversation_id, 0
            ),
        }
        _publish(uow, [user_id], _frame("conversation.read", ctx.clock(), data))
