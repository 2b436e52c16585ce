"""Use cases for pins, shared posts and reactions in a live Space."""

import asyncio

from townhall.domain.errors import NotFound
from townhall.domain.pagination import MAX_PAGE_SIZE
from townhall.domain.spaces import actions
from townhall.domain.spaces.model import SpaceEvent
from townhall.domain.spaces.reactions import check_reaction
from townhall.services.context import ServiceContext
from townhall.services.lookup import require_post
from townhall.services.spaces import commit_change, limits_of, load, participant
from townhall.services.views import PostView, post_views
from townhall.storage import space_extras as store
from townhall.storage import spaces as spaces_store
from townhall.storage.tables import SpacePinRow
from townhall.types import UserId


def do_pin(ctx: ServiceContext, actor_id: UserId, space_id: int, post_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        pinned = store.pinned_ids(uow.session, [space_id])[space_id]
        actor = participant(uow.session, space_id, actor_id)
        if post_id in pinned:
            actions.check_may_unpin(loaded.space, actor)
            return
        actions.check_may_pin(loaded.space, actor, len(pinned), limits_of(ctx))
        post = post_views(uow.session, [require_post(uow.session, post_id)])[0]
        store.add_pin(
            uow.session,
            SpacePinRow(
                space_id=space_id, post_id=post_id, pinned_by=actor_id, created_at=ctx.clock()
            ),
        )
        from townhall.services.json import to_json

        event = SpaceEvent(
            "pin.added", {"post_id": post_id, "post": to_json(post), "actor_id": actor_id}
        )
        commit_change(ctx, uow, loaded, [event], [])


def do_unpin(ctx: ServiceContext, actor_id: UserId, space_id: int, post_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        actions.check_may_unpin(loaded.space, participant(uow.session, space_id, actor_id))
        if not store.remove_pin(uow.session, space_id, post_id):
            raise NotFound("That post is not pinned here.", code="pin_not_found")
        event = SpaceEvent("pin.removed", {"post_id": post_id, "actor_id": actor_id})
        commit_change(ctx, uow, loaded, [event], [])


def shared_posts(ctx: ServiceContext, viewer_id: UserId | None, space_id: int) -> list[PostView]:
    with ctx.uow.read() as uow:
        load(uow.session, space_id, viewer_id)
        return post_views(uow.session, store.shared_posts(uow.session, space_id, MAX_PAGE_SIZE))


def check_may_react(ctx: ServiceContext, user_id: UserId, space_id: int) -> None:
    """The database's answer: the Space is live, visible to them, and they are in it."""
    with ctx.uow.read() as uow:
        loaded = load(uow.session, space_id, user_id)
        actions.check_may_react(loaded.space, participant(uow.session, space_id, user_id))


def _audience(ctx: ServiceContext, space_id: int) -> list[int]:
    with ctx.uow.read() as uow:
        return spaces_store.may_react(uow.session, space_id)


async def require_present(ctx: ServiceContext, user_id: UserId, space_id: int) -> None:
    """Raises unless the user is in the live Space (and may react there).

    On the event loop: someone this node knows to be in the Space (see reaction_permits)
    costs no database and no thread. A worker thread's database check under load waits
    for the GIL at every query, behind the loop's own work: tens of milliseconds each, a
    second in a storm of joins.
    """
    permits = ctx.reaction_permits
    if permits.allows(space_id, user_id):
        return
    generation, fresh = permits.prepare(space_id)
    if fresh:
        # The first check in a Space this node has not seen: learn its whole audience in
        # one query rather than one check per person.
        audience = await asyncio.to_thread(_audience, ctx, space_id)
        permits.remember_all(space_id, audience, generation)
    if not permits.allows(space_id, user_id):
        await asyncio.to_thread(check_may_react, ctx, user_id, space_id)
        permits.remember(space_id, user_id, generation)


async def accept_reaction(
    ctx: ServiceContext, user_id: UserId, space_id: int, emoji: str, client_ip: str | None = None
) -> None:
    """Validates, authorizes and rate-limits a reaction; the caller hands it to the batcher.

    Runs on the event loop; who may react is `require_present`'s answer.
    """
    check_reaction(emoji)
    await require_present(ctx, user_id, space_id)
    await ctx.rate_limits.count("reaction", str(user_id), client_ip)
