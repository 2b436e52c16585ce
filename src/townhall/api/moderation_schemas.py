"""Request bodies and response shapes of reports, the admin routes and host bans."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from townhall.api.schemas import UserSummary

ReasonName = Literal[
    "spam",
    "harassment",
    "hate",
    "violence",
    "sexual",
    "self_harm",
    "misinformation",
    "other",
]
TargetName = Literal["user", "post", "space"]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ReportBody(Body):
    target_type: TargetName
    target_id: str = Field(max_length=20)
    reason: ReasonName
    note: str | None = Field(default=None, max_length=4000)


class SuspendBody(Body):
    reason: str | None = Field(default=None, max_length=4000)
    report_id: str | None = Field(
        default=None, max_length=20, description="the report this answers; it is resolved"
    )


class ActionBody(Body):
    report_id: str | None = Field(
        default=None, max_length=20, description="the report this answers; it is resolved"
    )


class BanBody(Body):
    username: str | None = Field(default=None, max_length=64)
    user_id: str | None = Field(default=None, max_length=20)


class ReportTarget(BaseModel):
    type: TargetName
    id: str
    owner_id: str | None
    label: str = Field(description="@username, the post's text, or the Space's title")
    exists: bool


class Report(BaseModel):
    id: str
    reporter_id: str
    reporter: UserSummary | None
    target_type: TargetName
    target_id: str
    target: ReportTarget
    reason: ReasonName
    note: str
    state: Literal["open", "resolved", "dismissed"]
    created_at: str
    handled_by_id: str | None
    handled_at: str | None


class ReportPage(BaseModel):
    data: list[Report]
    next_cursor: str | None


class LogEntry(BaseModel):
    id: str
    actor_id: str | None = Field(description="null for the `townhall admin` command")
    actor: UserSummary | None
    action: str
    target_type: TargetName
    target_id: str
    report_id: str | None
    detail: dict[str, Any]
    created_at: str


class LogPage(BaseModel):
    data: list[LogEntry]
    next_cursor: str | None


class AdminStatus(BaseModel):
    is_admin: bool


class Ban(BaseModel):
    user_id: str
    user: UserSummary
    space_id: str | None
    created_at: str


class BanList(BaseModel):
    data: list[Ban]
