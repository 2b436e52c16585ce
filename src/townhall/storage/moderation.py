"""Queries of reports, suspensions, the moderation audit log, admins and host bans."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from townhall.storage.tables import (
    AuthTokenRow,
    HostBanRow,
    ModerationLogRow,
    ReportRow,
    SpaceParticipantRow,
    SpacePinRow,
    SpaceRow,
    UserRow,
    UserSuspensionRow,
)


def add_report(session: Session, row: ReportRow) -> None:
    session.add(row)


def get_report(session: Session, report_id: int, for_update: bool = False) -> ReportRow | None:
    return session.get(ReportRow, report_id, with_for_update=for_update)


def reports_page(
    session: Session, state: str | None, before_id: int | None, limit: int
) -> list[ReportRow]:
    """Newest first; `limit` rows (the caller asks one more to know there is a next page)."""
    statement = select(ReportRow).order_by(ReportRow.id.desc()).limit(limit)
    if state is not None:
        statement = statement.where(ReportRow.state == state)
    if before_id is not None:
        statement = statement.where(ReportRow.id < before_id)
    return list(session.scalars(statement))


def close_open_reports(
    session: Session, target_type: str, target_id: int, state: str, by: int | None, when: datetime
) -> None:
    """Acting on a target settles every open report of it, not only the one in hand."""
    session.execute(
        update(ReportRow)
        .where(
            ReportRow.target_type == target_type,
            ReportRow.target_id == target_id,
            ReportRow.state == "open",
        )
        .values(state=state, handled_by=by, handled_at=when)
    )


def add_log(session: Session, row: ModerationLogRow) -> None:
    session.add(row)


def log_page(session: Session, before_id: int | None, limit: int) -> list[ModerationLogRow]:
    statement = select(ModerationLogRow).order_by(ModerationLogRow.id.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(ModerationLogRow.id < before_id)
    return list(session.scalars(statement))


def get_suspension(session: Session, user_id: int) -> UserSuspensionRow | None:
    return session.get(UserSuspensionRow, user_id)


def suspended_ids(session: Session, user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(UserSuspensionRow.user_id).where(UserSuspensionRow.user_id.in_(user_ids))
        )
    )


def add_suspension(session: Session, row: UserSuspensionRow) -> None:
    session.add(row)


def remove_suspension(session: Session, user_id: int) -> None:
    session.execute(delete(UserSuspensionRow).where(UserSuspensionRow.user_id == user_id))


def revoke_all_tokens(session: Session, user_id: int, when: datetime) -> list[str]:
    """Revokes every live token of the user; returns their hashes for the token cache."""
    hashes = list(
        session.scalars(
            select(AuthTokenRow.token_hash).where(
                AuthTokenRow.user_id == user_id, AuthTokenRow.revoked_at.is_(None)
            )
        )
    )
    session.execute(
        update(AuthTokenRow)
        .where(AuthTokenRow.user_id == user_id, AuthTokenRow.revoked_at.is_(None))
        .values(revoked_at=when)
    )
    return hashes


def live_space_ids_of_host(session: Session, host_id: int) -> list[int]:
    return list(
        session.scalars(
            select(SpaceRow.id).where(SpaceRow.host_id == host_id, SpaceRow.state == "live")
        )
    )


def set_admin(session: Session, user_id: int, is_admin: bool) -> None:
    session.execute(update(UserRow).where(UserRow.id == user_id).values(is_admin=is_admin))


def host_bans(session: Session, host_id: int) -> list[tuple[HostBanRow, UserRow]]:
    """Whom the host keeps out of their Spaces, most recent first."""
    rows = session.execute(
        select(HostBanRow, UserRow)
        .join(UserRow, UserRow.id == HostBanRow.user_id)
        .where(HostBanRow.host_id == host_id)
        .order_by(HostBanRow.created_at.desc(), HostBanRow.user_id)
    )
    return [(row[0], row[1]) for row in rows]


def remove_host_ban(session: Session, host_id: int, user_id: int) -> bool:
    result = session.execute(
        delete(HostBanRow).where(HostBanRow.host_id == host_id, HostBanRow.user_id == user_id)
    )
    return bool(getattr(result, "rowcount", 0))


def open_report_by(session: Session, reporter_id: int, target_type: str, target_id: int) -> bool:
    return (
        session.scalar(
            select(ReportRow.id)
            .where(
                ReportRow.reporter_id == reporter_id,
                ReportRow.target_type == target_type,
                ReportRow.target_id == target_id,
                ReportRow.state == "open",
            )
            .limit(1)
        )
        is not None
    )


def spaces_pinning(session: Session, post_id: int) -> list[int]:
    return list(session.scalars(select(SpacePinRow.space_id).where(SpacePinRow.post_id == post_id)))


def live_spaces_present_in(session: Session, user_id: int) -> list[int]:
    """The live Spaces (anyone's) the user is in right now."""
    return list(
        session.scalars(
            select(SpaceParticipantRow.space_id)
            .join(SpaceRow, SpaceRow.id == SpaceParticipantRow.space_id)
            .where(
                SpaceParticipantRow.user_id == user_id,
                SpaceParticipantRow.present.is_(True),
                SpaceRow.state == "live",
            )
        )
    )
