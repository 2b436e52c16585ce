"""Use cases for people in a Space: join, leave, ask to speak, invites, roles, mute, remove."""

import json
import logging
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from townhall.domain.errors import Forbidden, NotFound
from townhall.domain.notifications import NotificationKind
from townhall.domain.spaces import actions
from townhall.domain.spaces.model import Access, Participant, SpaceEvent
from townhall.domain.spaces.roles import Role
from townhall.services import space_log
from townhall.services.context import ServiceContext
from townhall.services.json import to_json
from townhall.services.notifications import notify
from townhall.services.space_log import space_channel
from townhall.services.space_views import (
    ParticipantView,
    participant_row_views,
    participant_view,
    participant_views,
)
from townhall.services.spaces import Loaded, commit_change, hidden, limits_of, load, participant
from townhall.services.views import UserSummary, user_summaries
from townhall.storage import social as social_store
from townhall.storage import space_joins as joins
from townhall.storage import spaces as store
from townhall.storage import users as user_store
from townhall.storage.tables import HostBanRow, SpaceInviteRow
from townhall.storage.uow import UnitOfWork
from townhall.types import UserId

log = logging.getLogger("townhall.spaces")


def access_of(session: Session, loaded: Loaded, user_id: int) -> Access:
    host_id = loaded.space.host_id
    if user_id == host_id:
        return Access(followed_by_host=True)
    return Access(
        blocked_with_host=store.blocked_with(session, user_id, host_id),
        banned_by_host=store.is_banned(session, host_id, user_id),
        followed_by_host=social_store.get_follow(session, host_id, user_id) is not None,
    )


def _target(session: Session, space_id: int, user_id: int) -> Participant | None:
    return participant(session, space_id, user_id)


def do_join(ctx: ServiceContext, user_id: UserId, space_id: int) -> ParticipantView:
    """The hot path of a join storm: a listener's join is seven small Core statements in
    one write transaction (storage/space_joins.py), the count kept by increment."""
    with ctx.uow.write() as uow:
        conn = uow.session.connection()
        row = joins.space(conn, space_id)
        if row is None:
            raise hidden()
        if user_id == row.host_id:
            return _host_joins(ctx, uow, user_id, space_id)
        blocked, banned = joins.barriers(conn, user_id, row.host_id)
        if blocked:
            raise hidden()  # as load() would for a viewer: a block hides the Space
        # A listener's join needs no stage: only the host joins onto it.
        space = store.to_space(row, [])  # type: ignore[arg-type]
        before = joins.participant(conn, space_id, user_id)
        existing = store.to_participant(before) if before is not None else None  # type: ignore[arg-type]
        access = Access(banned_by_host=banned)
        now = ctx.clock()
        person, events = actions.join(space, user_id, existing, access, now)
        users = user_summaries(uow.session, {user_id})
        if events:
            was_present = before is not None and bool(before.present)
            count = max(0, row.participant_count + int(person.present) - int(was_present))
            joins.save(conn, space_id, person, existed=before is not None)
            seq = _record_join_events(uow, conn, space_id, row.event_seq, events, count, users, now)
            joins.set_counters(conn, space_id, seq, count)
            if count != row.participant_count:
                space_log.ephemeral(
                    uow, space_id, "listeners.count", {"participant_count": count}, now
                )
            uow.after_commit(lambda: ctx.reaction_permits.joined(space_id, user_id))
        return participant_views(uow.session, [person], users)[0]


def _record_join_events(
    uow: UnitOfWork,
    conn: Connection,
    space_id: int,
    seq: int,
    events: list[SpaceEvent],
    count: int,
    users: dict[int, UserSummary],
    now: datetime,
) -> int:
    """As commit_change would: the count and the joiner's summary in each event, state
    events numbered and stored, every event published after commit. Returns the last seq."""
    for event in events:
        data = dict(event.data)
        data["participant_count"] = count
        summary = users.get(data["user_id"])
        data["user"] = to_json(summary) if summary is not None else None
        payload = to_json(data)
        event_seq = None
        if event.state:
            seq += 1
            event_seq = seq
            joins.append_event(conn, space_id, seq, event.type, json.dumps(payload), now)
        uow.emit(
            space_channel(space_id), space_log.frame(event.type, space_id, event_seq, now, payload)
        )
    return seq


def _host_joins(
    ctx: ServiceContext, uow: UnitOfWork, user_id: UserId, space_id: int
) -> ParticipantView:
    loaded = load(uow.session, space_id, None, lock=True)
    existing = participant(uow.session, space_id, user_id)
    person, events = actions.join(
        loaded.space, user_id, existing, Access(followed_by_host=True), ctx.clock()
    )
    users = user_summaries(uow.session, {user_id})
    if events:
        commit_change(ctx, uow, loaded, events, [person], known_users=users)
    return participant_views(uow.session, [person], users)[0]


def do_leave(ctx: ServiceContext, user_id: UserId, space_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, user_id, lock=True)
        person = participant(uow.session, space_id, user_id)
        if person is None:
            return
        events = actions.leave(loaded.space, person, ctx.clock())
        commit_change(ctx, uow, loaded, events, [person])


def list_participants(
    ctx: ServiceContext, viewer_id: UserId | None, space_id: int
) -> list[ParticipantView]:
    with ctx.uow.read() as uow:
        load(uow.session, space_id, viewer_id)
        return participant_row_views(uow.session, store.present_participants(uow.session, space_id))


def do_raise_hand(ctx: ServiceContext, user_id: UserId, space_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, user_id, lock=True)
        person = participant(uow.session, space_id, user_id)
        invited = store.get_invite(uow.session, space_id, user_id) is not None
        events = actions.raise_hand(
            loaded.space, person, access_of(uow.session, loaded, user_id), invited
        )
        commit_change(ctx, uow, loaded, events, [person] if person else [])


def do_lower_hand(ctx: ServiceContext, user_id: UserId, space_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, user_id, lock=True)
        person = participant(uow.session, space_id, user_id)
        events = actions.lower_hand(loaded.space, person)
        commit_change(ctx, uow, loaded, events, [person] if person else [])


def do_answer_request(
    ctx: ServiceContext, actor_id: UserId, space_id: int, target_id: int, approve: bool
) -> ParticipantView | None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        actor = participant(uow.session, space_id, actor_id)
        target = _target(uow.session, space_id, target_id)
        if approve:
            events = actions.approve_request(loaded.space, actor, target, limits_of(ctx))
        else:
            events = actions.deny_request(loaded.space, actor, target)
        assert target is not None
        commit_change(ctx, uow, loaded, events, [target])
        return participant_view(uow.session, target) if approve else None


def do_invite(
    ctx: ServiceContext, actor_id: UserId, space_id: int, invitee_id: int, role: Role
) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        if user_store.get_user(uow.session, invitee_id) is None:
            raise NotFound("No such user.", code="user_not_found")
        actor = participant(uow.session, space_id, actor_id)
        target = _target(uow.session, space_id, invitee_id)
        events = actions.invite(
            loaded.space,
            actor,
            actor_id,
            UserId(invitee_id),
            role,
            access_of(uow.session, loaded, invitee_id),
            target,
        )
        store.put_invite(
            uow.session,
            SpaceInviteRow(
                space_id=space_id,
                user_id=invitee_id,
                role=role.value,
                invited_by=actor_id,
                created_at=ctx.clock(),
            ),
        )
        commit_change(ctx, uow, loaded, events, [])
        notify(ctx, uow, UserId(invitee_id), NotificationKind.INVITE, actor_id, space_id)
    log.info("space %s: %s invited %s as %s", space_id, actor_id, invitee_id, role.value)


def do_accept_invite(ctx: ServiceContext, user_id: UserId, space_id: int) -> ParticipantView:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, user_id, lock=True)
        invite = store.get_invite(uow.session, space_id, user_id)
        if invite is None:
            raise NotFound("You have no invite to this Space.", code="no_invite")
        existing = participant(uow.session, space_id, user_id)
        person, events = actions.join(
            loaded.space, user_id, existing, access_of(uow.session, loaded, user_id), ctx.clock()
        )
        events += actions.accept_invite(loaded.space, Role(invite.role), person, limits_of(ctx))
        store.delete_invite(uow.session, space_id, user_id)
        commit_change(ctx, uow, loaded, events, [person])
        return participant_view(uow.session, person)


def do_decline_invite(ctx: ServiceContext, user_id: UserId, space_id: int) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, user_id, lock=True)
        if store.get_invite(uow.session, space_id, user_id) is None:
            raise NotFound("You have no invite to this Space.", code="no_invite")
        store.delete_invite(uow.session, space_id, user_id)
        commit_change(ctx, uow, loaded, [], [])


def do_set_role(
    ctx: ServiceContext, actor_id: UserId, space_id: int, target_id: int, role: Role
) -> ParticipantView:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        actor = participant(uow.session, space_id, actor_id)
        target = _target(uow.session, space_id, target_id)
        events = actions.set_role(loaded.space, actor, target, role, limits_of(ctx))
        assert target is not None
        commit_change(ctx, uow, loaded, events, [target])
        return participant_view(uow.session, target)


def do_mute(
    ctx: ServiceContext, actor_id: UserId, space_id: int, target_id: int
) -> ParticipantView:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        actor = participant(uow.session, space_id, actor_id)
        target = actor if target_id == actor_id else _target(uow.session, space_id, target_id)
        if target_id == actor_id and actor is not None and actor.role is not Role.LISTENER:
            events = actions.set_self_muted(loaded.space, actor, True)
        else:
            events = actions.mute(loaded.space, actor, target)
        assert target is not None
        commit_change(ctx, uow, loaded, events, [target])
        return participant_view(uow.session, target)


def do_set_self_muted(
    ctx: ServiceContext, user_id: UserId, space_id: int, muted: bool
) -> ParticipantView:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, user_id, lock=True)
        person = participant(uow.session, space_id, user_id)
        events = actions.set_self_muted(loaded.space, person, muted)
        assert person is not None
        commit_change(ctx, uow, loaded, events, [person])
        return participant_view(uow.session, person)


def do_remove(
    ctx: ServiceContext, actor_id: UserId, space_id: int, target_id: int, block: bool
) -> None:
    with ctx.uow.write() as uow:
        loaded = load(uow.session, space_id, actor_id, lock=True)
        actor = participant(uow.session, space_id, actor_id)
        target = _target(uow.session, space_id, target_id)
        events = actions.remove(loaded.space, actor, target, block)
        assert target is not None
        if block:
            store.add_ban(
                uow.session,
                HostBanRow(
                    host_id=loaded.space.host_id,
                    user_id=target_id,
                    space_id=space_id,
                    created_at=ctx.clock(),
                ),
            )
        store.delete_invite(uow.session, space_id, target_id)
        commit_change(ctx, uow, loaded, events, [target])
    log.info("space %s: %s removed %s (block=%s)", space_id, actor_id, target_id, block)


def require_participant(session: Session, space_id: int, user_id: int) -> Participant:
    person = participant(session, space_id, user_id)
    if person is None or not person.present:
        raise Forbidden("Join the Space first.", code="not_a_participant")
    return person


def present_in_live_spaces(ctx: ServiceContext) -> list[tuple[int, int, bool]]:
    """(space id, user id, is host) for everyone present in a live Space, e.g. after a restart."""
    with ctx.uow.read() as uow:
        return store.present_in_live_spaces(uow.session)
