"""Routes for reports, the admins' moderation queue and audit log, and hosts' ban lists."""

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from townhall.api.auth import CurrentUser, Services
from townhall.api.moderation_schemas import (
    ActionBody,
    AdminStatus,
    Ban,
    BanBody,
    BanList,
    LogPage,
    Report,
    ReportBody,
    ReportPage,
    SuspendBody,
)
from townhall.api.rate_limits import rate_limited
from townhall.api.routes import ERROR_RESPONSES
from townhall.api.schemas import parse_id
from townhall.domain.errors import NotFound
from townhall.domain.moderation import ReportReason, ReportState, TargetType
from townhall.services import host_bans, moderation
from townhall.services.json import to_json

router = APIRouter(prefix="/api/v1", tags=["moderation"], responses=ERROR_RESPONSES)


def _id(raw: str | None, what: str) -> int:
    parsed = parse_id(raw)
    if parsed is None or parsed < 0:
        raise NotFound(f"No such {what}.", code=f"{what}_not_found")
    return parsed


def _report_id(raw: str | None) -> int | None:
    return None if raw is None else _id(raw, "report")


@router.post(
    "/reports", status_code=201, response_model=Report, dependencies=[rate_limited("report")]
)
def report(body: ReportBody, principal: CurrentUser, ctx: Services) -> Any:
    target_type = TargetType(body.target_type)
    view = moderation.do_report(
        ctx,
        principal.user_id,
        target_type,
        _id(body.target_id, target_type.value),
        ReportReason(body.reason),
        body.note,
    )
    return to_json(view)


@router.get("/admin/status", response_model=AdminStatus)
def admin_status(principal: CurrentUser, ctx: Services) -> Any:
    """Whether the caller is an admin: the web client shows the Moderation page if so."""
    return {"is_admin": moderation.is_admin(ctx, principal.user_id)}


@router.get("/admin/reports", response_model=ReportPage)
def reports(
    principal: CurrentUser,
    ctx: Services,
    state: Literal["open", "resolved", "dismissed", "all"] = "open",
    cursor: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None),
) -> Any:
    chosen = None if state == "all" else ReportState(state)
    return to_json(moderation.list_reports(ctx, principal.user_id, chosen, cursor, limit))


@router.post("/admin/reports/{report_id}/resolve", response_model=Report)
def resolve_report(report_id: str, principal: CurrentUser, ctx: Services) -> Any:
    view = moderation.do_close_report(ctx, principal.user_id, _id(report_id, "report"), True)
    return to_json(view)


@router.post("/admin/reports/{report_id}/dismiss", response_model=Report)
def dismiss_report(report_id: str, principal: CurrentUser, ctx: Services) -> Any:
    view = moderation.do_close_report(ctx, principal.user_id, _id(report_id, "report"), False)
    return to_json(view)


@router.post("/admin/users/{user_id}/suspend", status_code=204)
def suspend(
    user_id: str, principal: CurrentUser, ctx: Services, body: SuspendBody | None = None
) -> Response:
    body = body or SuspendBody()
    moderation.do_suspend(
        ctx, principal.user_id, _id(user_id, "user"), body.reason, _report_id(body.report_id)
    )
    return Response(status_code=204)


@router.post("/admin/users/{user_id}/unsuspend", status_code=204)
def unsuspend(user_id: str, principal: CurrentUser, ctx: Services) -> Response:
    moderation.do_unsuspend(ctx, principal.user_id, _id(user_id, "user"))
    return Response(status_code=204)


@router.post("/admin/posts/{post_id}/remove", status_code=204)
def remove_post(
    post_id: str, principal: CurrentUser, ctx: Services, body: ActionBody | None = None
) -> Response:
    report_id = _report_id(body.report_id if body else None)
    moderation.do_remove_post(ctx, principal.user_id, _id(post_id, "post"), report_id)
    return Response(status_code=204)


@router.post("/admin/spaces/{space_id}/end", status_code=204)
def end_space(
    space_id: str, principal: CurrentUser, ctx: Services, body: ActionBody | None = None
) -> Response:
    report_id = _report_id(body.report_id if body else None)
    moderation.do_end_space(ctx, principal.user_id, _id(space_id, "space"), report_id)
    return Response(status_code=204)


@router.get("/admin/log", response_model=LogPage)
def audit_log(
    principal: CurrentUser,
    ctx: Services,
    cursor: str | None = Query(default=None, max_length=40),
    limit: int | None = Query(default=None),
) -> Any:
    return to_json(moderation.audit_log(ctx, principal.user_id, cursor, limit))


@router.get("/me/bans", response_model=BanList)
def bans(principal: CurrentUser, ctx: Services) -> Any:
    return {"data": to_json(host_bans.list_bans(ctx, principal.user_id))}


@router.post("/me/bans", status_code=201, response_model=Ban)
def ban(body: BanBody, principal: CurrentUser, ctx: Services) -> Any:
    """Keep someone out of all your Spaces, before they join: by username or by id."""
    who = host_bans.Banned(
        username=body.username,
        user_id=_id(body.user_id, "user") if body.user_id is not None else None,
    )
    return to_json(host_bans.do_ban(ctx, principal.user_id, who))


@router.delete("/me/bans/{user_id}", status_code=204)
def lift_ban(user_id: str, principal: CurrentUser, ctx: Services) -> Response:
    host_bans.do_lift_ban(ctx, principal.user_id, _id(user_id, "user"))
    return Response(status_code=204)
