"""Routes for a Space's transcript (JSON or WebVTT) and search across transcripts."""

from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Query, Response

from townhall.api.auth import MaybeUser, Services
from townhall.api.routes import ERROR_RESPONSES
from townhall.services import captions
from townhall.services.json import to_json
from townhall.services.spaces import parse_space_id

router = APIRouter(prefix="/api/v1", tags=["transcripts"], responses=ERROR_RESPONSES)


class TranscriptFormat(StrEnum):
    JSON = "json"
    VTT = "vtt"


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _vtt_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(lines: list[captions.TranscriptLine]) -> str:
    """One cue per caption, the speaker as a voice span (`<v name>`), as players show it."""
    out = ["WEBVTT", ""]
    for number, line in enumerate(lines, start=1):
        end_ms = line.offset_ms + max(line.duration_ms, 1)
        name = line.user.display_name or line.user.username if line.user else line.user_id
        voice = _vtt_escape(str(name)).replace("\n", " ")
        out += [
            str(number),
            f"{_vtt_time(line.offset_ms)} --> {_vtt_time(end_ms)}",
            f"<v {voice}>{_vtt_escape(line.text)}",
            "",
        ]
    return "\n".join(out)


@router.get(
    "/spaces/{space_id}/transcript",
    response_model=None,
    responses={
        200: {
            "description": "`{data: [line]}`, or WebVTT with `?format=vtt`",
            "content": {"application/json": {}, "text/vtt": {"schema": {"type": "string"}}},
        }
    },
)
def transcript(
    space_id: str,
    viewer: MaybeUser,
    ctx: Services,
    format: TranscriptFormat = TranscriptFormat.JSON,
) -> Any:
    lines = captions.get_transcript(
        ctx, viewer.user_id if viewer else None, parse_space_id(space_id)
    )
    if format is TranscriptFormat.VTT:
        return Response(to_webvtt(lines), media_type="text/vtt; charset=utf-8")
    return {"data": to_json(lines)}


@router.get("/search/transcripts")
def search_transcripts(
    viewer: MaybeUser, ctx: Services, q: str = Query(min_length=1, max_length=200)
) -> dict[str, Any]:
    hits = captions.search_transcripts(ctx, viewer.user_id if viewer else None, q)
    return {"data": to_json(hits)}
