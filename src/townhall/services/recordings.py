"""Use cases for recordings, replays and clips.

```
 Space goes live (recording: true) ─> media opens the room, asks do_begin_recording
     room: HLS segments + part-{epoch}.m4a (media/hls.py), reactions/speaking -> do_store_moments
 Space ends ─> room closes ─> do_finish_recording: playlists ended, parts -> recording.m4a,
                                                  state ready (or failed), duration stored
 start-up ─> do_recover_recordings: what a crash left open is closed the same way
 every minute ─> do_sweep: finish what no room will; delete past the retention
```
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from townhall.domain.errors import NotFound
from townhall.domain.pagination import check_limit, decode_cursor, encode_cursor
from townhall.domain.recordings import (
    REPLAYED_LOG_TYPES,
    RecordingState,
    check_clip_window,
    check_may_clip,
    check_may_delete,
    speaker_turns,
)
from townhall.media import recording as files
from townhall.services import posts
from townhall.services.context import ServiceContext
from townhall.services.lookup import require_user
from townhall.services.space_views import SpaceView, space_views
from townhall.services.spaces import load, participant
from townhall.storage import recordings as store
from townhall.storage.tables import ClipRow, RecordingRow, SpaceMomentRow
from townhall.types import UserId

log = logging.getLogger("townhall.recordings")


def recording_dir(ctx: ServiceContext, space_id: int) -> Path:
    return ctx.settings.hls_dir / str(space_id)


def clip_path(ctx: ServiceContext, clip_id: int) -> Path:
    return ctx.settings.clips_dir / f"{clip_id}.m4a"


def playlist_url(space_id: int) -> str:
    return f"/spaces/{space_id}/hls/{files.RECORDING_PLAYLIST}"


def download_url(space_id: int) -> str:
    return f"/spaces/{space_id}/{files.DOWNLOAD_NAME}"


def clip_url(clip_id: int) -> str:
    return f"/clips/{clip_id}.m4a"


@dataclass(frozen=True)
class RecordingView:
    space_id: int
    state: str
    duration_s: float
    playlist_url: str
    download_url: str | None
    started_at: datetime
    size_bytes: int


@dataclass(frozen=True)
class ClipView:
    id: int
    url: str
    post_id: int
    space_id: int
    start_offset_ms: int
    duration_ms: int


def _view(ctx: ServiceContext, row: RecordingRow) -> RecordingView:
    duration_ms = row.duration_ms
    if row.state == RecordingState.RECORDING:
        duration_ms = round(files.read_timeline(recording_dir(ctx, row.space_id)).duration_s * 1000)
    return RecordingView(
        space_id=row.space_id,
        state=row.state,
        duration_s=round(duration_ms / 1000, 3),
        playlist_url=playlist_url(row.space_id),
        download_url=download_url(row.space_id) if row.state == RecordingState.READY else None,
        started_at=row.started_at,
        size_bytes=row.size_bytes,
    )


# While live ------------------------------------------------------------------------------


def do_begin_recording(ctx: ServiceContext, space_id: int) -> bool:
    """Asked when a Space's room opens: should it record? Starts the recording if so.

    A read first: most rooms are not recorded, and a room's first listener should not
    queue for the write lock to learn it."""
    with ctx.uow.read() as uow:
        loaded = load(uow.session, space_id, None)
        if loaded.row.state != "live" or not loaded.row.recording:
            return False
        existing = store.get_recording(uow.session, space_id)
        if existing is not None:
            return existing.state == RecordingState.RECORDING
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, None, lock=True)
        if loaded.row.state != "live":
            return False
        row = store.get_recording(uow.session, space_id, for_update=True)
        if row is not None:
            return row.state == RecordingState.RECORDING
        store.add_recording(
            uow.session,
            RecordingRow(
                space_id=space_id,
                state=RecordingState.RECORDING.value,
                started_at=ctx.clock(),
                finished_at=None,
                duration_ms=0,
                size_bytes=0,
            ),
        )
    log.info("space %s: recording", space_id)
    return True


def do_store_moments(
    ctx: ServiceContext, space_id: int, moments: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """Reactions and `speaking` are not in the event log: a replay needs them with their time."""
    rows = []
    for kind, at, data in moments:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            when = ctx.clock()
        rows.append(
            SpaceMomentRow(
                id=ctx.ids.next_id(),
                space_id=space_id,
                type=kind,
                data=json.dumps(data, separators=(",", ":")),
                at=when,
            )
        )
    with ctx.uow.write() as uow:
        if store.get_recording(uow.session, space_id) is None:
            return
        store.add_moments(uow.session, rows)


# Closing ---------------------------------------------------------------------------------


def do_finish_recording(ctx: ServiceContext, space_id: int, recovering: bool = False) -> str | None:
    """Once the Space has ended: ends the playlists, writes the download, stores the duration.

    Idempotent; returns the recording's state, None without one. One already processing is
    left to whoever started it, unless we are `recovering` from a crash that stopped them."""
    with ctx.uow.write() as uow:
        row = store.get_recording(uow.session, space_id, for_update=True)
        if row is None:
            return None
        space = load(uow.session, space_id, None).row
        if row.state == RecordingState.READY or space.state != "ended":
            return row.state
        if row.state == RecordingState.PROCESSING and not recovering:
            return row.state
        row.state = RecordingState.PROCESSING.value
    try:
        finished = files.finalize(recording_dir(ctx, space_id))
    except Exception:
        log.exception("space %s: the recording could not be finished", space_id)
        finished = None
    with ctx.uow.write() as uow:
        row = store.get_recording(uow.session, space_id, for_update=True)
        if row is None:  # deleted meanwhile
            files.delete_files(recording_dir(ctx, space_id))
            return None
        if finished is None:
            row.state = RecordingState.FAILED.value
        else:
            row.state = RecordingState.READY.value
            row.duration_ms = finished.duration_ms
            row.size_bytes = finished.size_bytes
        row.finished_at = ctx.clock()
        state = row.state
        log.info("space %s: recording %s (%d ms)", space_id, row.state, row.duration_ms)
    if state == RecordingState.READY:
        try:
            replay_events_body(ctx, None, space_id)  # gathered now, not by the first viewer
        except Exception:
            log.exception("space %s: gathering the replay events failed", space_id)
    return state


def do_recover_recordings(ctx: ServiceContext, elsewhere: set[int] | None = None) -> int:
    """At start-up no room is open here: what a crash left recording is closed and, if its
    Space ended meanwhile, finished; except the Spaces another node is recording right now
    (`elsewhere`). Safe to run again. Returns how many it looked at."""
    with ctx.uow.read() as uow:
        open_ids = store.recordings_in_states(
            uow.session, (RecordingState.RECORDING.value, RecordingState.PROCESSING.value)
        )
    open_ids = [space_id for space_id in open_ids if space_id not in (elsewhere or set())]
    for space_id in open_ids:
        if files.close_interrupted(recording_dir(ctx, space_id)):
            log.warning("space %s: closed a recording interrupted by a crash", space_id)
        do_finish_recording(ctx, space_id, recovering=True)
    return len(open_ids)


def live_recordings(ctx: ServiceContext) -> list[int]:
    with ctx.uow.read() as uow:
        return store.live_recordings(uow.session)


def do_sweep(ctx: ServiceContext, open_rooms: set[int]) -> None:
    """Finishes recordings whose Space ended without a room here; applies the retention."""
    with ctx.uow.read() as uow:
        open_ids = store.recordings_in_states(
            uow.session, (RecordingState.RECORDING.value, RecordingState.PROCESSING.value)
        )
    for space_id in open_ids:
        if space_id not in open_rooms:
            do_finish_recording(ctx, space_id)
    do_expire_recordings(ctx)


def do_expire_recordings(ctx: ServiceContext) -> int:
    days = ctx.settings.recording_retention_days
    if days <= 0:
        return 0
    cutoff = ctx.clock() - timedelta(days=days)
    with ctx.uow.read() as uow:
        expired = store.recordings_ended_before(uow.session, cutoff)
    for space_id in expired:
        _delete(ctx, space_id)
        log.info("space %s: recording deleted after %d days", space_id, days)
    return len(expired)


def _delete(ctx: ServiceContext, space_id: int) -> None:
    with ctx.uow.write() as uow:
        store.delete_recording(uow.session, space_id)
    files.delete_files(recording_dir(ctx, space_id))


# Reading ---------------------------------------------------------------------------------


def _require_recording(ctx: ServiceContext, space_id: int, viewer_id: int | None) -> RecordingRow:
    with ctx.uow.read() as uow:
        load(uow.session, space_id, viewer_id)
        row = store.get_recording(uow.session, space_id)
        if row is None:
            raise NotFound("This Space has no recording.", code="recording_not_found")
        uow.session.expunge(row)
        return row


def get_recording(ctx: ServiceContext, viewer_id: UserId | None, space_id: int) -> RecordingView:
    return _view(ctx, _require_recording(ctx, space_id, viewer_id))


def require_playable(ctx: ServiceContext, space_id: int) -> Path:
    """The recording's directory, if it has one anybody may play."""
    _require_recording(ctx, space_id, None)
    return recording_dir(ctx, space_id)


def do_delete_recording(ctx: ServiceContext, actor_id: UserId, space_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id)
        if store.get_recording(uow.session, space_id) is None:
            raise NotFound("This Space has no recording.", code="recording_not_found")
        check_may_delete(loaded.row.state, actor_id, loaded.row.host_id)
        store.delete_recording(uow.session, space_id)
    files.delete_files(recording_dir(ctx, space_id))
    log.info("space %s: recording deleted by its host", space_id)


REPLAY_CACHE = "replay-events.json"


def replay_events_body(ctx: ServiceContext, viewer_id: UserId | None, space_id: int) -> bytes:
    """`{"data": [event]}` as JSON. A finished recording's events are kept next to it, keyed
    by the Space's latest seq: an hour of them takes a few hundred ms to gather, and a
    replay page waits for them."""
    row = _require_recording(ctx, space_id, viewer_id)
    if row.state != RecordingState.READY:
        return _encode_events(replay_events(ctx, viewer_id, space_id))
    with ctx.uow.read() as uow:
        seq = load(uow.session, space_id, viewer_id).row.event_seq
    cache = recording_dir(ctx, space_id) / REPLAY_CACHE
    try:
        cached = cache.read_bytes()
        head, _, body = cached.partition(b"\n")
        if head == str(seq).encode():
            return body
    except FileNotFoundError:
        pass
    body = _encode_events(replay_events(ctx, viewer_id, space_id))
    temporary = cache.with_name(cache.name + ".tmp")
    try:
        temporary.write_bytes(str(seq).encode() + b"\n" + body)
        temporary.replace(cache)
    except OSError:
        log.warning("space %s: could not keep the replay events", space_id)
    return body


def _encode_events(events: list[dict[str, Any]]) -> bytes:
    return json.dumps({"data": events}, ensure_ascii=False, separators=(",", ":")).encode()


def replay_events(
    ctx: ServiceContext, viewer_id: UserId | None, space_id: int
) -> list[dict[str, Any]]:
    """Everything a replay shows, each with `offset_ms` into the recording, in order."""
    _require_recording(ctx, space_id, viewer_id)
    timeline = files.read_timeline(recording_dir(ctx, space_id))
    with ctx.uow.read() as uow:
        moments = store.moments(uow.session, space_id)
        logged = store.log_events_of_types(uow.session, space_id, REPLAYED_LOG_TYPES)
        out: list[dict[str, Any]] = []
        speaking: list[tuple[int, str]] = []
        for kind, raw, at in moments:
            offset = timeline.offset_ms_at(at)
            if offset is None:
                continue
            data = json.loads(raw)
            if kind == "speaking":
                speaking.append((offset, str(data.get("user_id"))))
            elif kind == "reaction":
                out.append(_event("reaction", offset, data))
            elif kind == "reactions":
                for item in data.get("items", []):
                    out.append(_event("reaction", offset, item))
        for row in logged:
            offset = timeline.offset_ms_at(row.at)
            data = json.loads(row.data)
            if offset is None or (row.type == "caption" and not data.get("final", True)):
                continue
            if row.type == "caption" and isinstance(data.get("offset_ms"), int):
                offset = data["offset_ms"]
            out.append(_event(row.type, offset, data))
    out.extend(_event("speaker", turn.pop("offset_ms"), turn) for turn in speaker_turns(speaking))
    out.sort(key=lambda event: event["offset_ms"])
    return out


def _event(kind: str, offset_ms: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "offset_ms": offset_ms, "data": data}


def recorded_spaces(
    ctx: ServiceContext,
    viewer_id: UserId | None,
    username: str,
    cursor: str | None,
    limit: int | None,
) -> tuple[list[SpaceView], str | None]:
    page_size = check_limit(limit)
    before_id = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        host = require_user(uow.session, username)
        rows = store.recorded_spaces_of(uow.session, host.id, before_id, page_size + 1)
        visible = []
        for row in rows[:page_size]:
            try:
                load(uow.session, row.id, viewer_id)
            except NotFound:
                continue
            visible.append(row)
        views = space_views(uow.session, visible)
    more = len(rows) > page_size
    return views, encode_cursor(rows[page_size - 1].id) if more else None


# Clips -----------------------------------------------------------------------------------


def do_clip(
    ctx: ServiceContext,
    user_id: UserId,
    space_id: int,
    start_offset_ms: int | None,
    duration_s: int | None,
) -> ClipView:
    with ctx.uow.read() as uow:
        loaded = load(uow.session, space_id, user_id)
        row = store.get_recording(uow.session, space_id)
        if row is None:
            raise NotFound("This Space has no recording.", code="recording_not_found")
        person = participant(uow.session, space_id, user_id)
        check_may_clip(loaded.row.state, row.state, person is not None and person.present)
        title = loaded.row.title
    directory = recording_dir(ctx, space_id)
    timeline = files.read_timeline(directory)
    window = check_clip_window(round(timeline.duration_s * 1000), start_offset_ms, duration_s)
    clip_id = ctx.ids.next_id()
    path = clip_path(ctx, clip_id)
    seconds = files.cut_clip(directory, path, window.start_ms / 1000, window.end_ms / 1000)
    if seconds <= 0:
        path.unlink(missing_ok=True)
        raise NotFound("That part of the recording is gone.", code="recording_not_found")
    url = clip_url(clip_id)
    short_title = title if len(title) <= 120 else title[:119] + "…"
    post = posts.do_create_post(
        ctx, user_id, f"🎧 A clip from “{short_title}”: {url}", space_id, None
    )
    duration_ms = round(seconds * 1000)
    with ctx.uow.write() as uow:
        store.add_clip(
            uow.session,
            ClipRow(
                id=clip_id,
                space_id=space_id,
                user_id=user_id,
                post_id=post.id,
                start_offset_ms=window.start_ms,
                duration_ms=duration_ms,
                created_at=ctx.clock(),
            ),
        )
    log.info("space %s: clip %s by %s (%d ms)", space_id, clip_id, user_id, duration_ms)
    return ClipView(clip_id, url, post.id, space_id, window.start_ms, duration_ms)


def require_clip_file(ctx: ServiceContext, clip_id: int) -> Path:
    with ctx.uow.read() as uow:
        if store.get_clip(uow.session, clip_id) is None:
            raise NotFound("No such clip.", code="clip_not_found")
    path = clip_path(ctx, clip_id)
    if not path.is_file():
        raise NotFound("No such clip.", code="clip_not_found")
    return path
