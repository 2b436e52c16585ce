"""Serves each Space's HLS files with headers a CDN or nginx can cache on."""

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from townhall.domain.errors import NotFound
from townhall.services.spaces import parse_space_id

router = APIRouter(tags=["live audio"])

FILE_NAME = re.compile(r"(index\.m3u8|seg\d{1,12}-\d{5}\.ts)")
SEGMENT_CACHE = "public, max-age=31536000, immutable"
"""Segments never change once written, so caches may keep them for good."""
LIVE_PLAYLIST_CACHE = "public, max-age=1"
"""A live playlist changes every segment; a one-second cache still collapses a crowd."""
ENDED_PLAYLIST_CACHE = "public, max-age=3600"


@router.get("/spaces/{space_id}/hls/{name}", response_class=FileResponse)
def hls_file(space_id: str, name: str, request: Request) -> FileResponse:
    parsed = parse_space_id(space_id)
    if not FILE_NAME.fullmatch(name):
        raise NotFound("No such HLS file.", code="hls_not_found")
    root: Path = request.app.state.container.settings.hls_dir
    path = root / str(parsed) / name
    if not path.is_file():
        raise NotFound("This Space has no HLS stream (yet).", code="hls_not_found")
    if name.endswith(".ts"):
        return FileResponse(path, media_type="video/mp2t", headers={"Cache-Control": SEGMENT_CACHE})
    ended = "#EXT-X-ENDLIST" in path.read_text(encoding="utf-8", errors="replace")
    return FileResponse(
        path,
        media_type="application/vnd.apple.mpegurl",
        headers={"Cache-Control": ENDED_PLAYLIST_CACHE if ended else LIVE_PLAYLIST_CACHE},
    )
