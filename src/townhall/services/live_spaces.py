"""Use case for the live row of the home timeline: Spaces your people are live in."""

from townhall.domain.pagination import check_limit
from townhall.services.context import ServiceContext
from townhall.services.space_views import SpaceView, space_views
from townhall.storage.live_spaces import followed_live_spaces
from townhall.types import UserId


def live_spaces_of_followed(
    ctx: ServiceContext, viewer_id: UserId, limit: int | None
) -> list[SpaceView]:
    with ctx.uow.read() as uow:
        rows = followed_live_spaces(uow.session, viewer_id, check_limit(limit))
        return space_views(uow.session, rows)
