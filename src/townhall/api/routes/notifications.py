"""Routes for the notification list."""

from typing import Any

from fastapi import APIRouter, Query, Response

from townhall.api.auth import CurrentUser, Services
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.schemas import NotificationPage
from townhall.services import notifications
from townhall.services.json import to_json

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses=ERROR_RESPONSES)


@router.get("/notifications", response_model=NotificationPage)
def list_notifications(
    principal: CurrentUser,
    ctx: Services,
    cursor: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None),
) -> Any:
    return to_json(notifications.list_notifications(ctx, principal.user_id, cursor, limit))


@router.post("/notifications/read", status_code=204)
def mark_read(principal: CurrentUser, ctx: Services) -> Response:
    notifications.do_mark_notifications_read(ctx, principal.user_id)
    return Response(status_code=204)
