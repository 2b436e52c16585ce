"""Serves each Space's HLS files with headers a CDN or nginx can cache on."""

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from townhall.domain.errors import NotFound
from townhall.services.spaces import parse_space_id

router = APIRouter(tags=["live audio"])

FILE_NAME = re.compile(r"(index\.m3u8|seg\d{1,12}-\d{5}\.ts)")
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
"""Segments (and clips) never change once written, so caches may keep them for good."""
LIVE_PLAYLIST_CACHE = "public, max-age=1"
"""A live playlist changes every segment; a one-second cache still collapses a crowd."""
ENDED_PLAYLIST_CACHE = "public, max-age=3600"


@router.get("/spaces/{space_id}/hls/{name}", response_class=Response)
def hls_file(space_id: str, name: str, request: Request) -> Response:
    parsed = parse_space_id(space_id)
    if not FILE_NAME.fullmatch(name):
        raise NotFound("No such HLS file.", code="hls_not_found")
    root: Path = request.app.state.container.settings.hls_dir
    path = root / str(parsed) / name
    if not path.is_file():
        raise NotFound("This Space has no HLS stream (yet).", code="hls_not_found")
    if name.endswith(".ts"):
        return FileResponse(
            path, media_type="video/mp2t", headers={"Cache-Control": IMMUTABLE_CACHE}
        )
    # The muxer replaces the playlist while it runs: read it whole, then answer from memory,
    # so a reader never gets half of one version (FileResponse trusted a stale size).
    try:
        playlist = path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound("This Space has no HLS stream (yet).", code="hls_not_found") from exc
    return playlist_response(playlist)


def playlist_response(playlist: bytes) -> Response:
    """A playlist cached briefly while it grows, for an hour once it has ended."""
    ended = b"#EXT-X-ENDLIST" in playlist
    return Response(
        playlist,
        media_type="application/vnd.apple.mpegurl",
        headers={"Cache-Control": ENDED_PLAYLIST_CACHE if ended else LIVE_PLAYLIST_CACHE},
    )
