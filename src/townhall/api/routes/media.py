"""WebRTC signalling: JSON offer/answer for our client, WHIP and WHEP for any other."""

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from townhall.api.auth import CurrentUser
from townhall.api.errors import ApiError
from townhall.api.forwarding import forward_to_owner
from townhall.api.rate_limits import rate_limited
from townhall.api.routes import ERROR_RESPONSES
from townhall.config import IceServer
from townhall.container import Container
from townhall.media.sdp import MAX_SDP_BYTES
from townhall.media.service import MediaElsewhere, WebRtcFull
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


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class RtcConfig(BaseModel):
    ice_servers: list[IceServerOut] = Field(
        description="pass as RTCPeerConnection's iceServers before making the offer"
    )
    hls_url: str = Field(description="the same mix over HLS, for when WebRTC is full")


def _media(request: Request) -> Any:
    container: Container = request.app.state.container
    return container.media


def _hls_url(space_id: int) -> str:
    return f"/spaces/{space_id}/hls/index.m3u8"


def _full(error: WebRtcFull) -> JSONResponse:
    """503 with the HLS address: the web client switches to HLS without a word."""
    return JSONResponse(
        {"error": {"code": error.code, "message": str(error), "hls_url": error.hls_url}},
        status_code=503,
    )


def _ice_links(servers: tuple[IceServer, ...]) -> str:
    """WHIP/WHEP clients learn the ICE servers from Link headers (RFC 9725 section 4.6)."""
    links = []
    for server in servers:
        for url in server.urls:
            link = f'<{url}>; rel="ice-server"'
            if server.username is not None and server.credential is not None:
                username = server.username.replace('"', "")
                credential = server.credential.replace('"', "")
                link += f'; username="{username}"; credential="{credential}"'
                link += '; credential-type="password"'
            links.append(link)
    return ", ".join(links)


def _sdp_answer(request: Request, sdp: str, location: str) -> Response:
    headers = {"Location": location}
    links = _ice_links(_media(request).ice_servers)
    if links:
        headers["Link"] = links
    return Response(sdp, status_code=201, media_type=SDP_MEDIA_TYPE, headers=headers)


@router.get("/rtc/config", response_model=RtcConfig)
async def rtc_config(space_id: str, principal: CurrentUser, request: Request) -> Any:
    """STUN/TURN servers for the browser's peer connection, and the HLS fallback."""
    servers = _media(request).ice_servers
    return {
        "ice_servers": [server.as_json() for server in servers],
        "hls_url": _hls_url(parse_space_id(space_id)),
    }


@router.post("/rtc/publish", response_model=Answer, dependencies=[rate_limited("webrtc_offer")])
async def publish(space_id: str, body: Offer, principal: CurrentUser, request: Request) -> Any:
    try:
        session_id, sdp = await _media(request).publish(
            parse_space_id(space_id), principal.user_id, body.sdp
        )
    except MediaElsewhere as moved:
        return await forward_to_owner(request, moved)
    return {"sdp": sdp, "type": "answer", "session_id": session_id}


@router.post(
    "/rtc/listen",
    response_model=Answer,
    dependencies=[rate_limited("webrtc_offer")],
    responses={503: {"description": "WebRTC is full for this Space: `hls_url` in the error"}},
)
async def listen(space_id: str, body: Offer, principal: CurrentUser, request: Request) -> Any:
    try:
        session_id, sdp = await _media(request).listen(
            parse_space_id(space_id), principal.user_id, body.sdp
        )
    except WebRtcFull as full:
        return _full(full)
    except MediaElsewhere as moved:
        return await forward_to_owner(request, moved)
    return {"sdp": sdp, "type": "answer", "session_id": session_id}


@router.delete("/rtc/sessions/{session_id}", status_code=204)
async def hang_up(
    space_id: str, session_id: str, principal: CurrentUser, request: Request
) -> Response:
    try:
        await _media(request).hang_up(parse_space_id(space_id), session_id[:64], principal.user_id)
    except MediaElsewhere as moved:
        return await forward_to_owner(request, moved)
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


@router.post(
    "/whip",
    status_code=201,
    openapi_extra=SDP_BODY,
    response_class=Response,
    dependencies=[rate_limited("webrtc_offer")],
)
async def whip(space_id: str, principal: CurrentUser, request: Request) -> Response:
    """WHIP (RFC 9725): publish as a speaker from any WHIP client."""
    parsed = parse_space_id(space_id)
    try:
        session_id, sdp = await _media(request).publish(
            parsed, principal.user_id, await _sdp_body(request)
        )
    except MediaElsewhere as moved:
        return await forward_to_owner(request, moved)
    return _sdp_answer(request, sdp, f"/api/v1/spaces/{parsed}/whip/{session_id}")


@router.post(
    "/whep",
    status_code=201,
    openapi_extra=SDP_BODY,
    response_class=Response,
    dependencies=[rate_limited("webrtc_offer")],
)
async def whep(space_id: str, principal: CurrentUser, request: Request) -> Response:
    """WHEP: listen from any WHEP player; 503 (with `hls_url`) when WebRTC is full."""
    parsed = parse_space_id(space_id)
    try:
        session_id, sdp = await _media(request).listen(
            parsed, principal.user_id, await _sdp_body(request)
        )
    except WebRtcFull as full:
        return _full(full)
    except MediaElsewhere as moved:
        return await forward_to_owner(request, moved)
    return _sdp_answer(request, sdp, f"/api/v1/spaces/{parsed}/whep/{session_id}")


@router.delete("/whip/{session_id}")
@router.delete("/whep/{session_id}")
async def whip_hang_up(
    space_id: str, session_id: str, principal: CurrentUser, request: Request
) -> Response:
    try:
        await _media(request).hang_up(parse_space_id(space_id), session_id[:64], principal.user_id)
    except MediaElsewhere as moved:
        return await forward_to_owner(request, moved)
    return Response(status_code=200)
