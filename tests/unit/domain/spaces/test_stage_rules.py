"""Stage rules: seat limits, who may ask to speak, invites, and who controls a microphone."""

import copy
import inspect
from collections.abc import Callable

import pytest

from tests.unit.domain.spaces.builders import (
    COHOST,
    GUEST_ID,
    HOST,
    HOST_ID,
    NO_RESTRICTIONS,
    NOW,
    SPEAKER,
    X_LIMITS,
    join,
    join_with_hand_raised,
    join_with_role,
    make_room,
    make_space,
)
from townhall.domain.errors import Conflict, Forbidden, Invalid, NotFound
from townhall.domain.spaces import actions
from townhall.domain.spaces.model import Access, Limits, Participant, Space, WhoCanSpeak
from townhall.domain.spaces.roles import Role
from townhall.types import UserId


def _full_stage(limits: Limits = X_LIMITS) -> tuple[Space, Participant]:
    """A live Space whose host has filled every co-host and speaker seat."""
    space = make_space()
    host = join(space, HOST_ID)
    next_id = 100
    for role, seats in ((Role.COHOST, limits.max_cohosts), (Role.SPEAKER, limits.max_speakers)):
        for _ in range(seats):
            join_with_role(space, host, UserId(next_id), role, limits)
            next_id += 1
    return space, host


# Stage limits ---------------------------------------------------------------------------


def test_the_stage_holds_thirteen_a_host_two_cohosts_and_ten_speakers() -> None:
    space, _ = _full_stage()
    assert len(space.stage) == 13
    assert space.count_role(Role.HOST) == 1
    assert len(space.cohost_ids) == 2
    assert len(space.speaker_ids) == 10


def test_approving_a_request_when_the_stage_is_full_is_a_conflict() -> None:
    space, host = _full_stage()
    asking = join_with_hand_raised(space, UserId(7))
    with pytest.raises(Conflict) as caught:
        actions.approve_request(space, host, asking, X_LIMITS)
    assert caught.value.code == "stage_full"
    assert asking.role is Role.LISTENER
    assert asking.hand_raised, "the request stays in the queue"
    assert len(space.stage) == 13


def test_a_third_cohost_is_a_conflict() -> None:
    space, host = _full_stage()
    speaker = space.stage[UserId(102)]
    assert speaker.role is Role.SPEAKER
    with pytest.raises(Conflict) as caught:
        actions.set_role(space, host, speaker, Role.COHOST, X_LIMITS)
    assert caught.value.code == "cohosts_full"
    assert speaker.role is Role.SPEAKER


def test_accepting_an_invite_to_a_full_stage_is_a_conflict() -> None:
    space, _ = _full_stage()
    invitee = join(space, UserId(7))
    for role in (Role.SPEAKER, Role.COHOST):
        with pytest.raises(Conflict):
            actions.accept_invite(space, role, invitee, X_LIMITS)
    assert invitee.role is Role.LISTENER


def test_a_cohost_cannot_step_down_to_speaker_when_the_speaker_seats_are_full() -> None:
    space, host = _full_stage()
    cohost = space.stage[UserId(100)]
    with pytest.raises(Conflict) as caught:
        actions.set_role(space, host, cohost, Role.SPEAKER, X_LIMITS)
    assert caught.value.code == "stage_full"


def test_a_seat_freed_by_a_leaving_speaker_can_be_taken() -> None:
    space, host = _full_stage()
    actions.leave(space, space.stage[UserId(102)], NOW)
    asking = join_with_hand_raised(space, UserId(7))
    actions.approve_request(space, host, asking, X_LIMITS)
    assert asking.on_stage


def test_the_stage_limits_are_settings() -> None:
    small = Limits(max_cohosts=0, max_speakers=1)
    space, host = _full_stage(small)
    assert len(space.stage) == 2
    with pytest.raises(Conflict):
        actions.set_role(space, host, join(space, UserId(7)), Role.COHOST, small)


def test_listeners_are_unlimited() -> None:
    space, _ = _full_stage()
    listeners = [join(space, UserId(1000 + n)) for n in range(200)]
    assert all(person.present and person.role is Role.LISTENER for person in listeners)


# Who can ask to speak -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "followed_by_host", "invited", "refusal"),
    [
        pytest.param(WhoCanSpeak.EVERYONE, False, False, None, id="everyone: anyone may ask"),
        pytest.param(WhoCanSpeak.FOLLOWED, True, False, None, id="followed: followed may ask"),
        pytest.param(
            WhoCanSpeak.FOLLOWED,
            False,
            True,
            "followed_only",
            id="followed: invited people accept their invite instead of asking",
        ),
        pytest.param(
            WhoCanSpeak.FOLLOWED, False, False, "followed_only", id="followed: others may not ask"
        ),
        pytest.param(WhoCanSpeak.INVITED, False, True, None, id="invited: invited may ask"),
        pytest.param(
            WhoCanSpeak.INVITED, True, False, "invite_only", id="invited: followed may not ask"
        ),
        pytest.param(
            WhoCanSpeak.INVITED, False, False, "invite_only", id="invited: others may not ask"
        ),
    ],
)
def test_who_can_speak_decides_who_may_raise_a_hand(
    mode: WhoCanSpeak, followed_by_host: bool, invited: bool, refusal: str | None
) -> None:
    space = make_space(who_can_speak=mode)
    listener = join(space, UserId(2))
    access = Access(followed_by_host=followed_by_host)
    if refusal is None:
        events = actions.raise_hand(space, listener, access, invited)
        assert listener.hand_raised
        assert [event.type for event in events] == ["speak_request.raised"]
    else:
        with pytest.raises(Forbidden) as caught:
            actions.raise_hand(space, listener, access, invited)
        assert caught.value.code == refusal
        assert not listener.hand_raised


def test_raising_a_raised_hand_again_changes_nothing() -> None:
    space = make_space()
    listener = join_with_hand_raised(space, UserId(2))
    assert actions.raise_hand(space, listener, NO_RESTRICTIONS, invited=False) == []


def test_lowering_a_hand_withdraws_the_request() -> None:
    space = make_space()
    host = join(space, HOST_ID)
    listener = join_with_hand_raised(space, UserId(2))
    assert [e.type for e in actions.lower_hand(space, listener)] == ["speak_request.lowered"]
    with pytest.raises(Conflict):
        actions.approve_request(space, host, listener, X_LIMITS)


def test_a_denied_request_leaves_the_listener_in_the_audience() -> None:
    space = make_space()
    host = join(space, HOST_ID)
    listener = join_with_hand_raised(space, UserId(2))
    events = actions.deny_request(space, host, listener)
    assert not listener.hand_raised
    assert listener.role is Role.LISTENER
    assert events[0].data == {"user_id": listener.user_id, "denied": True}


# Invites ---------------------------------------------------------------------------------


def test_invites_are_to_speak_or_to_cohost_only() -> None:
    space = make_space()
    host = join(space, HOST_ID)
    for role in (Role.LISTENER, Role.HOST):
        with pytest.raises(Invalid):
            actions.invite(space, host, HOST_ID, GUEST_ID, role, NO_RESTRICTIONS, None)


def test_nobody_invites_the_host_or_themselves() -> None:
    room = make_room()
    cohost = room.get(COHOST)
    cohost_id = room.id_of(COHOST)
    for invitee in (HOST_ID, cohost_id):
        with pytest.raises(Invalid):
            actions.invite(room.space, cohost, cohost_id, invitee, Role.SPEAKER, Access(), None)


def test_inviting_someone_to_the_role_they_have_is_a_conflict() -> None:
    room = make_room()
    speaker = room.get(SPEAKER)
    with pytest.raises(Conflict):
        actions.invite(
            room.space,
            room.get(HOST),
            HOST_ID,
            room.id_of(SPEAKER),
            Role.SPEAKER,
            Access(),
            speaker,
        )
    actions.invite(
        room.space, room.get(HOST), HOST_ID, room.id_of(SPEAKER), Role.COHOST, Access(), speaker
    )


def test_accepting_without_an_invite_is_not_found() -> None:
    space = make_space()
    listener = join(space, UserId(2))
    with pytest.raises(NotFound):
        actions.accept_invite(space, None, listener, X_LIMITS)


def test_accepting_an_invite_to_a_role_you_already_have_changes_nothing() -> None:
    room = make_room()
    cohost = room.get(COHOST)
    assert cohost is not None
    assert actions.accept_invite(room.space, Role.SPEAKER, cohost, X_LIMITS) == []
    assert cohost.role is Role.COHOST


# Microphones ----------------------------------------------------------------------------


def test_there_is_no_action_to_unmute_someone_else() -> None:
    """Only set_self_muted can unmute, and it takes one person: the one it mutes or unmutes."""
    assert list(inspect.signature(actions.set_self_muted).parameters) == [
        "space",
        "participant",
        "muted",
    ]
    assert "muted" not in inspect.signature(actions.mute).parameters


def test_muting_someone_who_is_muted_changes_nothing() -> None:
    room = make_room()
    speaker = room.get(SPEAKER)
    assert speaker is not None
    actions.set_self_muted(room.space, speaker, True)
    before = copy.deepcopy(room)
    assert actions.mute(room.space, room.get(HOST), speaker) == []
    assert room == before


def test_a_moderator_mute_is_announced_with_who_did_it() -> None:
    room = make_room()
    speaker = room.get(SPEAKER)
    assert speaker is not None
    events = actions.mute(room.space, room.get(COHOST), speaker)
    assert speaker.muted
    assert [(e.type, e.data["actor_id"]) for e in events] == [
        ("participant.muted", room.id_of(COHOST))
    ]


def test_unmuting_yourself_touches_nobody_else() -> None:
    room = make_room()
    for person in list(room.space.stage.values()):
        actions.set_self_muted(room.space, person, True)
    speaker = room.get(SPEAKER)
    assert speaker is not None
    events = actions.set_self_muted(room.space, speaker, False)
    assert [e.type for e in events] == ["participant.unmuted"]
    assert [p.user_id for p in room.space.stage.values() if not p.muted] == [speaker.user_id]


def test_a_muted_speaker_stays_muted_when_made_a_cohost() -> None:
    room = make_room()
    speaker = room.get(SPEAKER)
    assert speaker is not None
    actions.mute(room.space, room.get(HOST), speaker)
    actions.set_role(room.space, room.get(HOST), speaker, Role.COHOST, Limits(max_cohosts=3))
    assert speaker.muted


def _approved(space: Space, host: Participant, person: Participant) -> None:
    actions.raise_hand(space, person, NO_RESTRICTIONS, invited=False)
    actions.approve_request(space, host, person, X_LIMITS)


ComeOnStage = Callable[[Space, Participant, Participant], object]


@pytest.mark.parametrize(
    "come_on_stage",
    [
        pytest.param(_approved, id="approved request"),
        pytest.param(
            lambda s, h, p: actions.set_role(s, h, p, Role.SPEAKER, X_LIMITS), id="made a speaker"
        ),
        pytest.param(
            lambda s, h, p: actions.set_role(s, h, p, Role.COHOST, X_LIMITS), id="made a cohost"
        ),
        pytest.param(
            lambda s, h, p: actions.accept_invite(s, Role.SPEAKER, p, X_LIMITS),
            id="accepted invite to speak",
        ),
        pytest.param(
            lambda s, h, p: actions.accept_invite(s, Role.COHOST, p, X_LIMITS),
            id="accepted invite to cohost",
        ),
    ],
)
def test_people_come_on_stage_muted(come_on_stage: ComeOnStage) -> None:
    space = make_space()
    host = join(space, HOST_ID)
    person = join(space, UserId(2))
    come_on_stage(space, host, person)
    assert person.on_stage
    assert space.stage[person.user_id] is person
    assert person.muted


def test_the_host_joins_muted() -> None:
    space = make_space()
    host = join(space, HOST_ID)
    assert host.muted
    assert space.stage == {HOST_ID: host}
