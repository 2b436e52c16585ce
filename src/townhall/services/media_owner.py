"""This node's side of media ownership: claim before opening a room, renew while it is
open, give it up when it closes, and adopt the live Spaces of a node that died.

Only with several nodes (Redis configured); one node owns everything without asking.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from townhall.services import media_leases
from townhall.services.context import ServiceContext

log = logging.getLogger("townhall.media")

RENEW_EVERY_S_FRACTION = 3
"""Renew three times per lease period: two missed renewals in a row still keep it."""

Adopt = Callable[[int], Awaitable[None]]
"""space_id -> open the room of a live Space whose owner died (the lease is already ours)."""
TakenOver = Callable[[int], Awaitable[None]]
"""space_id -> this node just took the Space from a dead node: tell its clients."""
Drop = Callable[[int], Awaitable[None]]
"""space_id -> close a room whose lease another node took while we were stalled."""


class MediaOwnership:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._held: dict[int, int] = {}
        """space_id -> epoch of the leases this node holds."""
        self._task: asyncio.Task[None] | None = None
        self._adopt: Adopt | None = None
        self._drop: Drop | None = None
        self._taken_over: TakenOver | None = None
        self._background: set[asyncio.Future[None]] = set()

    @property
    def node_url(self) -> str:
        return self._ctx.settings.node_url

    def holds(self, space_id: int) -> bool:
        return space_id in self._held

    async def claim(self, space_id: int) -> str | None:
        """None when this node owns (now) the Space's media, else the owner's URL."""
        if space_id in self._held:
            return None
        lease = await asyncio.to_thread(media_leases.do_claim, self._ctx, space_id, self.node_url)
        if lease.held_by(self._ctx.settings.node_id):
            self._held[space_id] = lease.epoch
            if lease.taken_over:
                log.warning(
                    "space %s: its media node stopped renewing; taken over (epoch %d)",
                    space_id,
                    lease.epoch,
                )
                if self._taken_over is not None:
                    task = asyncio.ensure_future(self._taken_over(space_id))
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
            return None
        return lease.node_url

    async def locate(self, space_id: int) -> str | None:
        """The URL of another node that owns the Space's media, without claiming it."""
        if space_id in self._held:
            return None
        return await asyncio.to_thread(media_leases.owner_elsewhere, self._ctx, space_id)

    async def release(self, space_id: int) -> None:
        epoch = self._held.pop(space_id, None)
        if epoch is None:
            return
        try:
            await asyncio.to_thread(media_leases.do_release, self._ctx, space_id, epoch)
        except Exception:
            log.exception("space %s: could not give up the media lease (it will lapse)", space_id)

    def start(self, adopt: Adopt, drop: Drop, taken_over: TakenOver) -> None:
        self._adopt = adopt
        self._drop = drop
        self._taken_over = taken_over
        self._task = asyncio.create_task(self._run(), name="media-leases")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._background):
            task.cancel()

    async def _run(self) -> None:
        period_s = self._ctx.settings.media_lease_s / RENEW_EVERY_S_FRACTION
        while True:
            await asyncio.sleep(period_s)
            try:
                await self._renew()
                await self._adopt_orphans()
            except Exception:
                log.exception("media leases: this round failed; retrying")

    async def _renew(self) -> None:
        held = dict(self._held)
        lost = await asyncio.to_thread(media_leases.do_renew, self._ctx, held)
        for space_id in lost:
            if self._held.get(space_id) != held[space_id]:
                continue  # released or re-claimed meanwhile
            del self._held[space_id]
            log.warning("space %s: another node took over its media; closing here", space_id)
            if self._drop is not None:
                await self._drop(space_id)

    async def _adopt_orphans(self) -> None:
        lapsed = await asyncio.to_thread(media_leases.do_lapsed, self._ctx)
        ended = [space_id for space_id, live in lapsed if not live]
        if ended:
            await asyncio.to_thread(media_leases.do_forget, self._ctx, ended)
        for space_id, live in lapsed:
            if not live or space_id in self._held:
                continue
            if await self.claim(space_id) is not None:
                continue  # another node was quicker
            if self._adopt is not None:
                try:
                    await self._adopt(space_id)
                except Exception:
                    log.exception("space %s: taking over its media failed", space_id)
                    await self.release(space_id)
