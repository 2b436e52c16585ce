"""Use cases for a Space's life: create, schedule, start, edit, end, cancel, remind, discover."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from townhall.domain.errors import Conflict, NotFound
from townhall.domain.notifications import NotificationKind
from townhall.domain.pagination import check_limit, decode_cursor, encode_cursor
from townhall.domain.spaces import actions
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.model import Limits, Participant, Space, SpaceEvent, WhoCanSpeak
from townhall.domain.spaces.roles import Role
from townhall.ids import parse_id_text
from townhall.services import space_log
from townhall.services.context import ServiceContext
from townhall.services.notifications import notify
from townhall.services.space_views import SpaceView, space_views
from townhall.services.views import UserSummary, user_summaries
from townhall.storage import spaces as store
from townhall.storage import users as user_store
from townhall.storage.tables import SpaceReminderRow, SpaceRow
from townhall.storage.uow import UnitOfWork
from townhall.types import UserId

log = logging.getLogger("townhall.spaces")


def limits_of(ctx: ServiceContext) -> Limits:
    return Limits(max_cohosts=ctx.settings.max_cohosts, max_speakers=ctx.settings.max_speakers)


@dataclass
class Loaded:
    """A Space loaded for a change: its row (locked on PostgreSQL) and the rules' view of it."""

    row: SpaceRow
    space: Space


def parse_space_id(raw: str) -> int:
    parsed = parse_id_text(raw)
    if parsed is None:
        raise NotFound("No such Space.", code="space_not_found")
    return parsed


def hidden() -> NotFound:
    return NotFound("No such Space.", code="space_not_found")


def load(session: Session, space_id: int, viewer_id: int | None, lock: bool = False) -> Loaded:
    """Loads a Space; one hidden from the viewer by a block is as good as unknown (404)."""
    row = store.get_space_row(session, space_id, for_update=lock)
    if row is None:
        raise hidden()
    if (
        viewer_id is not None
        and viewer_id != row.host_id
        and store.blocked_with(session, viewer_id, row.host_id)
    ):
        raise hidden()
    return Loaded(row, store.to_space(row, store.stage_rows(session, space_id)))


def participant(session: Session, space_id: int, user_id: int) -> Participant | None:
    row = store.get_participant_row(session, space_id, user_id)
    return store.to_participant(row) if row is not None else None


def commit_change(
    ctx: ServiceContext,
    uow: UnitOfWork,
    loaded: Loaded,
    events: list[SpaceEvent],
    changed: list[Participant],
    known_users: dict[int, UserSummary] | None = None,
) -> None:
    """Persists the aggregate and the participants an action touched, then logs its events.

    The participant count is kept by increments (every change of who is present goes
    through here, under the Space row's write lock) instead of a COUNT over the audience.
    `known_users`: summaries the caller already loaded, so events need not load them again.
    """
    now = ctx.clock()
    space_id = loaded.row.id
    store.copy_space_into(loaded.space, loaded.row)
    delta = 0
    for person in changed:
        delta += store.save_participant(uow.session, space_id, person)
    ended = loaded.space.state is SpaceState.ENDED
    if ended:
        store.mark_everyone_gone(uow.session, space_id)
    count_before = loaded.row.participant_count
    loaded.row.participant_count = 0 if ended else max(0, count_before + delta)
    _update_permits_after_commit(ctx, uow, space_id, events, changed, ended)
    users = dict(known_users or {})
    enriched = [_enrich(uow.session, loaded, event, users) for event in events]
    space_log.record(uow, loaded.row, enriched, now)
    if loaded.row.participant_count != count_before:
        space_log.ephemeral(
            uow,
            loaded.row.id,
            "listeners.count",
            {"participant_count": loaded.row.participant_count},
            now,
        )
    if any(e.type == "space.ended" for e in events):
        # polls.py builds on this module, so it is imported here, when a Space ends.
        from townhall.services.polls import close_polls_of

        close_polls_of(ctx, uow, loaded, now)


def _update_permits_after_commit(
    ctx: ServiceContext,
    uow: UnitOfWork,
    space_id: int,
    events: list[SpaceEvent],
    changed: list[Participant],
    ended: bool,
) -> None:
    """Tell this node's reaction permits who joined (every access check passed) or left."""
    permits = ctx.reaction_permits
    joined = [int(e.data["user_id"]) for e in events if e.type == "participant.joined"]
    gone = [person.user_id for person in changed if not person.present]
    if not (joined or gone or ended):
        return

    def update() -> None:
        if ended:
            permits.forget_space(space_id)
            return
        for gone_id in gone:
            permits.left(space_id, gone_id)
        for joined_id in joined:
            permits.joined(space_id, joined_id)

    uow.after_commit(update)


def _enrich(
    session: Session, loaded: Loaded, event: SpaceEvent, users: dict[int, UserSummary]
) -> SpaceEvent:
    """Space-level events carry the whole Space, so clients can apply them without a fetch."""
    from townhall.services.json import to_json

    data = dict(event.data)
    if event.type in ("space.updated", "space.ended"):
        session.flush()
        data["space"] = to_json(space_views(session, [loaded.row])[0])
    if event.type.startswith("participant."):
        data["participant_count"] = loaded.row.participant_count
    if "role" in data and "user_id" in data and event.type.startswith("participant."):
        user_id = data["user_id"]
        if user_id not in users:
            users.update(user_summaries(session, {user_id}))
        summary = users.get(user_id)
        data["user"] = to_json(summary) if summary is not None else None
    return SpaceEvent(event.type, data, event.state)


def _announce_live(ctx: ServiceContext, uow: UnitOfWork, row: SpaceRow) -> None:
    """Followers hear that the host went live; reminder subscribers that it started."""
    reminded = set(store.reminder_user_ids(uow.session, row.id))
    for user_id in reminded:
        notify(ctx, uow, UserId(user_id), NotificationKind.SPACE_REMINDER, row.host_id, row.id)
    for user_id in store.follower_ids(uow.session, row.host_id):
        if user_id not in reminded:
            notify(ctx, uow, UserId(user_id), NotificationKind.SPACE_LIVE, row.host_id, row.id)


def _host_joins(ctx: ServiceContext, loaded: Loaded, now: datetime) -> Participant:
    host = Participant(
        loaded.space.host_id, Role.HOST, muted=True, hand_raised=False, joined_at=now
    )
    loaded.space.stage[host.user_id] = host
    return host


def do_create_space(
    ctx: ServiceContext,
    host_id: UserId,
    title: str,
    who_can_speak: WhoCanSpeak,
    recording: bool,
    captions: bool,
    scheduled_start: datetime | None,
    topic_ids: list[str],
    lang: str | None,
) -> SpaceView:
    now = ctx.clock()
    title = actions.check_title(title)
    actions.check_labels(topic_ids, lang)
    if scheduled_start is not None:
        actions.check_schedule(scheduled_start, now, limits_of(ctx))
    live = scheduled_start is None
    try:
        with ctx.uow.write() as uow:
            host = user_store.get_user(uow.session, host_id)
            if host is None:
                raise NotFound("No such user.", code="user_not_found")
            actions.check_can_host(host.followers_count, ctx.settings.min_followers_to_host)
            if live and store.live_space_of_host(uow.session, host_id) is not None:
                raise Conflict("You are already hosting a live Space.", code="already_live")
            row = SpaceRow(
                id=ctx.ids.next_id(),
                host_id=host_id,
                state=(SpaceState.LIVE if live else SpaceState.SCHEDULED).value,
                title=title,
                who_can_speak=who_can_speak.value,
                recording=recording,
                captions=captions,
                scheduled_start=scheduled_start,
                started_at=now if live else None,
                ended_at=None,
                lang=lang,
                topic_ids=json.dumps(topic_ids),
                created_at=now,
                participant_count=0,
                subscriber_count=0,
                event_seq=0,
            )
            uow.session.add(row)
            uow.session.flush()
            loaded = Loaded(row, store.to_space(row, []))
            changed = [_host_joins(ctx, loaded, now)] if live else []
            commit_change(ctx, uow, loaded, [], changed)
            if live:
                _announce_live(ctx, uow, row)
            view = space_views(uow.session, [row])[0]
    except IntegrityError as exc:  # two creates raced past the check: the unique index held
        raise Conflict("You are already hosting a live Space.", code="already_live") from exc
    log.info("space %s created by %s (%s)", row.id, host_id, row.state)
    return view


def get_space(ctx: ServiceContext, space_id: int, viewer_id: int | None) -> SpaceView:
    with ctx.uow.read() as uow:
        loaded = load(uow.session, space_id, viewer_id)
        return space_views(uow.session, [loaded.row])[0]


def do_update_space(
    ctx: ServiceContext,
    actor_id: UserId,
    space_id: int,
    title: str | None,
    who_can_speak: WhoCanSpeak | None,
    captions: bool | None,
    recording: bool | None,
) -> SpaceView:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        actor = participant(uow.session, space_id, actor_id)
        events = actions.update(
            loaded.space, actor, actor_id, title, who_can_speak, captions, recording
        )
        commit_change(ctx, uow, loaded, events, [])
        return space_views(uow.session, [loaded.row])[0]


def do_start_space(ctx: ServiceContext, actor_id: UserId, space_id: int) -> SpaceView:
    now = ctx.clock()
    try:
        with ctx.uow.write() as uow:
            loaded = load(uow.session, space_id, actor_id, lock=True)
            events = actions.start(loaded.space, actor_id, now)
            if store.live_space_of_host(uow.session, actor_id) is not None:
                raise Conflict("You are already hosting a live Space.", code="already_live")
            changed = [_host_joins(ctx, loaded, now)]
            commit_change(ctx, uow, loaded, events, changed)
            _announce_live(ctx, uow, loaded.row)
            view = space_views(uow.session, [loaded.row])[0]
    except IntegrityError as exc:
        raise Conflict("You are already hosting a live Space.", code="already_live") from exc
    log.info("space %s started", space_id)
    return view


def do_end_space(ctx: ServiceContext, actor_id: UserId, space_id: int) -> SpaceView:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        events = actions.end(loaded.space, actor_id, ctx.clock())
        commit_change(ctx, uow, loaded, events, [])
        view = space_views(uow.session, [loaded.row])[0]
    log.info("space %s ended by its host", space_id)
    return view


def do_end_for_host_timeout(ctx: ServiceContext, space_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, None, lock=True)
        if loaded.space.state is not SpaceState.LIVE:
            return
        events = actions.end_for_host_timeout(loaded.space, ctx.clock())
        commit_change(ctx, uow, loaded, events, [])
    log.info("space %s ended: the host did not come back in time", space_id)


def do_cancel_space(ctx: ServiceContext, actor_id: UserId, space_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        events = actions.cancel(loaded.space, actor_id, ctx.clock())
        commit_change(ctx, uow, loaded, events, [])


def do_set_reminder(ctx: ServiceContext, user_id: UserId, space_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, user_id, lock=True)
        if loaded.space.state is not SpaceState.SCHEDULED:
            raise Conflict("Reminders are for scheduled Spaces.", code=f"space_{loaded.row.state}")
        store.add_reminder(
            uow.session,
            SpaceReminderRow(space_id=space_id, user_id=user_id, created_at=ctx.clock()),
        )


def list_spaces(
    ctx: ServiceContext,
    viewer_id: UserId | None,
    state: SpaceState,
    text_query: str | None,
    cursor: str | None,
    limit: int | None,
) -> tuple[list[SpaceView], str | None]:
    """Live: followed hosts first, then by audience. Scheduled: soonest first. Ended: newest."""
    page_size = check_limit(limit)
    offset = decode_cursor(cursor) or 0
    query = store.discovery_query(viewer_id, state, text_query)
    if state is SpaceState.LIVE:
        order = [SpaceRow.participant_count.desc(), SpaceRow.id.desc()]
        followed = store.followed_first(viewer_id)
        if followed is not None:
            order.insert(0, followed)  # type: ignore[arg-type]
        query = query.order_by(*order)
    elif state is SpaceState.SCHEDULED:
        query = query.order_by(SpaceRow.scheduled_start.asc(), SpaceRow.id.asc())
    else:
        query = query.order_by(SpaceRow.ended_at.desc(), SpaceRow.id.desc())
    with ctx.uow.read() as uow:
        rows = list(uow.session.scalars(query.offset(offset).limit(page_size + 1)))
        more = len(rows) > page_size
        rows = rows[:page_size]
        views = space_views(uow.session, rows)
    return views, encode_cursor(offset + page_size) if more else None


@dataclass(frozen=True)
class Backlog:
    """State events a reconnecting client missed, or None when it must refetch (resync)."""

    frames: list[dict[str, object]] | None
    latest_seq: int
    host_id: int
    live: bool


RESUME_MAX_EVENTS = 1000


def events_since(
    ctx: ServiceContext, viewer_id: UserId | None, space_id: int, since_seq: int | None
) -> Backlog:
    with ctx.uow.read() as uow:
        loaded = load(uow.session, space_id, viewer_id)
        latest = loaded.row.event_seq
        frames: list[dict[str, object]] | None = []
        if since_seq is not None and since_seq < latest:
            rows = store.events_since(uow.session, space_id, since_seq, RESUME_MAX_EVENTS + 1)
            if len(rows) > RESUME_MAX_EVENTS or (rows and rows[0].seq != since_seq + 1):
                frames = None
            else:
                frames = [
                    space_log.frame(r.type, space_id, r.seq, r.at, json.loads(r.data)) for r in rows
                ]
        return Backlog(
            frames=frames,
            latest_seq=latest,
            host_id=loaded.row.host_id,
            live=loaded.space.state is SpaceState.LIVE,
        )
