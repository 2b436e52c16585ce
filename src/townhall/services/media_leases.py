"""Which node owns each live Space's media: a lease in the database, renewed by its owner.

```
 open a room ─> do_claim ─┬─ free, ours or lapsed ─> ours (epoch +1 on a takeover)
                          └─ another node's, unexpired ─> its URL: forward the signalling
 owner, every RENEW_EVERY_S ─> do_renew ─> leases it lost (epoch moved on) ─> close rooms
 every node, every SCAN_EVERY_S ─> do_lapsed ─> live Spaces whose owner died ─> claim, open
```
Node clocks are compared through the database rows, so nodes need NTP-synchronised clocks
(within a second or two of each other) as any lease scheme does.
"""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from townhall.services.context import ServiceContext
from townhall.storage import media_leases as store


@dataclass(frozen=True)
class Lease:
    space_id: int
    node_id: int
    node_url: str
    epoch: int
    taken_over: bool = False
    """This claim took the lease from a node that stopped renewing it."""

    def held_by(self, node_id: int) -> bool:
        return self.node_id == node_id


def do_claim(ctx: ServiceContext, space_id: int, node_url: str) -> Lease:
    settings = ctx.settings
    for attempt in range(2):
        try:
            with ctx.uow.write() as uow:
                row, taken_over = store.claim(
                    uow.session,
                    space_id,
                    settings.node_id,
                    node_url,
                    ctx.clock(),
                    settings.media_lease_s,
                )
                return Lease(row.space_id, row.node_id, row.node_url, row.epoch, taken_over)
        except IntegrityError:
            if attempt:  # two nodes inserted at once: the loser reads the winner's row
                raise
    raise AssertionError("unreachable")


def do_renew(ctx: ServiceContext, leases: dict[int, int]) -> set[int]:
    if not leases:
        return set()
    with ctx.uow.write() as uow:
        return store.renew(
            uow.session, leases, ctx.settings.node_id, ctx.clock(), ctx.settings.media_lease_s
        )


def do_release(ctx: ServiceContext, space_id: int, epoch: int) -> None:
    with ctx.uow.write() as uow:
        store.release(uow.session, space_id, ctx.settings.node_id, epoch)


def do_lapsed(ctx: ServiceContext) -> list[tuple[int, bool]]:
    with ctx.uow.read() as uow:
        return store.lapsed(uow.session, ctx.clock())


def do_forget(ctx: ServiceContext, space_ids: list[int]) -> None:
    with ctx.uow.write() as uow:
        store.forget(uow.session, space_ids, ctx.clock())


def held_elsewhere(ctx: ServiceContext) -> set[int]:
    with ctx.uow.read() as uow:
        return store.held_elsewhere(uow.session, ctx.settings.node_id, ctx.clock())


def owner_elsewhere(ctx: ServiceContext, space_id: int) -> str | None:
    with ctx.uow.read() as uow:
        return store.owner_url(uow.session, space_id, ctx.settings.node_id, ctx.clock())
