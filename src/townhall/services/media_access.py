"""Who may send or receive a Space's audio: checked on the server before any WebRTC work."""

from dataclasses import dataclass

from townhall.domain.errors import Forbidden
from townhall.domain.spaces.lifecycle import SpaceState, require_state
from townhall.domain.spaces.roles import STAGE_ROLES, Role
from townhall.services.context import ServiceContext
from townhall.services.space_extras import require_present
from townhall.services.spaces import load, participant
from townhall.types import UserId


@dataclass(frozen=True)
class MediaGrant:
    space_id: int
    user_id: int
    role: Role
    muted: bool


def check_publish(ctx: ServiceContext, user_id: UserId, space_id: int) -> MediaGrant:
    """Host, co-hosts and speakers send their microphone; anyone else gets a 403."""
    with ctx.uow.read() as uow:
        loaded = load(uow.session, space_id, user_id)
        require_state(loaded.space.state, SpaceState.LIVE)
        person = participant(uow.session, space_id, user_id)
        if person is None or not person.present or person.role not in STAGE_ROLES:
            raise Forbidden("Only people on stage can send audio.", code="not_on_stage")
        return MediaGrant(space_id, user_id, person.role, person.muted)


async def check_listen(ctx: ServiceContext, user_id: UserId, space_id: int) -> None:
    """Anyone in the live Space hears it: the same presence check that lets them react,
    answered from memory on the event loop when this node knows them (joins come in storms,
    and a database check per join in a worker thread queued behind the loop)."""
    try:
        await require_present(ctx, user_id, space_id)
    except Forbidden as exc:
        raise Forbidden("Join the Space to listen.", code="not_a_participant") from exc
