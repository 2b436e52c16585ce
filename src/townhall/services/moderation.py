"""Use cases of moderation: reports, the admins' queue, suspensions, removals, audit log.

Every admin action is one `do_` function that checks the role, changes state, settles the
open reports of its target and writes one audit-log row, all in one transaction.
"""

import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from townhall.domain import moderation as rules
from townhall.domain.errors import Conflict, DomainError, NotFound
from townhall.domain.moderation import ModerationAction, ReportReason, ReportState, TargetType
from townhall.domain.pagination import check_limit, decode_cursor, encode_cursor
from townhall.domain.spaces import actions
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.model import SpaceEvent
from townhall.services import space_stage
from townhall.services.context import ServiceContext
from townhall.services.json import format_time
from townhall.services.lookup import require_post, require_user, require_user_id
from townhall.services.notifications import end_sessions
from townhall.services.session_sync import end_everywhere
from townhall.services.spaces import commit_change, load
from townhall.services.views import Page, UserSummary, user_summaries
from townhall.storage import moderation as store
from townhall.storage import posts as post_store
from townhall.storage import spaces as space_store
from townhall.storage import users as user_store
from townhall.storage.tables import ModerationLogRow, ReportRow, UserSuspensionRow
from townhall.storage.uow import UnitOfWork
from townhall.types import UserId

log = logging.getLogger("townhall.moderation")


@dataclass(frozen=True)
class ReportTarget:
    """What a report is about, as the queue shows it; `exists` is False once it is gone."""

    type: str
    id: int
    owner_id: int | None
    label: str
    exists: bool


@dataclass(frozen=True)
class ReportView:
    id: int
    reporter_id: int
    reporter: UserSummary | None
    target_type: str
    target_id: int
    target: ReportTarget
    reason: str
    note: str
    state: str
    created_at: datetime
    handled_by_id: int | None
    handled_at: datetime | None


@dataclass(frozen=True)
class LogEntryView:
    id: int
    actor_id: int | None
    actor: UserSummary | None
    action: str
    target_type: str
    target_id: int
    report_id: int | None
    detail: dict[str, Any]
    created_at: datetime


# Who may moderate --------------------------------------------------------------------------


def _require_admin(session: Session, user_id: int) -> None:
    row = user_store.get_user(session, user_id)
    rules.check_admin(row is not None and row.is_admin)


def is_admin(ctx: ServiceContext, user_id: UserId) -> bool:
    with ctx.uow.read() as uow:
        row = user_store.get_user(uow.session, user_id)
        return row is not None and row.is_admin


def do_set_admin(ctx: ServiceContext, username: str, admin: bool) -> bool:
    """For `townhall admin grant/revoke`; False when the user already had that role."""
    with ctx.uow.write() as uow:
        row = require_user(uow.session, username)
        if row.is_admin == admin:
            return False
        store.set_admin(uow.session, row.id, admin)
        action = ModerationAction.ADMIN_GRANTED if admin else ModerationAction.ADMIN_REVOKED
        _audit(ctx, uow, None, action, TargetType.USER, row.id, None, {"username": row.username})
    log.info("%s: %s", action.value, username)
    return True


# Reports -----------------------------------------------------------------------------------


def _target_of(session: Session, target_type: TargetType, target_id: int) -> ReportTarget:
    if target_type is TargetType.USER:
        user = user_store.get_user(session, target_id)
        if user is None:
            return ReportTarget(target_type.value, target_id, None, "", False)
        return ReportTarget(target_type.value, target_id, user.id, f"@{user.username}", True)
    if target_type is TargetType.POST:
        post = post_store.get_post(session, target_id)
        if post is None:
            return ReportTarget(target_type.value, target_id, None, "", False)
        return ReportTarget(target_type.value, target_id, post.author_id, post.text[:280], True)
    space = space_store.get_space_row(session, target_id)
    if space is None:
        return ReportTarget(target_type.value, target_id, None, "", False)
    return ReportTarget(target_type.value, target_id, space.host_id, space.title, True)


def do_report(
    ctx: ServiceContext,
    reporter_id: UserId,
    target_type: TargetType,
    target_id: int,
    reason: ReportReason,
    note: str | None,
) -> ReportView:
    note = rules.check_note(note)
    with ctx.uow.write() as uow:
        target = _target_of(uow.session, target_type, target_id)
        if not target.exists or target.owner_id is None:
            raise NotFound(f"No such {target_type.value}.", code=f"{target_type.value}_not_found")
        rules.check_reportable(reporter_id, target_type, target.owner_id)
        if store.open_report_by(uow.session, reporter_id, target_type.value, target_id):
            raise Conflict(
                "You already reported this; an admin will look at it.", code="already_reported"
            )
        row = ReportRow(
            id=ctx.ids.next_id(),
            reporter_id=reporter_id,
            target_type=target_type.value,
            target_id=target_id,
            reason=reason.value,
            note=note,
            state=ReportState.OPEN.value,
            created_at=ctx.clock(),
            handled_by=None,
            handled_at=None,
        )
        store.add_report(uow.session, row)
        uow.session.flush()
        view = _report_views(uow.session, [row])[0]
    log.info("report %s: %s %s (%s)", row.id, target_type.value, target_id, reason.value)
    return view


def _report_views(session: Session, rows: list[ReportRow]) -> list[ReportView]:
    people = user_summaries(session, {row.reporter_id for row in rows})
    return [
        ReportView(
            id=row.id,
            reporter_id=row.reporter_id,
            reporter=people.get(row.reporter_id),
            target_type=row.target_type,
            target_id=row.target_id,
            target=_target_of(session, TargetType(row.target_type), row.target_id),
            reason=row.reason,
            note=row.note,
            state=row.state,
            created_at=row.created_at,
            handled_by_id=row.handled_by,
            handled_at=row.handled_at,
        )
        for row in rows
    ]


def list_reports(
    ctx: ServiceContext,
    admin_id: UserId,
    state: ReportState | None,
    cursor: str | None,
    limit: int | None,
) -> Page[ReportView]:
    page_size = check_limit(limit)
    before_id = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        _require_admin(uow.session, admin_id)
        rows = store.reports_page(
            uow.session, state.value if state else None, before_id, page_size + 1
        )
        more = len(rows) > page_size
        rows = rows[:page_size]
        return Page(
            data=_report_views(uow.session, rows),
            next_cursor=encode_cursor(rows[-1].id) if more else None,
        )


def _open_report(session: Session, report_id: int | None) -> ReportRow | None:
    if report_id is None:
        return None
    row = store.get_report(session, report_id, for_update=True)
    if row is None:
        raise NotFound("No such report.", code="report_not_found")
    rules.check_open(ReportState(row.state))
    return row


def do_close_report(
    ctx: ServiceContext, admin_id: UserId, report_id: int, resolved: bool
) -> ReportView:
    """Resolve (acted on, or agreed) or dismiss (nothing to act on) one report."""
    state = ReportState.RESOLVED if resolved else ReportState.DISMISSED
    with ctx.uow.write() as uow:
        _require_admin(uow.session, admin_id)
        row = _open_report(uow.session, report_id)
        assert row is not None
        now = ctx.clock()
        row.state, row.handled_by, row.handled_at = state.value, admin_id, now
        action = ModerationAction.REPORT_RESOLVED if resolved else ModerationAction.REPORT_DISMISSED
        _audit(
            ctx,
            uow,
            admin_id,
            action,
            TargetType(row.target_type),
            row.target_id,
            row.id,
            {"reason": row.reason},
        )
        uow.session.flush()
        return _report_views(uow.session, [row])[0]


def _settle(
    ctx: ServiceContext,
    uow: UnitOfWork,
    admin_id: UserId | None,
    target_type: TargetType,
    target_id: int,
    report_id: int | None,
) -> None:
    """Acting on a target resolves its open reports, the one in hand (checked) and others."""
    report = _open_report(uow.session, report_id)
    if report is not None and (report.target_type, report.target_id) != (
        target_type.value,
        target_id,
    ):
        raise Conflict("That report is about something else.", code="report_mismatch")
    store.close_open_reports(
        uow.session, target_type.value, target_id, ReportState.RESOLVED.value, admin_id, ctx.clock()
    )


# Actions on users, posts and Spaces -------------------------------------------------------


def do_suspend(
    ctx: ServiceContext,
    admin_id: UserId,
    user_id: int,
    reason: str | None,
    report_id: int | None = None,
) -> None:
    """Logs the user out everywhere, ends their live Space, takes them out of the others
    they are in, and refuses their logins.

    Tokens are revoked in the database, and in every node's token cache and the user's
    sockets on every node are closed once it commits (services/session_sync.py): no node
    honours a token it cached for the `settings.token_cache_s` it otherwise would.
    """
    reason = rules.check_note(reason)
    with ctx.uow.write() as uow:
        _require_admin(uow.session, admin_id)
        target = require_user_id(uow.session, user_id)
        rules.check_suspendable(admin_id, user_id, target.is_admin)
        if store.get_suspension(uow.session, user_id) is not None:
            raise Conflict("That user is already suspended.", code="already_suspended")
        _settle(ctx, uow, admin_id, TargetType.USER, user_id, report_id)
        now = ctx.clock()
        store.add_suspension(
            uow.session,
            UserSuspensionRow(
                user_id=user_id, suspended_by=admin_id, reason=reason, created_at=now
            ),
        )
        hashes = store.revoke_all_tokens(uow.session, user_id, now)
        end_sessions(uow, user_id, format_time(now))
        end_everywhere(uow, user_id, hashes, close_sockets=True)
        ended = _end_live_spaces_of(ctx, uow, user_id)
        _audit(
            ctx,
            uow,
            admin_id,
            ModerationAction.USER_SUSPENDED,
            TargetType.USER,
            user_id,
            report_id,
            {"username": target.username, "reason": reason, "ended_space_ids": ended},
        )

        def forget_tokens() -> None:
            for token_hash in hashes:
                ctx.tokens.revoke(token_hash)

        uow.after_commit(forget_tokens)
        elsewhere = store.live_spaces_present_in(uow.session, user_id)
    log.info("user %s suspended by %s; ended spaces %s", user_id, admin_id, ended)
    for space_id in elsewhere:
        # Out of the other live Spaces they were in, as if they had left.
        with contextlib.suppress(DomainError):
            space_stage.do_leave(ctx, UserId(user_id), space_id)


def _end_live_spaces_of(ctx: ServiceContext, uow: UnitOfWork, host_id: int) -> list[str]:
    ended = []
    for space_id in store.live_space_ids_of_host(uow.session, host_id):
        loaded = load(uow.session, space_id, None, lock=True)
        if loaded.space.state is SpaceState.LIVE:
            commit_change(ctx, uow, loaded, actions.end_by_moderator(loaded.space, ctx.clock()), [])
            ended.append(str(space_id))
    return ended


def do_unsuspend(ctx: ServiceContext, admin_id: UserId, user_id: int) -> None:
    with ctx.uow.write() as uow:
        _require_admin(uow.session, admin_id)
        target = require_user_id(uow.session, user_id)
        if store.get_suspension(uow.session, user_id) is None:
            raise Conflict("That user is not suspended.", code="not_suspended")
        store.remove_suspension(uow.session, user_id)
        _audit(
            ctx,
            uow,
            admin_id,
            ModerationAction.USER_UNSUSPENDED,
            TargetType.USER,
            user_id,
            None,
            {"username": target.username},
        )
    log.info("user %s unsuspended by %s", user_id, admin_id)


def do_remove_post(
    ctx: ServiceContext, admin_id: UserId, post_id: int, report_id: int | None = None
) -> None:
    """Deletes the post (its pins go with it); the audit log keeps its text."""
    with ctx.uow.write() as uow:
        _require_admin(uow.session, admin_id)
        post = require_post(uow.session, post_id)
        _settle(ctx, uow, admin_id, TargetType.POST, post_id, report_id)
        detail = {"author_id": str(post.author_id), "text": post.text}
        for space_id in store.spaces_pinning(uow.session, post_id):
            # Rooms showing it as pinned are told, as when a host unpins it.
            loaded = load(uow.session, space_id, None, lock=True)
            event = SpaceEvent("pin.removed", {"post_id": post_id, "actor_id": admin_id})
            commit_change(ctx, uow, loaded, [event], [])
        uow.session.delete(post)
        _audit(
            ctx,
            uow,
            admin_id,
            ModerationAction.POST_REMOVED,
            TargetType.POST,
            post_id,
            report_id,
            detail,
        )
    log.info("post %s removed by %s", post_id, admin_id)


def do_end_space(
    ctx: ServiceContext, admin_id: UserId, space_id: int, report_id: int | None = None
) -> None:
    with ctx.uow.write() as uow:
        _require_admin(uow.session, admin_id)
        loaded = load(uow.session, space_id, None, lock=True)
        _settle(ctx, uow, admin_id, TargetType.SPACE, space_id, report_id)
        events = actions.end_by_moderator(loaded.space, ctx.clock())
        commit_change(ctx, uow, loaded, events, [])
        _audit(
            ctx,
            uow,
            admin_id,
            ModerationAction.SPACE_ENDED,
            TargetType.SPACE,
            space_id,
            report_id,
            {"title": loaded.row.title, "host_id": str(loaded.row.host_id)},
        )
    log.info("space %s ended by admin %s", space_id, admin_id)


# The audit log -----------------------------------------------------------------------------


def _audit(
    ctx: ServiceContext,
    uow: UnitOfWork,
    actor_id: int | None,
    action: ModerationAction,
    target_type: TargetType,
    target_id: int,
    report_id: int | None,
    detail: dict[str, Any],
) -> None:
    store.add_log(
        uow.session,
        ModerationLogRow(
            id=ctx.ids.next_id(),
            actor_id=actor_id,
            action=action.value,
            target_type=target_type.value,
            target_id=target_id,
            report_id=report_id,
            detail=json.dumps(detail, ensure_ascii=False),
            created_at=ctx.clock(),
        ),
    )


def audit_log(
    ctx: ServiceContext, admin_id: UserId, cursor: str | None, limit: int | None
) -> Page[LogEntryView]:
    page_size = check_limit(limit)
    before_id = decode_cursor(cursor)
    with ctx.uow.read() as uow:
        _require_admin(uow.session, admin_id)
        rows = store.log_page(uow.session, before_id, page_size + 1)
        more = len(rows) > page_size
        rows = rows[:page_size]
        people = user_summaries(uow.session, {r.actor_id for r in rows if r.actor_id is not None})
        data = [
            LogEntryView(
                id=row.id,
                actor_id=row.actor_id,
                actor=people.get(row.actor_id) if row.actor_id is not None else None,
                action=row.action,
                target_type=row.target_type,
                target_id=row.target_id,
                report_id=row.report_id,
                detail=json.loads(row.detail),
                created_at=row.created_at,
            )
            for row in rows
        ]
    return Page(data=data, next_cursor=encode_cursor(rows[-1].id) if more else None)
