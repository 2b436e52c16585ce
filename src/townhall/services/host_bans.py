"""Use cases of a host's ban list: keep someone out of all your Spaces, see whom, lift it.

The same list a host's remove-and-block in a Space adds to (services/space_stage.do_remove);
a join checks it (storage/space_joins.barriers) and refuses with 403 `banned`.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from townhall.domain.errors import DomainError, Invalid, NotFound
from townhall.services import space_stage
from townhall.services.context import ServiceContext
from townhall.services.lookup import require_user, require_user_id
from townhall.services.views import UserSummary, user_summary
from townhall.storage import moderation as store
from townhall.storage import spaces as space_store
from townhall.storage.tables import HostBanRow
from townhall.types import UserId

log = logging.getLogger("townhall.bans")


@dataclass(frozen=True)
class BanView:
    user_id: int
    user: UserSummary
    space_id: int | None
    """The Space they were removed from, when the ban came from a removal."""
    created_at: datetime


@dataclass(frozen=True)
class Banned:
    """Who to ban: by username (from a profile) or by id (from a participant list)."""

    username: str | None = None
    user_id: int | None = None


def do_ban(ctx: ServiceContext, host_id: UserId, who: Banned) -> BanView:
    """Idempotent: banning someone already banned returns the ban that exists."""
    with ctx.uow.write() as uow:
        if who.username is not None:
            target = require_user(uow.session, who.username)
        elif who.user_id is not None:
            target = require_user_id(uow.session, who.user_id)
        else:
            raise Invalid("Give a username or a user_id.", code="invalid")
        if target.id == host_id:
            raise Invalid("You cannot ban yourself from your own Spaces.", code="cannot_ban_self")
        space_store.add_ban(
            uow.session,
            HostBanRow(host_id=host_id, user_id=target.id, space_id=None, created_at=ctx.clock()),
        )
        uow.session.flush()
        ban = uow.session.get(HostBanRow, (host_id, target.id))
        assert ban is not None
        view = BanView(target.id, user_summary(target), ban.space_id, ban.created_at)
        live = store.live_space_ids_of_host(uow.session, host_id)
    log.info("host %s banned %s from their Spaces", host_id, target.id)
    for space_id in live:
        # Someone already in the host's live Space is removed as "remove and block" would.
        with contextlib.suppress(DomainError):
            space_stage.do_remove(ctx, host_id, space_id, target.id, block=True)
    return view


def list_bans(ctx: ServiceContext, host_id: UserId) -> list[BanView]:
    with ctx.uow.read() as uow:
        return [
            BanView(user.id, user_summary(user), ban.space_id, ban.created_at)
            for ban, user in store.host_bans(uow.session, host_id)
        ]


def do_lift_ban(ctx: ServiceContext, host_id: UserId, user_id: int) -> None:
    with ctx.uow.write() as uow:
        if not store.remove_host_ban(uow.session, host_id, user_id):
            raise NotFound("You have not banned that user.", code="ban_not_found")
    log.info("host %s lifted the ban of %s", host_id, user_id)
