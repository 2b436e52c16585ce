"""Use cases for live polls: open, vote, read, and close on time or when the Space ends."""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from townhall.domain.errors import NotFound
from townhall.domain.spaces import actions, polls
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.model import SpaceEvent
from townhall.services.context import ServiceContext
from townhall.services.json import to_json
from townhall.services.spaces import Loaded, commit_change, load, participant
from townhall.storage import space_extras as store
from townhall.storage.tables import PollRow, PollVoteRow
from townhall.storage.uow import UnitOfWork
from townhall.types import UserId


@dataclass(frozen=True)
class PollOption:
    text: str
    votes: int


@dataclass(frozen=True)
class PollView:
    id: int
    space_id: int
    question: str
    options: list[PollOption]
    state: str
    closes_at: datetime
    my_vote: int | None


def _views(session: Session, rows: list[PollRow], viewer_id: int | None) -> list[PollView]:
    ids = [row.id for row in rows]
    counts = store.tallies(session, ids)
    mine = store.votes_of(session, ids, viewer_id) if viewer_id is not None else {}
    return [
        PollView(
            id=row.id,
            space_id=row.space_id,
            question=row.question,
            options=[
                PollOption(text, counts[row.id].get(index, 0))
                for index, text in enumerate(json.loads(row.options))
            ],
            state="open" if row.closed_at is None else "closed",
            closes_at=row.closes_at,
            my_vote=mine.get(row.id),
        )
        for row in rows
    ]


def _event(session: Session, kind: str, row: PollRow) -> SpaceEvent:
    # Events go to everyone, so they carry tallies but nobody's own vote.
    return SpaceEvent(kind, {"poll": to_json(_views(session, [row], None)[0])})


def do_open_poll(
    ctx: ServiceContext,
    actor_id: UserId,
    space_id: int,
    question: str,
    options: list[str],
    duration_s: int,
) -> PollView:
    question, options = polls.check_poll(question, options, duration_s)
    now = ctx.clock()
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        actions.check_may_open_poll(loaded.space, participant(uow.session, space_id, actor_id))
        row = PollRow(
            id=ctx.ids.next_id(),
            space_id=space_id,
            question=question,
            options=json.dumps(options),
            created_by=actor_id,
            created_at=now,
            closes_at=polls.closes_at(now, duration_s),
            closed_at=None,
        )
        store_add(uow.session, row)
        commit_change(ctx, uow, loaded, [_event(uow.session, "poll.opened", row)], [])
        return _views(uow.session, [row], actor_id)[0]


def store_add(session: Session, row: PollRow) -> None:
    session.add(row)
    session.flush()


def _require_poll(session: Session, space_id: int, poll_id: int) -> PollRow:
    row = store.get_poll(session, space_id, poll_id)
    if row is None:
        raise NotFound("No such poll.", code="poll_not_found")
    return row


def do_vote(ctx: ServiceContext, user_id: UserId, space_id: int, poll_id: int, option: int) -> None:
    now = ctx.clock()
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, user_id, lock=True)
        actions.check_may_vote(loaded.space, participant(uow.session, space_id, user_id))
        row = _require_poll(uow.session, space_id, poll_id)
        polls.check_vote(
            option,
            len(json.loads(row.options)),
            row.closed_at is None and row.closes_at > now,
            store.has_voted(uow.session, poll_id, user_id),
        )
        store.add_vote(
            uow.session,
            PollVoteRow(poll_id=poll_id, user_id=user_id, option=option, created_at=now),
        )
        commit_change(ctx, uow, loaded, [_event(uow.session, "poll.updated", row)], [])


def list_polls(ctx: ServiceContext, viewer_id: UserId | None, space_id: int) -> list[PollView]:
    with ctx.uow.read() as uow:
        load(uow.session, space_id, viewer_id)
        return _views(uow.session, store.list_polls(uow.session, space_id), viewer_id)


def get_poll(
    ctx: ServiceContext, viewer_id: UserId | None, space_id: int, poll_id: int
) -> PollView:
    with ctx.uow.read() as uow:
        load(uow.session, space_id, viewer_id)
        return _views(uow.session, [_require_poll(uow.session, space_id, poll_id)], viewer_id)[0]


def close_polls_of(ctx: ServiceContext, uow: UnitOfWork, loaded: Loaded, now: datetime) -> None:
    """Called inside the transaction that ends a Space: its open polls close with it."""
    from townhall.services import space_log

    events = []
    for row in store.open_polls(uow.session, loaded.row.id):
        row.closed_at = now
        events.append(_event(uow.session, "poll.closed", row))
    uow.session.flush()
    space_log.record(uow, loaded.row, events, now)


def do_close_due_polls(ctx: ServiceContext) -> int:
    """Closes every poll whose time is up; run every second by the server's timer."""
    now = ctx.clock()
    with ctx.uow.read() as uow:
        due = list(
            uow.session.execute(
                select(PollRow.id, PollRow.space_id).where(
                    PollRow.closed_at.is_(None), PollRow.closes_at <= now
                )
            )
        )
    for poll_id, space_id in due:
        with ctx.uow.write() as uow:
            loaded = load(uow.session, space_id, None, lock=True)
            row = uow.session.get(PollRow, poll_id)
            if row is None or row.closed_at is not None:
                continue
            row.closed_at = now
            uow.session.flush()
            if loaded.space.state is SpaceState.ENDED:
                continue
            commit_change(ctx, uow, loaded, [_event(uow.session, "poll.closed", row)], [])
    return len(due)
