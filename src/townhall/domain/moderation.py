"""Rules of reports and moderation: what can be reported, why, and who may moderate.

An admin (users.is_admin, granted with `townhall admin grant`) works a queue of reports;
each action an admin takes is one of `ModerationAction` and is written to the audit log.
"""

from enum import StrEnum

from townhall.domain.errors import Conflict, Forbidden, Invalid

NOTE_MAX_CHARS = 1000
"""A report's note and a suspension's reason: enough to explain, too short to abuse."""


class TargetType(StrEnum):
    USER = "user"
    POST = "post"
    SPACE = "space"


class ReportReason(StrEnum):
    SPAM = "spam"
    HARASSMENT = "harassment"
    HATE = "hate"
    VIOLENCE = "violence"
    SEXUAL = "sexual"
    SELF_HARM = "self_harm"
    MISINFORMATION = "misinformation"
    OTHER = "other"


class ReportState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    """An admin acted on it (or agreed it needed acting on)."""
    DISMISSED = "dismissed"
    """An admin found nothing to act on."""


class ModerationAction(StrEnum):
    """What the audit log records; the names say what happened to what."""

    REPORT_RESOLVED = "report.resolved"
    REPORT_DISMISSED = "report.dismissed"
    USER_SUSPENDED = "user.suspended"
    USER_UNSUSPENDED = "user.unsuspended"
    POST_REMOVED = "post.removed"
    SPACE_ENDED = "space.ended"
    ADMIN_GRANTED = "admin.granted"
    ADMIN_REVOKED = "admin.revoked"


def check_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise Invalid(f"A note is at most {NOTE_MAX_CHARS} characters.", code="note_too_long")
    return note


def check_admin(is_admin: bool) -> None:
    if not is_admin:
        raise Forbidden("Only admins can do this.", code="admin_only")


def check_reportable(reporter_id: int, target_type: TargetType, owner_id: int) -> None:
    """Reporting yourself (or your own post or Space) is a mistake, not a report."""
    if reporter_id == owner_id:
        raise Invalid(f"You cannot report your own {target_type.value}.", code="own_content")


def check_open(state: ReportState) -> None:
    if state is not ReportState.OPEN:
        raise Conflict(f"This report is already {state.value}.", code="report_closed")


def check_suspendable(actor_id: int | None, target_id: int, target_is_admin: bool) -> None:
    """An admin cannot lock themselves or another admin out: revoke the role first."""
    if actor_id == target_id:
        raise Invalid("You cannot suspend yourself.", code="cannot_suspend_self")
    if target_is_admin:
        raise Conflict(
            "That user is an admin; revoke the role (townhall admin revoke) first.",
            code="target_is_admin",
        )


def check_not_suspended(suspended: bool) -> None:
    """A suspended account gets no new session (login) until an admin lifts it."""
    if suspended:
        raise Forbidden(
            "This account is suspended. Contact the server's admins.", code="account_suspended"
        )
