"""Routes for direct messages and the home timeline's row of live Spaces."""

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from townhall.api.auth import CurrentUser, Services
from townhall.api.client_ip import client_ip
from townhall.api.message_schemas import (
    Conversation,
    ConversationPage,
    Message,
    MessageBody,
    MessagePage,
    ReadBody,
    StartConversationBody,
)
from townhall.api.responses import json_response
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.schemas import parse_id
from townhall.api.space_schemas import SpacePage
from townhall.domain.errors import NotFound
from townhall.services import conversations, live_spaces
from townhall.services.json import to_json

router = APIRouter(prefix="/api/v1", tags=["messages"], responses=ERROR_RESPONSES)


def _conversation_id(raw: str) -> int:
    parsed = parse_id(raw)
    if parsed is None or parsed == -1:
        raise NotFound("No such conversation.", code="conversation_not_found")
    return parsed


@router.post(
    "/conversations",
    response_model=Conversation,
    status_code=201,
    responses={200: {"model": Conversation, "description": "The one you already have"}},
)
def start_conversation(body: StartConversationBody, principal: CurrentUser, ctx: Services) -> Any:
    """201 with a new conversation, or 200 with the one you already have with that person."""
    user_ids = None
    if body.user_ids is not None:
        user_ids = [parse_id(raw) or -1 for raw in body.user_ids]
        if -1 in user_ids:
            raise NotFound("No such user.", code="user_not_found")
    view, created = conversations.do_start_conversation(
        ctx, principal.user_id, user_ids, body.username
    )
    return json_response(to_json(view), status_code=201 if created else 200)


@router.get("/conversations", response_model=ConversationPage)
def list_conversations(
    principal: CurrentUser,
    ctx: Services,
    cursor: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None),
) -> Any:
    return json_response(
        to_json(conversations.list_conversations(ctx, principal.user_id, cursor, limit))
    )


@router.get("/conversations/{conversation_id}", response_model=Conversation)
def get_conversation(conversation_id: str, principal: CurrentUser, ctx: Services) -> Any:
    return to_json(
        conversations.get_conversation(ctx, principal.user_id, _conversation_id(conversation_id))
    )


@router.get("/conversations/{conversation_id}/messages", response_model=MessagePage)
def list_messages(
    conversation_id: str,
    principal: CurrentUser,
    ctx: Services,
    cursor: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None),
) -> Any:
    page = conversations.list_messages(
        ctx, principal.user_id, _conversation_id(conversation_id), cursor, limit
    )
    return json_response(to_json(page))


@router.post("/conversations/{conversation_id}/messages", response_model=Message, status_code=201)
def send_message(
    conversation_id: str,
    body: MessageBody,
    principal: CurrentUser,
    ctx: Services,
    request: Request,
) -> Any:
    space_id = parse_id(body.space_id)
    if space_id == -1:
        raise NotFound("No such Space.", code="space_not_found")
    view = conversations.do_send_message(
        ctx,
        principal.user_id,
        _conversation_id(conversation_id),
        body.text,
        space_id,
        body.invite_role,
        client_ip(request, ctx.settings.trusted_proxies),
    )
    return to_json(view)


@router.post("/conversations/{conversation_id}/read", status_code=204)
def mark_read(
    conversation_id: str,
    principal: CurrentUser,
    ctx: Services,
    body: ReadBody | None = None,
) -> Response:
    up_to = parse_id(body.up_to_id) if body is not None else None
    if up_to == -1:
        raise NotFound("No such message.", code="message_not_found")
    conversations.do_mark_read(ctx, principal.user_id, _conversation_id(conversation_id), up_to)
    return Response(status_code=204)


@router.get("/timeline/live-spaces", response_model=SpacePage)
def followed_live_spaces(
    principal: CurrentUser, ctx: Services, limit: int | None = Query(default=None)
) -> Any:
    """Live Spaces hosted or spoken in by people you follow (no cursor: one short row)."""
    views = live_spaces.live_spaces_of_followed(ctx, principal.user_id, limit)
    return {"data": to_json(views), "next_cursor": None}
