"""Presence rules: joining, leaving (the host ends the Space), removal, and an ended Space."""

import copy
from collections.abc import Callable

import pytest

from tests.unit.domain.spaces.builders import (
    COHOST,
    GUEST_ID,
    HOST,
    HOST_ID,
    LISTENER,
    NO_RESTRICTIONS,
    NOW,
    SPEAKER,
    X_LIMITS,
    Room,
    join,
    make_room,
    make_space,
)
from townhall.domain.errors import Conflict, Forbidden, NotFound
from townhall.domain.spaces import actions
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.model import Access, Participant
from townhall.domain.spaces.roles import STAGE_ROLES, Role
from townhall.types import UserId

BANNED = Access(banned_by_host=True)
BLOCKED = Access(blocked_with_host=True)


# Leaving ---------------------------------------------------------------------------------


def test_the_host_leaving_ends_the_space_for_everyone() -> None:
    room = make_room()
    host = room.get(HOST)
    assert host is not None
    events = actions.leave(room.space, host, NOW)
    assert room.space.state is SpaceState.ENDED
    assert [e.type for e in events] == ["space.ended"]
    assert room.space.stage == {}
    assert not any(p.present for p in room.people.values() if p.role in STAGE_ROLES)


@pytest.mark.parametrize("who", [COHOST, SPEAKER, LISTENER])
def test_leaving_drops_you_to_a_muted_listener(who: str) -> None:
    room = make_room()
    person = room.get(who)
    assert person is not None
    events = actions.leave(room.space, person, NOW)
    assert [e.type for e in events] == ["participant.left"]
    assert not person.present
    assert person.role is Role.LISTENER
    assert person.muted
    assert not person.hand_raised
    assert person.user_id not in room.space.stage
    assert room.space.state is SpaceState.LIVE


def test_leaving_twice_changes_nothing() -> None:
    room = make_room()
    speaker = room.get(SPEAKER)
    assert speaker is not None
    actions.leave(room.space, speaker, NOW)
    assert actions.leave(room.space, speaker, NOW) == []


def test_a_speaker_who_left_comes_back_as_a_listener() -> None:
    room = make_room()
    speaker = room.get(SPEAKER)
    assert speaker is not None
    actions.leave(room.space, speaker, NOW)
    again, events = actions.join(room.space, speaker.user_id, speaker, NO_RESTRICTIONS, NOW)
    assert again is speaker
    assert again.present and again.role is Role.LISTENER and again.muted
    assert [e.type for e in events] == ["participant.joined"]


# Joining ---------------------------------------------------------------------------------


def test_joining_twice_returns_the_same_participant_and_no_event() -> None:
    room = make_room()
    speaker = room.get(SPEAKER)
    assert speaker is not None
    before = copy.deepcopy(room)
    again, events = actions.join(room.space, speaker.user_id, speaker, NO_RESTRICTIONS, NOW)
    assert again is speaker
    assert events == []
    assert room == before


def test_a_scheduled_space_cannot_be_joined_yet() -> None:
    with pytest.raises(Conflict):
        join(make_space(SpaceState.SCHEDULED), UserId(2))


@pytest.mark.parametrize(
    ("access", "code"),
    [
        pytest.param(BLOCKED, "blocked", id="someone blocked with the host cannot join"),
        pytest.param(BANNED, "banned", id="someone the host banned cannot join"),
    ],
)
def test_blocked_and_banned_people_cannot_join(access: Access, code: str) -> None:
    space = make_space()
    with pytest.raises(Forbidden) as caught:
        join(space, UserId(2), access)
    assert caught.value.code == code


@pytest.mark.parametrize("access", [BLOCKED, BANNED])
def test_blocked_and_banned_people_cannot_be_invited(access: Access) -> None:
    space = make_space()
    host = join(space, HOST_ID)
    with pytest.raises(Forbidden):
        actions.invite(space, host, HOST_ID, GUEST_ID, Role.SPEAKER, access, None)


# Removal ---------------------------------------------------------------------------------


@pytest.mark.parametrize("block", [False, True])
def test_a_removed_person_is_out_of_the_space_and_off_stage(block: bool) -> None:
    room = make_room()
    speaker = room.get(SPEAKER)
    assert speaker is not None
    events = actions.remove(room.space, room.get(COHOST), speaker, block)
    assert not speaker.present
    assert speaker.role is Role.LISTENER
    assert speaker.muted
    assert speaker.user_id not in room.space.stage
    assert [(e.type, e.data["blocked"]) for e in events] == [("participant.removed", block)]


def test_a_removed_person_can_rejoin() -> None:
    room = make_room()
    listener = room.get(LISTENER)
    assert listener is not None
    actions.remove(room.space, room.get(HOST), listener, block=False)
    again, _ = actions.join(room.space, listener.user_id, listener, NO_RESTRICTIONS, NOW)
    assert again.present and not again.hand_raised


def test_a_removed_and_blocked_person_cannot_rejoin() -> None:
    room = make_room()
    listener = room.get(LISTENER)
    assert listener is not None
    actions.remove(room.space, room.get(HOST), listener, block=True)
    with pytest.raises(Forbidden):
        actions.join(room.space, listener.user_id, listener, BANNED, NOW)
    assert not listener.present


def test_removing_someone_who_is_not_there_is_not_found() -> None:
    room = make_room()
    listener = room.get(LISTENER)
    actions.remove(room.space, room.get(HOST), listener, block=False)
    with pytest.raises(NotFound):
        actions.remove(room.space, room.get(HOST), listener, block=False)


# An ended Space -------------------------------------------------------------------------

EndedAct = Callable[[Room], object]


def _person(room: Room, who: str) -> Participant:
    person = room.get(who)
    assert person is not None
    return person


AFTER_THE_END: list[tuple[str, EndedAct]] = [
    ("nobody joins", lambda r: join(r.space, UserId(50))),
    (
        "nobody rejoins",
        lambda r: actions.join(r.space, r.id_of(SPEAKER), r.get(SPEAKER), NO_RESTRICTIONS, NOW),
    ),
    ("the host cannot edit it", lambda r: actions.update(r.space, r.get(HOST), HOST_ID, "New")),
    ("the host cannot start it", lambda r: actions.start(r.space, HOST_ID, NOW)),
    ("the host cannot end it again", lambda r: actions.end(r.space, HOST_ID, NOW)),
    ("the host cannot cancel it", lambda r: actions.cancel(r.space, HOST_ID, NOW)),
    ("no host timeout ends it again", lambda r: actions.end_for_host_timeout(r.space, NOW)),
    (
        "nobody is invited",
        lambda r: actions.invite(
            r.space, r.get(COHOST), r.id_of(COHOST), GUEST_ID, Role.SPEAKER, Access(), None
        ),
    ),
    (
        "no invite is accepted",
        lambda r: actions.accept_invite(r.space, Role.SPEAKER, _person(r, LISTENER), X_LIMITS),
    ),
    (
        "no hand is raised",
        lambda r: actions.raise_hand(r.space, r.get(LISTENER), NO_RESTRICTIONS, False),
    ),
    (
        "no request is approved",
        lambda r: actions.approve_request(r.space, r.get(COHOST), r.get(LISTENER), X_LIMITS),
    ),
    (
        "no request is denied",
        lambda r: actions.deny_request(r.space, r.get(COHOST), r.get(LISTENER)),
    ),
    (
        "nobody changes role",
        lambda r: actions.set_role(r.space, r.get(HOST), r.get(LISTENER), Role.SPEAKER, X_LIMITS),
    ),
    ("nobody is muted", lambda r: actions.mute(r.space, r.get(COHOST), r.get(SPEAKER))),
    ("nobody unmutes", lambda r: actions.set_self_muted(r.space, r.get(SPEAKER), False)),
    ("nobody is removed", lambda r: actions.remove(r.space, r.get(HOST), r.get(LISTENER), True)),
    ("nothing is pinned", lambda r: actions.check_may_pin(r.space, r.get(SPEAKER), 0, X_LIMITS)),
    ("nothing is unpinned", lambda r: actions.check_may_unpin(r.space, r.get(SPEAKER))),
    ("no poll is opened", lambda r: actions.check_may_open_poll(r.space, r.get(COHOST))),
    ("nobody votes", lambda r: actions.check_may_vote(r.space, r.get(LISTENER))),
    ("nobody reacts", lambda r: actions.check_may_react(r.space, r.get(LISTENER))),
]


@pytest.mark.parametrize(
    "act", [pytest.param(act, id=f"in an ended space {spec}") for spec, act in AFTER_THE_END]
)
def test_every_action_on_an_ended_space_is_a_conflict(act: EndedAct) -> None:
    room = make_room()
    actions.end(room.space, HOST_ID, NOW)
    before = copy.deepcopy(room)
    with pytest.raises(Conflict):
        act(room)
    assert room == before
