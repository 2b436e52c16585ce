"""Routes for recordings, replays and clips, and the files they are made of."""

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from townhall.api.auth import CurrentUser, MaybeUser, Services
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.routes.hls import IMMUTABLE_CACHE, playlist_response
from townhall.api.schemas import parse_id
from townhall.api.space_schemas import SpacePage
from townhall.domain.errors import NotFound
from townhall.domain.recordings import CLIP_MAX_S, CLIP_MIN_S
from townhall.media import recording as files
from townhall.services import recordings
from townhall.services.json import to_json
from townhall.services.spaces import parse_space_id

router = APIRouter(tags=["recordings"], responses=ERROR_RESPONSES)


class Recording(BaseModel):
    state: Literal["recording", "processing", "ready", "failed"]
    duration_s: float
    playlist_url: str = Field(description="HLS playlist of the whole recording (relative)")
    download_url: str | None = Field(description="the single `.m4a` file, once ready")
    started_at: str
    size_bytes: int


class ReplayEvent(BaseModel):
    type: str = Field(
        description="reaction, speaker (a turn: `duration_ms`), caption, pin.added, "
        "pin.removed, poll.opened, poll.updated, poll.closed, post.shared, participant.*"
    )
    offset_ms: int
    data: dict[str, Any]


class ReplayEvents(BaseModel):
    data: list[ReplayEvent]


class ClipBody(BaseModel):
    model_config = ConfigDict(strict=True)
    start_offset_ms: int | None = Field(default=None, ge=0)
    duration_s: int | None = Field(default=None, ge=CLIP_MIN_S, le=CLIP_MAX_S)


class Clip(BaseModel):
    id: str
    url: str
    post_id: str
    space_id: str
    start_offset_ms: int
    duration_ms: int


@router.get("/api/v1/spaces/{space_id}/recording", response_model=Recording)
def get_recording(space_id: str, viewer: MaybeUser, ctx: Services) -> Any:
    viewer_id = viewer.user_id if viewer else None
    view = recordings.get_recording(ctx, viewer_id, parse_space_id(space_id))
    return to_json(view)


@router.delete("/api/v1/spaces/{space_id}/recording", status_code=204)
def delete_recording(space_id: str, principal: CurrentUser, ctx: Services) -> Response:
    recordings.do_delete_recording(ctx, principal.user_id, parse_space_id(space_id))
    return Response(status_code=204)


@router.get(
    "/api/v1/spaces/{space_id}/replay-events",
    response_class=Response,
    responses={200: {"model": ReplayEvents, "description": "in order of offset_ms"}},
)
def replay_events(space_id: str, viewer: MaybeUser, ctx: Services) -> Response:
    viewer_id = viewer.user_id if viewer else None
    body = recordings.replay_events_body(ctx, viewer_id, parse_space_id(space_id))
    return Response(body, media_type="application/json")


@router.post("/api/v1/spaces/{space_id}/clips", status_code=201, response_model=Clip)
def create_clip(space_id: str, body: ClipBody, principal: CurrentUser, ctx: Services) -> Any:
    view = recordings.do_clip(
        ctx, principal.user_id, parse_space_id(space_id), body.start_offset_ms, body.duration_s
    )
    return to_json(view)


@router.get("/api/v1/users/{username}/spaces", response_model=SpacePage)
def user_spaces(
    username: str,
    viewer: MaybeUser,
    ctx: Services,
    recorded: Literal["true"] = Query(
        default="true", description="only `true` for now: their recorded Spaces"
    ),
    cursor: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None),
) -> Any:
    viewer_id = viewer.user_id if viewer else None
    views, next_cursor = recordings.recorded_spaces(ctx, viewer_id, username, cursor, limit)
    return {"data": to_json(views), "next_cursor": next_cursor}


@router.get("/spaces/{space_id}/hls/recording.m3u8", response_class=Response)
def recording_playlist(space_id: str, ctx: Services) -> Response:
    directory = recordings.require_playable(ctx, parse_space_id(space_id))
    return playlist_response(files.recording_playlist(directory).encode())


@router.get("/spaces/{space_id}/recording.m4a", response_class=Response)
async def recording_download(space_id: str, request: Request, ctx: Services) -> Response:
    """Seekable (byte ranges): the replay page plays this file."""
    directory = await run_in_threadpool(recordings.require_playable, ctx, parse_space_id(space_id))
    path = directory / files.DOWNLOAD_NAME
    if not path.is_file():
        raise NotFound("The recording is not ready.", code="recording_not_found")
    return FileResponse(path, media_type="audio/mp4", headers={"Cache-Control": "no-cache"})


@router.get("/clips/{name}", response_class=Response)
async def clip_file(name: str, ctx: Services) -> Response:
    clip_id = parse_id(name.removesuffix(".m4a")) if name.endswith(".m4a") else None
    if clip_id is None or clip_id < 0:
        raise NotFound("No such clip.", code="clip_not_found")
    path = await run_in_threadpool(recordings.require_clip_file, ctx, clip_id)
    return FileResponse(path, media_type="audio/mp4", headers={"Cache-Control": IMMUTABLE_CACHE})
