"""Use cases for notifications: create one (inside another use case) and list them."""

from townhall.domain.notifications import NotificationKind
from townhall.domain.pagination import check_limit, decode_cursor, encode_cursor
from townhall.services.context import ServiceContext
from townhall.services.json import format_time, to_json
from townhall.services.views import NotificationView, Page, notification_views
from townhall.storage import notifications as store
from townhall.storage.tables import NotificationRow
from townhall.storage.uow import UnitOfWork
from townhall.types import UserId

SESSION_ENDED = "session.ended"
"""On a user's channel: every session of that user ended (a suspension); their personal
sockets close with 4401 and the web client goes to the login page."""


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


def end_sessions(uow: UnitOfWork, user_id: int, at: str) -> None:
    """Tells every node to close the user's personal sockets once the transaction commits."""
    uow.emit(
        user_channel(user_id),
        {"type": SESSION_ENDED, "space_id": None, "seq": None, "at": at, "data": {}},
    )


def notify(
    ctx: ServiceContext,
    uow: UnitOfWork,
    user_id: UserId,
    kind: NotificationKind,
    actor_id: int | None = None,
    space_id: int | None = None,
    post_id: int | None = None,
) -> None:
    """Stores the notification in the caller's transaction; it is pushed once that commits."""
    row = NotificationRow(
        id=ctx.ids.next_id(),
        user_id=user_id,
        kind=kind.value,
        actor_id=actor_id,
        space_id=space_id,
        post_id=post_id,
        created_at=ctx.clock(),
        read=False,
    )
    store.add_notification(uow.session, row)
    view = notification_views(uow.session, [row])[0]
    uow.emit(
        user_channel(user_id),
        {
            "type": "notification",
            "space_id": None,
            "seq": None,
            "at": format_time(row.created_at),
            "data": to_json(view),
        },
    )


def list_notifications(
    ctx: ServiceContext, user_id: UserId, cursor: str | None, limit: int | None
) -> Page[NotificationView]:
    page_size = check_limit(limit)
    before_id = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        rows = store.list_notifications(uow.session, user_id, before_id, page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        views = notification_views(uow.session, rows)
    return Page(data=views, next_cursor=encode_cursor(rows[-1].id) if more else None)


def do_mark_notifications_read(ctx: ServiceContext, user_id: UserId) -> None:
    with ctx.uow.write() as uow:
        store.mark_all_read(uow.session, user_id)
