"""Reads behind the X API v2 compatible Spaces lookup: many Spaces and users per request.

Every query goes through `storage.spaces.discovery_query`, so a Space whose host blocked
the viewer (or whom the viewer blocked) is hidden here exactly as in discovery.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import UnaryExpression

from townhall.domain.spaces.lifecycle import SpaceState
from townhall.services.context import ServiceContext
from townhall.services.space_views import SpaceView, space_views
from townhall.services.views import UserView, user_view
from townhall.storage import spaces as store
from townhall.storage import users as user_store
from townhall.storage.tables import SpaceRow
from townhall.types import UserId

# The states a creator lookup or a search can return: X never lists ended Spaces there.
UPCOMING_STATES = (SpaceState.LIVE, SpaceState.SCHEDULED)


def get_spaces_by_ids(
    ctx: ServiceContext, space_ids: Iterable[int], viewer_id: UserId | None
) -> dict[int, SpaceView]:
    """The Spaces among `space_ids` that exist and that the viewer may see, by id."""
    wanted = sorted(set(space_ids))
    if not wanted:
        return {}
    with ctx.uow.read() as uow:
        rows: list[SpaceRow] = []
        for state in SpaceState:
            query = store.discovery_query(viewer_id, state, None).where(SpaceRow.id.in_(wanted))
            rows.extend(uow.session.scalars(query))
        return {view.id: view for view in space_views(uow.session, rows)}


def get_spaces_by_creators(
    ctx: ServiceContext, creator_ids: Iterable[int], viewer_id: UserId | None
) -> list[SpaceView]:
    """Live then scheduled Spaces created by these users: live by audience, scheduled soonest."""
    creators = sorted(set(creator_ids))
    if not creators:
        return []
    with ctx.uow.read() as uow:
        rows: list[SpaceRow] = []
        for state in UPCOMING_STATES:
            query = (
                store.discovery_query(viewer_id, state, None)
                .where(SpaceRow.host_id.in_(creators))
                .order_by(*_order_for(state))
            )
            rows.extend(uow.session.scalars(query))
        return space_views(uow.session, rows)


def search_spaces(
    ctx: ServiceContext,
    text_query: str,
    states: Iterable[SpaceState],
    viewer_id: UserId | None,
    limit: int,
) -> list[SpaceView]:
    """Spaces whose title (or a topic) contains the query: live first, then scheduled."""
    with ctx.uow.read() as uow:
        rows: list[SpaceRow] = []
        for state in states:
            remaining = limit - len(rows)
            if remaining <= 0:
                break
            query = (
                store.discovery_query(viewer_id, state, text_query)
                .order_by(*_order_for(state))
                .limit(remaining)
            )
            rows.extend(uow.session.scalars(query))
        return space_views(uow.session, rows)


def get_users_by_ids(ctx: ServiceContext, user_ids: Iterable[int]) -> dict[int, UserView]:
    """Public profiles for the users a response expands, by id; unknown ids are left out."""
    with ctx.uow.read() as uow:
        rows = user_store.get_users(uow.session, user_ids)
        return {user_id: user_view(row) for user_id, row in rows.items()}


def _order_for(state: SpaceState) -> list[UnaryExpression[Any]]:
    if state is SpaceState.LIVE:
        return [SpaceRow.participant_count.desc(), SpaceRow.id.desc()]
    if state is SpaceState.SCHEDULED:
        return [SpaceRow.scheduled_start.asc(), SpaceRow.id.asc()]
    return [SpaceRow.ended_at.desc(), SpaceRow.id.desc()]
