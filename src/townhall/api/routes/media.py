"""WebRTC signalling: JSON offer/answer for our client, WHIP and WHEP for any other."""

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from townhall.api.auth import CurrentUser
from townhall.api.errors import ApiError
from townhall.api.routes import ERROR_RESPONSES
from townhall.container import Container
from townhall.media.sdp import MAX_SDP_BYTES
from townhall.services.spaces import parse_space_id

router = APIRouter(
    prefix="/api/v1/spaces/{space_id}", tags=["live audio"], responses=ERROR_RESPONSES
)

SDP_MEDIA_TYPE = "application/sdp"


class Offer(BaseModel):
    model_config = ConfigDict(strict=True)
    sdp: str = Field(max_length=MAX_SDP_BYTES)
    type: Literal["offer"]


class Answer(BaseModel):
    sdp: str
    type: Literal["answer"]
    session_id: str = Field(description="hang up with DELETE .../rtc/sessions/{session_id}")


def _media(request: Request) -> Any:
    container: Container = request.app.state.container
    return container.media


@router.post("/rtc/publish", response_model=Answer)
async def publish(space_id: str, body: Offer, principal: CurrentUser, request: Request) -> Any:
    session_id, sdp = await _media(request).publish(
        parse_space_id(space_id), principal.user_id, body.sdp
    )
    return {"sdp": sdp, "type": "answer", "session_id": session_id}


@router.post("/rtc/listen", response_model=Answer)
async def listen(space_id: str, body: Offer, principal: CurrentUser, request: Request) -> Any:
    session_id, sdp = await _media(request).listen(
        parse_space_id(space_id), principal.user_id, body.sdp
    )
    return {"sdp": sdp, "type": "answer", "session_id": session_id}


@router.delete("/rtc/sessions/{session_id}", status_code=204)
async def hang_up(
    space_id: str, session_id: str, principal: CurrentUser, request: Request
) -> Response:
    await _media(request).hang_up(parse_space_id(space_id), session_id[:64], principal.user_id)
    return Response(status_code=204)


async def _sdp_body(request: Request) -> str:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != SDP_MEDIA_TYPE:
        raise ApiError(415, "WHIP and WHEP offers are application/sdp.")
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "The SDP offer is not UTF-8.", code="bad_sdp") from exc


SDP_BODY = {
    "requestBody": {
        "required": True,
        "content": {SDP_MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


@router.post("/whip", status_code=201, openapi_extra=SDP_BODY, response_class=Response)
async def whip(space_id: str, principal: CurrentUser, request: Request) -> Response:
    """WHIP (RFC 9725): publish as a speaker from any WHIP client."""
    parsed = parse_space_id(space_id)
    session_id, sdp = await _media(request).publish(
        parsed, principal.user_id, await _sdp_body(request)
    )
    return Response(
        sdp,
        status_code=201,
        media_type=SDP_MEDIA_TYPE,
        headers={"Location": f"/api/v1/spaces/{parsed}/whip/{session_id}"},
    )


@router.post("/whep", status_code=201, openapi_extra=SDP_BODY, response_class=Response)
async def whep(space_id: str, principal: CurrentUser, request: Request) -> Response:
    """WHEP: listen from any WHEP player."""
    parsed = parse_space_id(space_id)
    session_id, sdp = await _media(request).listen(
        parsed, principal.user_id, await _sdp_body(request)
    )
    return Response(
        sdp,
        status_code=201,
        media_type=SDP_MEDIA_TYPE,
        headers={"Location": f"/api/v1/spaces/{parsed}/whep/{session_id}"},
    )


@router.delete("/whip/{session_id}")
@router.delete("/whep/{session_id}")
async def whip_hang_up(
    space_id: str, session_id: str, principal: CurrentUser, request: Request
) -> Response:
    await _media(request).hang_up(parse_space_id(space_id), session_id[:64], principal.user_id)
    return Response(status_code=200)
