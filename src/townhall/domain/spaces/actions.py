"""Every action on a Space: checks who may do it, changes the aggregate, returns its events.

Functions mutate the Space and Participants they are given and return the events to
publish; the caller persists what changed. Nothing here does I/O.
"""

from datetime import datetime, timedelta
from typing import Any

from townhall.domain.errors import Conflict, Forbidden, Invalid, NotFound
from townhall.domain.spaces.lifecycle import SpaceState, check_transition, require_state
from townhall.domain.spaces.model import (
    Access,
    Limits,
    Participant,
    Space,
    SpaceEvent,
    WhoCanSpeak,
    participant_data,
)
from townhall.domain.spaces.roles import (
    STAGE_ROLES,
    Action,
    Role,
    check_allowed,
    check_may_moderate,
)
from townhall.domain.text import has_control_chars
from townhall.types import UserId

TITLE_MAX_CHARS = 70


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("A Space needs a title.", code="empty_title")
    if len(title) > TITLE_MAX_CHARS:
        raise Invalid(f"Titles are at most {TITLE_MAX_CHARS} characters.", code="title_too_long")
    if has_control_chars(title):
        raise Invalid("Titles cannot hold control characters.", code="invalid_title")
    return title


TOPIC_ID_MAX_CHARS = 40


def check_labels(topic_ids: list[str], lang: str | None) -> None:
    """Topic ids and the language tag are labels: short, printable, no lone surrogates (a
    stored one could never be written out as JSON again: every read of the Space failed)."""
    for topic in topic_ids:
        if not topic or len(topic) > TOPIC_ID_MAX_CHARS or has_control_chars(topic):
            raise Invalid(
                f"Topic ids are 1 to {TOPIC_ID_MAX_CHARS} printable characters.",
                code="invalid_topic_ids",
            )
    if lang is not None and (not lang or has_control_chars(lang) or not lang.isprintable()):
        raise Invalid("lang is a language tag such as 'en'.", code="invalid_lang")


def check_can_host(followers_count: int, min_followers: int) -> None:
    if followers_count < min_followers:
        raise Forbidden(
            f"You need at least {min_followers} followers to host a Space "
            f"(you have {followers_count}).",
            code="not_enough_followers",
        )


def check_schedule(scheduled_start: datetime, now: datetime, limits: Limits) -> None:
    if scheduled_start <= now:
        raise Invalid("A scheduled start must be in the future.", code="start_in_past")
    if scheduled_start > now + timedelta(days=limits.max_schedule_ahead_days):
        raise Invalid(
            f"Spaces can be scheduled at most {limits.max_schedule_ahead_days} days ahead.",
            code="start_too_far",
        )


def _role_of(space: Space, participant: Participant | None) -> Role | None:
    if participant is None or not participant.present:
        return None
    if participant.user_id == space.host_id:
        return Role.HOST
    return participant.role


def _changed(kind: str, participant: Participant, **extra: Any) -> SpaceEvent:
    return SpaceEvent(kind, {**participant_data(participant), **extra})


def _space_updated(space: Space) -> SpaceEvent:
    return SpaceEvent("space.updated", {"id": space.id})


def _check_live(space: Space) -> None:
    require_state(space.state, SpaceState.LIVE)


def _require_present(participant: Participant | None) -> Participant:
    if participant is None or not participant.present:
        raise NotFound("That person is not in this Space.", code="not_a_participant")
    return participant


def _check_room_for(space: Space, role: Role, limits: Limits) -> None:
    if role is Role.COHOST and space.count_role(Role.COHOST) >= limits.max_cohosts:
        raise Conflict(f"A Space has at most {limits.max_cohosts} co-hosts.", code="cohosts_full")
    if role is Role.SPEAKER and space.count_role(Role.SPEAKER) >= limits.max_speakers:
        raise Conflict(f"The stage is full ({limits.max_speakers} speakers).", code="stage_full")


def _set_role(space: Space, participant: Participant, role: Role) -> None:
    """Moves someone between stage and audience, keeping `space.stage` in step."""
    joining_stage = role in STAGE_ROLES and participant.role not in STAGE_ROLES
    participant.role = role
    participant.hand_raised = False
    if joining_stage or role is Role.LISTENER:
        participant.muted = True  # people come on stage muted; listeners have no microphone
    if role in STAGE_ROLES and participant.present:
        space.stage[participant.user_id] = participant
    else:
        space.stage.pop(participant.user_id, None)


# Lifecycle -----------------------------------------------------------------------------


def start(space: Space, actor: UserId, now: datetime) -> list[SpaceEvent]:
    if actor != space.host_id:
        raise Forbidden("Only the host can start this Space.", code="not_allowed")
    check_transition(space.state, SpaceState.LIVE)
    space.state = SpaceState.LIVE
    space.started_at = now
    return [SpaceEvent("space.updated", {"id": space.id, "state": "live"})]


def end(space: Space, actor: UserId, now: datetime) -> list[SpaceEvent]:
    if actor != space.host_id:
        raise Forbidden("Only the host can end this Space.", code="not_allowed")
    return _end(space, now)


def _end(space: Space, now: datetime) -> list[SpaceEvent]:
    require_state(space.state, SpaceState.LIVE)
    space.state = SpaceState.ENDED
    space.ended_at = now
    for participant in space.stage.values():
        participant.present = False
    space.stage.clear()
    return [SpaceEvent("space.ended", {"id": space.id})]


def end_by_moderator(space: Space, now: datetime) -> list[SpaceEvent]:
    """An admin ends a Space that breaks the rules, whoever hosts it (domain/moderation.py)."""
    events = _end(space, now)
    return [SpaceEvent(event.type, {**event.data, "by_moderator": True}) for event in events]


def end_for_host_timeout(space: Space, now: datetime) -> list[SpaceEvent]:
    """The host's connection did not come back within the grace period."""
    return _end(space, now)


def cancel(space: Space, actor: UserId, now: datetime) -> list[SpaceEvent]:
    if actor != space.host_id:
        raise Forbidden("Only the host can cancel this Space.", code="not_allowed")
    if space.state is SpaceState.LIVE:
        raise Conflict("A live Space is ended with /end, not cancelled.", code="space_live")
    require_state(space.state, SpaceState.SCHEDULED)
    space.state = SpaceState.ENDED
    space.ended_at = now
    return [SpaceEvent("space.ended", {"id": space.id, "cancelled": True})]


def update(
    space: Space,
    actor: Participant | None,
    actor_id: UserId,
    title: str | None = None,
    who_can_speak: WhoCanSpeak | None = None,
    captions: bool | None = None,
    recording: bool | None = None,
) -> list[SpaceEvent]:
    require_state(space.state, SpaceState.SCHEDULED, SpaceState.LIVE)
    role = Role.HOST if actor_id == space.host_id else _role_of(space, actor)
    check_allowed(Action.UPDATE, role)
    changes_recording = recording is not None and recording != space.recording
    if changes_recording and space.state is SpaceState.LIVE:
        # The recording is the Space from the moment it goes live; one switched on or off
        # halfway would not be the Space, and people who came on stage were told it.
        raise Conflict(
            "Whether a Space is recorded is chosen before it goes live.",
            code="recording_fixed",
        )
    if title is not None:
        space.title = check_title(title)
    if who_can_speak is not None:
        space.who_can_speak = who_can_speak
    if captions is not None:
        space.captions = captions
    if recording is not None:
        space.recording = recording
    return [_space_updated(space)]


# Presence ------------------------------------------------------------------------------


def check_may_enter(space: Space, user_id: UserId, access: Access) -> None:
    if user_id == space.host_id:
        return
    if access.blocked_with_host:
        raise Forbidden("You cannot join this Space.", code="blocked")
    if access.banned_by_host:
        raise Forbidden("The host has removed you from their Spaces.", code="banned")


def join(
    space: Space, user_id: UserId, existing: Participant | None, access: Access, now: datetime
) -> tuple[Participant, list[SpaceEvent]]:
    """Joining twice returns the same participant and changes nothing."""
    _check_live(space)
    check_may_enter(space, user_id, access)
    if existing is not None and existing.present:
        return existing, []
    if existing is None:
        role = Role.HOST if user_id == space.host_id else Role.LISTENER
        existing = Participant(user_id, role, muted=True, hand_raised=False, joined_at=now)
    else:
        existing.present = True
        existing.joined_at = now
        if user_id != space.host_id:
            _set_role(space, existing, Role.LISTENER)
    if existing.role in STAGE_ROLES:
        space.stage[user_id] = existing
    return existing, [_changed("participant.joined", existing)]


def leave(space: Space, participant: Participant, now: datetime) -> list[SpaceEvent]:
    """Leaving drops you to the audience; the host leaving ends the Space for everyone."""
    if not participant.present:
        return []
    if participant.user_id == space.host_id and space.state is SpaceState.LIVE:
        return _end(space, now)
    participant.present = False
    participant.hand_raised = False
    space.stage.pop(participant.user_id, None)
    if participant.role is not Role.HOST:
        participant.role = Role.LISTENER
        participant.muted = True
    return [SpaceEvent("participant.left", {"user_id": participant.user_id})]


# Requests to speak ---------------------------------------------------------------------


def raise_hand(
    space: Space, participant: Participant | None, access: Access, invited: bool
) -> list[SpaceEvent]:
    _check_live(space)
    participant = _require_present(participant)
    check_allowed(Action.RAISE_HAND, _role_of(space, participant))
    if space.who_can_speak is WhoCanSpeak.INVITED and not invited:
        raise Forbidden("In this Space only people the hosts invite can speak.", code="invite_only")
    # An invited person accepts their invite instead of asking.
    if space.who_can_speak is WhoCanSpeak.FOLLOWED and not access.followed_by_host:
        raise Forbidden(
            "In this Space only people the host follows can ask to speak.", code="followed_only"
        )
    if participant.hand_raised:
        return []
    participant.hand_raised = True
    return [SpaceEvent("speak_request.raised", {"user_id": participant.user_id})]


def lower_hand(space: Space, participant: Participant | None) -> list[SpaceEvent]:
    _check_live(space)
    participant = _require_present(participant)
    if not participant.hand_raised:
        return []
    participant.hand_raised = False
    return [SpaceEvent("speak_request.lowered", {"user_id": participant.user_id})]


def _moderator(space: Space, actor: Participant | None, action: Action) -> Role:
    role = _role_of(space, actor)
    check_allowed(action, role)
    assert role is not None
    return role


def approve_request(
    space: Space, actor: Participant | None, target: Participant | None, limits: Limits
) -> list[SpaceEvent]:
    _check_live(space)
    _moderator(space, actor, Action.ANSWER_REQUEST)
    target = _require_present(target)
    if not target.hand_raised:
        raise Conflict("That person has not asked to speak.", code="no_request")
    _check_room_for(space, Role.SPEAKER, limits)
    _set_role(space, target, Role.SPEAKER)
    return [_changed("participant.role_changed", target)]


def deny_request(
    space: Space, actor: Participant | None, target: Participant | None
) -> list[SpaceEvent]:
    _check_live(space)
    _moderator(space, actor, Action.ANSWER_REQUEST)
    target = _require_present(target)
    if not target.hand_raised:
        raise Conflict("That person has not asked to speak.", code="no_request")
    target.hand_raised = False
    return [SpaceEvent("speak_request.lowered", {"user_id": target.user_id, "denied": True})]


# Invites -------------------------------------------------------------------------------


def invite(
    space: Space,
    actor: Participant | None,
    actor_id: UserId,
    invitee: UserId,
    role: Role,
    access: Access,
    target: Participant | None,
) -> list[SpaceEvent]:
    require_state(space.state, SpaceState.SCHEDULED, SpaceState.LIVE)
    actor_role = Role.HOST if actor_id == space.host_id else _role_of(space, actor)
    if role is Role.COHOST:
        check_allowed(Action.INVITE_COHOST, actor_role)
    elif role is Role.SPEAKER:
        check_allowed(Action.INVITE_SPEAKER, actor_role)
    else:
        raise Invalid("Invites are to speak or to co-host.", code="invalid_role")
    if invitee == space.host_id or invitee == actor_id:
        raise Invalid("The host and you yourself need no invite.", code="invalid_invitee")
    check_may_enter(space, invitee, access)
    if target is not None and target.present and target.role in (role, Role.COHOST):
        raise Conflict("That person already has this role.", code="already_on_stage")
    return [
        SpaceEvent("invite.sent", {"user_id": invitee, "role": role.value, "actor_id": actor_id})
    ]


def accept_invite(
    space: Space,
    invite_role: Role | None,
    participant: Participant,
    limits: Limits,
) -> list[SpaceEvent]:
    """Accepting puts you on stage (you must have joined first; the service joins you)."""
    _check_live(space)
    if invite_role is None:
        raise NotFound("You have no invite to this Space.", code="no_invite")
    if invite_role not in (Role.SPEAKER, Role.COHOST):
        raise Invalid("Invites are to speak or to co-host.", code="invalid_role")
    participant = _require_present(participant)
    if participant.role is invite_role or (
        participant.role is Role.COHOST and invite_role is Role.SPEAKER
    ):
        return []
    _check_room_for(space, invite_role, limits)
    _set_role(space, participant, invite_role)
    return [_changed("participant.role_changed", participant)]


# Stage management ----------------------------------------------------------------------


def set_role(
    space: Space,
    actor: Participant | None,
    target: Participant | None,
    role: Role,
    limits: Limits,
) -> list[SpaceEvent]:
    _check_live(space)
    target = _require_present(target)
    if role is Role.HOST:
        raise Invalid("The host role cannot be given away.", code="invalid_role")
    appointing = role is Role.COHOST or target.role is Role.COHOST
    _moderator(space, actor, Action.APPOINT_COHOST if appointing else Action.MOVE_SPEAKER)
    check_may_moderate(_role_of(space, target) or target.role)
    if target.role is role:
        return []
    _check_room_for(space, role, limits)
    _set_role(space, target, role)
    return [_changed("participant.role_changed", target)]


def mute(space: Space, actor: Participant | None, target: Participant | None) -> list[SpaceEvent]:
    """Moderators can mute anyone on stage but the host; nobody can unmute someone else."""
    _check_live(space)
    _moderator(space, actor, Action.MUTE_OTHER)
    target = _require_present(target)
    assert actor is not None
    if target.user_id != actor.user_id:
        check_may_moderate(_role_of(space, target) or target.role)
    if target.role not in STAGE_ROLES:
        raise Conflict("Only people on stage have a microphone.", code="not_on_stage")
    if target.muted:
        return []
    target.muted = True
    return [_changed("participant.muted", target, actor_id=actor.user_id)]


def set_self_muted(space: Space, participant: Participant | None, muted: bool) -> list[SpaceEvent]:
    _check_live(space)
    participant = _require_present(participant)
    check_allowed(Action.MUTE_SELF, _role_of(space, participant))
    if participant.muted == muted:
        return []
    participant.muted = muted
    kind = "participant.muted" if muted else "participant.unmuted"
    return [_changed(kind, participant, actor_id=participant.user_id)]


def remove(
    space: Space, actor: Participant | None, target: Participant | None, block: bool
) -> list[SpaceEvent]:
    """Removed people can rejoin unless blocked; the block then covers all the host's Spaces."""
    _check_live(space)
    _moderator(space, actor, Action.REMOVE)
    target = _require_present(target)
    check_may_moderate(_role_of(space, target) or target.role)
    target.present = False
    target.hand_raised = False
    target.muted = True
    target.role = Role.LISTENER
    space.stage.pop(target.user_id, None)
    return [SpaceEvent("participant.removed", {"user_id": target.user_id, "blocked": block})]


def check_may_pin(
    space: Space, actor: Participant | None, pinned_count: int, limits: Limits
) -> None:
    _check_live(space)
    check_allowed(Action.PIN, _role_of(space, actor))
    if pinned_count >= limits.max_pins:
        raise Conflict(f"A Space has at most {limits.max_pins} pinned posts.", code="pins_full")


def check_may_unpin(space: Space, actor: Participant | None) -> None:
    _check_live(space)
    check_allowed(Action.PIN, _role_of(space, actor))


def check_may_react(space: Space, participant: Participant | None) -> None:
    _check_live(space)
    check_allowed(Action.REACT, _role_of(space, participant))


def check_may_open_poll(space: Space, actor: Participant | None) -> None:
    _check_live(space)
    check_allowed(Action.OPEN_POLL, _role_of(space, actor))


def check_may_vote(space: Space, participant: Participant | None) -> None:
    _check_live(space)
    check_allowed(Action.VOTE, _role_of(space, participant))
