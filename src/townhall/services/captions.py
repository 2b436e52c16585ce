"""Use cases for captions: keep a final caption with its Space, read and search transcripts.

A final caption is a state event (stored with a seq, so reconnecting clients and the
replay get it) and a transcript segment, written in one transaction; interim captions
never touch the database (the media layer publishes them as ephemeral events).
"""

from dataclasses import dataclass
from datetime import datetime

from townhall.domain.spaces.model import SpaceEvent
from townhall.services import space_log
from townhall.services.context import ServiceContext
from townhall.services.spaces import load
from townhall.services.views import UserSummary, user_summaries
from townhall.storage import spaces as spaces_store
from townhall.storage import transcripts as store
from townhall.storage.tables import TranscriptSegmentRow
from townhall.types import UserId

MAX_CAPTION_CHARS = 2000
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class TranscriptLine:
    user_id: int
    text: str
    offset_ms: int
    duration_ms: int
    user: UserSummary | None
    """Who spoke, so a transcript shows names without a lookup per line (our addition)."""


@dataclass(frozen=True)
class TranscriptHit:
    space_id: int
    offset_ms: int
    user_id: int
    text: str
    url: str
    """The Space's page at that moment (`?t=` seconds into the replay)."""
    space_title: str
    user: UserSummary | None


def do_record_caption(
    ctx: ServiceContext,
    space_id: int,
    user_id: int,
    text: str,
    offset_ms: int,
    duration_ms: int,
) -> None:
    """Called by the media layer for each final caption; a Space gone meanwhile is skipped."""
    text = text.strip()[:MAX_CAPTION_CHARS]
    if not text:
        return
    with ctx.uow.write() as uow:
        row = spaces_store.get_space_row(uow.session, space_id, for_update=True)
        if row is None:
            return
        now = ctx.clock()
        store.add_segment(
            uow.session,
            TranscriptSegmentRow(
                id=ctx.ids.next_id(),
                space_id=space_id,
                user_id=user_id,
                offset_ms=offset_ms,
                duration_ms=duration_ms,
                text=text,
                created_at=now,
            ),
        )
        event = SpaceEvent(
            "caption",
            {
                "user_id": user_id,
                "text": text,
                "final": True,
                "offset_ms": offset_ms,
                "duration_ms": duration_ms,
            },
        )
        space_log.record(uow, row, [event], now)


def captions_state(ctx: ServiceContext, space_id: int) -> tuple[bool, datetime | None]:
    """Whether the host has captions on, and when the Space went live (offsets count from
    there); for the media layer when a room opens."""
    with ctx.uow.read() as uow:
        row = spaces_store.get_space_row(uow.session, space_id)
        if row is None:
            return False, None
        return bool(row.captions), row.started_at


def get_transcript(
    ctx: ServiceContext, viewer_id: UserId | None, space_id: int
) -> list[TranscriptLine]:
    """Anyone who may see the Space may read its transcript, while live and after."""
    with ctx.uow.read() as uow:
        load(uow.session, space_id, viewer_id)
        rows = store.segments(uow.session, space_id)
        users = user_summaries(uow.session, {row.user_id for row in rows})
        return [
            TranscriptLine(
                row.user_id, row.text, row.offset_ms, row.duration_ms, users.get(row.user_id)
            )
            for row in rows
        ]


def search_transcripts(
    ctx: ServiceContext, viewer_id: UserId | None, query: str
) -> list[TranscriptHit]:
    """Every Space's transcript is public, but not to someone a block separates from its
    host: the same rule as opening the Space (a hidden Space's words stay hidden)."""
    with ctx.uow.read() as uow:
        rows = store.search(uow.session, query, SEARCH_LIMIT)
        spaces = store.space_titles_and_hosts(uow.session, {row.space_id for row in rows})
        if viewer_id is not None:
            hidden_hosts = {
                host_id
                for host_id in {host for _, host in spaces.values()}
                if host_id != viewer_id
                and spaces_store.blocked_with(uow.session, viewer_id, host_id)
            }
            rows = [row for row in rows if spaces[row.space_id][1] not in hidden_hosts]
        users = user_summaries(uow.session, {row.user_id for row in rows})
        return [
            TranscriptHit(
                row.space_id,
                row.offset_ms,
                row.user_id,
                row.text,
                url=f"/s/{row.space_id}?t={row.offset_ms // 1000}",
                space_title=spaces[row.space_id][0],
                user=users.get(row.user_id),
            )
            for row in rows
        ]
