"""Every action against every role, in one table: who may do what to whom in a live Space.

Each row runs one action in a fresh room (see `make_room`): a live Space with a host, two
co-hosts (so a co-host can act on the other one), a speaker, a listener with a raised hand
and a non-participant. Limits leave room on stage, so only permissions decide; stage limits
have their own tests. A refused action must leave the room exactly as it was.
"""

import copy
from collections.abc import Callable
from typing import Literal

import pytest

from tests.unit.domain.spaces.builders import (
    COHOST,
    GUEST_ID,
    HOST,
    LISTENER,
    NO_RESTRICTIONS,
    NON_PARTICIPANT,
    NOW,
    OTHER_COHOST,
    ROOMY,
    SPEAKER,
    Room,
    make_room,
    make_space,
)
from townhall.domain.errors import Conflict, DomainError, Forbidden, NotFound
from townhall.domain.spaces import actions
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.roles import Role

OK: Literal["ok"] = "ok"
Outcome = Literal["ok"] | type[DomainError]
Act = Callable[[Room, str, str], object]
"""Runs one action in the room, by the actor, on the target (both by their role name)."""


def _scheduled_copy(room: Room) -> Room:
    """Start and cancel need a scheduled Space, where nobody is present yet."""
    return Room(make_space(SpaceState.SCHEDULED), room.ids)


def _set_role(role: Role) -> Act:
    return lambda r, a, t: actions.set_role(r.space, r.get(a), r.get(t), role, ROOMY)


def _remove(block: bool) -> Act:
    return lambda r, a, t: actions.remove(r.space, r.get(a), r.get(t), block)


def _invite(role: Role) -> Act:
    return lambda r, a, t: actions.invite(
        r.space, r.get(a), r.id_of(a), GUEST_ID, role, NO_RESTRICTIONS, None
    )


def _self_mute(muted: bool) -> Act:
    return lambda r, a, t: actions.set_self_muted(r.space, r.get(a), muted)


ACTIONS: dict[str, Act] = {
    "update the space": lambda r, a, t: actions.update(r.space, r.get(a), r.id_of(a), "New"),
    "start the space": lambda r, a, t: actions.start(_scheduled_copy(r).space, r.id_of(a), NOW),
    "end the space": lambda r, a, t: actions.end(r.space, r.id_of(a), NOW),
    "cancel the space": lambda r, a, t: actions.cancel(_scheduled_copy(r).space, r.id_of(a), NOW),
    "invite someone to speak": _invite(Role.SPEAKER),
    "invite someone to cohost": _invite(Role.COHOST),
    "approve {target}'s request": lambda r, a, t: actions.approve_request(
        r.space, r.get(a), r.get(t), ROOMY
    ),
    "deny {target}'s request": lambda r, a, t: actions.deny_request(r.space, r.get(a), r.get(t)),
    "make {target} a listener": _set_role(Role.LISTENER),
    "make {target} a speaker": _set_role(Role.SPEAKER),
    "make {target} a cohost": _set_role(Role.COHOST),
    "mute {target}": lambda r, a, t: actions.mute(r.space, r.get(a), r.get(t)),
    "mute their microphone": _self_mute(True),
    "unmute their microphone": _self_mute(False),
    "remove {target}": _remove(block=False),
    "remove and block {target}": _remove(block=True),
    "pin a post": lambda r, a, t: actions.check_may_pin(r.space, r.get(a), 0, ROOMY),
    "unpin a post": lambda r, a, t: actions.check_may_unpin(r.space, r.get(a)),
    "open a poll": lambda r, a, t: actions.check_may_open_poll(r.space, r.get(a)),
    "raise their hand": lambda r, a, t: actions.raise_hand(
        r.space, r.get(a), NO_RESTRICTIONS, invited=False
    ),
    "lower their hand": lambda r, a, t: actions.lower_hand(r.space, r.get(a)),
    "react": lambda r, a, t: actions.check_may_react(r.space, r.get(a)),
    "vote in a poll": lambda r, a, t: actions.check_may_vote(r.space, r.get(a)),
}

NON = NON_PARTICIPANT
# fmt: off
MATRIX: list[tuple[str, str, str | None, Outcome]] = [
    # action                       actor     target     expected
    ("update the space",           HOST,     None,      OK),
    ("update the space",           COHOST,   None,      OK),
    ("update the space",           SPEAKER,  None,      Forbidden),
    ("update the space",           LISTENER, None,      Forbidden),
    ("update the space",           NON,      None,      Forbidden),

    ("start the space",            HOST,     None,      OK),
    ("start the space",            COHOST,   None,      Forbidden),
    ("start the space",            SPEAKER,  None,      Forbidden),
    ("start the space",            LISTENER, None,      Forbidden),
    ("start the space",            NON,      None,      Forbidden),

    ("end the space",              HOST,     None,      OK),
    ("end the space",              COHOST,   None,      Forbidden),
    ("end the space",              SPEAKER,  None,      Forbidden),
    ("end the space",              LISTENER, None,      Forbidden),
    ("end the space",              NON,      None,      Forbidden),

    ("cancel the space",           HOST,     None,      OK),
    ("cancel the space",           COHOST,   None,      Forbidden),
    ("cancel the space",           SPEAKER,  None,      Forbidden),
    ("cancel the space",           LISTENER, None,      Forbidden),
    ("cancel the space",           NON,      None,      Forbidden),

    ("invite someone to speak",    HOST,     None,      OK),
    ("invite someone to speak",    COHOST,   None,      OK),
    ("invite someone to speak",    SPEAKER,  None,      Forbidden),
    ("invite someone to speak",    LISTENER, None,      Forbidden),
    ("invite someone to speak",    NON,      None,      Forbidden),

    ("invite someone to cohost",   HOST,     None,      OK),
    ("invite someone to cohost",   COHOST,   None,      Forbidden),
    ("invite someone to cohost",   SPEAKER,  None,      Forbidden),
    ("invite someone to cohost",   LISTENER, None,      Forbidden),
    ("invite someone to cohost",   NON,      None,      Forbidden),

    ("approve {target}'s request", HOST,     LISTENER,  OK),
    ("approve {target}'s request", COHOST,   LISTENER,  OK),
    ("approve {target}'s request", SPEAKER,  LISTENER,  Forbidden),
    ("approve {target}'s request", LISTENER, LISTENER,  Forbidden),
    ("approve {target}'s request", NON,      LISTENER,  Forbidden),
    ("approve {target}'s request", HOST,     SPEAKER,   Conflict),

    ("deny {target}'s request",    HOST,     LISTENER,  OK),
    ("deny {target}'s request",    COHOST,   LISTENER,  OK),
    ("deny {target}'s request",    SPEAKER,  LISTENER,  Forbidden),
    ("deny {target}'s request",    LISTENER, LISTENER,  Forbidden),
    ("deny {target}'s request",    NON,      LISTENER,  Forbidden),

    ("make {target} a listener",   HOST,     SPEAKER,   OK),
    ("make {target} a listener",   COHOST,   SPEAKER,   OK),
    ("make {target} a listener",   SPEAKER,  SPEAKER,   Forbidden),
    ("make {target} a listener",   LISTENER, SPEAKER,   Forbidden),
    ("make {target} a listener",   NON,      SPEAKER,   Forbidden),
    ("make {target} a listener",   HOST,     COHOST,    OK),
    ("make {target} a listener",   COHOST,   COHOST,    Forbidden),
    ("make {target} a listener",   HOST,     HOST,      Forbidden),
    ("make {target} a listener",   COHOST,   HOST,      Forbidden),

    ("make {target} a speaker",    HOST,     LISTENER,  OK),
    ("make {target} a speaker",    COHOST,   LISTENER,  OK),
    ("make {target} a speaker",    SPEAKER,  LISTENER,  Forbidden),
    ("make {target} a speaker",    LISTENER, LISTENER,  Forbidden),
    ("make {target} a speaker",    NON,      LISTENER,  Forbidden),
    ("make {target} a speaker",    HOST,     COHOST,    OK),
    ("make {target} a speaker",    COHOST,   COHOST,    Forbidden),
    ("make {target} a speaker",    HOST,     HOST,      Forbidden),
    ("make {target} a speaker",    COHOST,   HOST,      Forbidden),

    ("make {target} a cohost",     HOST,     SPEAKER,   OK),
    ("make {target} a cohost",     HOST,     LISTENER,  OK),
    ("make {target} a cohost",     COHOST,   SPEAKER,   Forbidden),
    ("make {target} a cohost",     COHOST,   LISTENER,  Forbidden),
    ("make {target} a cohost",     SPEAKER,  SPEAKER,   Forbidden),
    ("make {target} a cohost",     LISTENER, LISTENER,  Forbidden),
    ("make {target} a cohost",     NON,      SPEAKER,   Forbidden),

    ("mute {target}",              HOST,     HOST,      OK),
    ("mute {target}",              HOST,     COHOST,    OK),
    ("mute {target}",              HOST,     SPEAKER,   OK),
    ("mute {target}",              HOST,     LISTENER,  Conflict),
    ("mute {target}",              COHOST,   HOST,      Forbidden),
    ("mute {target}",              COHOST,   COHOST,    OK),
    ("mute {target}",              COHOST,   SPEAKER,   OK),
    ("mute {target}",              COHOST,   LISTENER,  Conflict),
    ("mute {target}",              SPEAKER,  HOST,      Forbidden),
    ("mute {target}",              SPEAKER,  COHOST,    Forbidden),
    ("mute {target}",              SPEAKER,  SPEAKER,   Forbidden),
    ("mute {target}",              SPEAKER,  LISTENER,  Forbidden),
    ("mute {target}",              LISTENER, HOST,      Forbidden),
    ("mute {target}",              LISTENER, COHOST,    Forbidden),
    ("mute {target}",              LISTENER, SPEAKER,   Forbidden),
    ("mute {target}",              LISTENER, LISTENER,  Forbidden),
    ("mute {target}",              NON,      HOST,      Forbidden),
    ("mute {target}",              NON,      COHOST,    Forbidden),
    ("mute {target}",              NON,      SPEAKER,   Forbidden),
    ("mute {target}",              NON,      LISTENER,  Forbidden),

    ("mute their microphone",      HOST,     None,      OK),
    ("mute their microphone",      COHOST,   None,      OK),
    ("mute their microphone",      SPEAKER,  None,      OK),
    ("mute their microphone",      LISTENER, None,      Forbidden),
    ("mute their microphone",      NON,      None,      NotFound),

    ("unmute their microphone",    HOST,     None,      OK),
    ("unmute their microphone",    COHOST,   None,      OK),
    ("unmute their microphone",    SPEAKER,  None,      OK),
    ("unmute their microphone",    LISTENER, None,      Forbidden),
    ("unmute their microphone",    NON,      None,      NotFound),

    ("remove {target}",            HOST,     HOST,      Forbidden),
    ("remove {target}",            HOST,     COHOST,    OK),
    ("remove {target}",            HOST,     SPEAKER,   OK),
    ("remove {target}",            HOST,     LISTENER,  OK),
    ("remove {target}",            COHOST,   HOST,      Forbidden),
    ("remove {target}",            COHOST,   COHOST,    OK),
    ("remove {target}",            COHOST,   SPEAKER,   OK),
    ("remove {target}",            COHOST,   LISTENER,  OK),
    ("remove {target}",            SPEAKER,  HOST,      Forbidden),
    ("remove {target}",            SPEAKER,  COHOST,    Forbidden),
    ("remove {target}",            SPEAKER,  SPEAKER,   Forbidden),
    ("remove {target}",            SPEAKER,  LISTENER,  Forbidden),
    ("remove {target}",            LISTENER, HOST,      Forbidden),
    ("remove {target}",            LISTENER, COHOST,    Forbidden),
    ("remove {target}",            LISTENER, SPEAKER,   Forbidden),
    ("remove {target}",            LISTENER, LISTENER,  Forbidden),
    ("remove {target}",            NON,      HOST,      Forbidden),
    ("remove {target}",            NON,      COHOST,    Forbidden),
    ("remove {target}",            NON,      SPEAKER,   Forbidden),
    ("remove {target}",            NON,      LISTENER,  Forbidden),

    ("remove and block {target}",  HOST,     HOST,      Forbidden),
    ("remove and block {target}",  HOST,     COHOST,    OK),
    ("remove and block {target}",  HOST,     SPEAKER,   OK),
    ("remove and block {target}",  HOST,     LISTENER,  OK),
    ("remove and block {target}",  COHOST,   HOST,      Forbidden),
    ("remove and block {target}",  COHOST,   COHOST,    OK),
    ("remove and block {target}",  COHOST,   SPEAKER,   OK),
    ("remove and block {target}",  COHOST,   LISTENER,  OK),
    ("remove and block {target}",  SPEAKER,  LISTENER,  Forbidden),
    ("remove and block {target}",  LISTENER, SPEAKER,   Forbidden),
    ("remove and block {target}",  NON,      LISTENER,  Forbidden),

    ("pin a post",                 HOST,     None,      OK),
    ("pin a post",                 COHOST,   None,      OK),
    ("pin a post",                 SPEAKER,  None,      OK),
    ("pin a post",                 LISTENER, None,      Forbidden),
    ("pin a post",                 NON,      None,      Forbidden),

    ("unpin a post",               HOST,     None,      OK),
    ("unpin a post",               COHOST,   None,      OK),
    ("unpin a post",               SPEAKER,  None,      OK),
    ("unpin a post",               LISTENER, None,      Forbidden),
    ("unpin a post",               NON,      None,      Forbidden),

    ("open a poll",                HOST,     None,      OK),
    ("open a poll",                COHOST,   None,      OK),
    ("open a poll",                SPEAKER,  None,      Forbidden),
    ("open a poll",                LISTENER, None,      Forbidden),
    ("open a poll",                NON,      None,      Forbidden),

    ("raise their hand",           HOST,     None,      Forbidden),
    ("raise their hand",           COHOST,   None,      Forbidden),
    ("raise their hand",           SPEAKER,  None,      Forbidden),
    ("raise their hand",           LISTENER, None,      OK),
    ("raise their hand",           NON,      None,      NotFound),

    ("lower their hand",           LISTENER, None,      OK),
    ("lower their hand",           NON,      None,      NotFound),

    ("react",                      HOST,     None,      OK),
    ("react",                      COHOST,   None,      OK),
    ("react",                      SPEAKER,  None,      OK),
    ("react",                      LISTENER, None,      OK),
    ("react",                      NON,      None,      Forbidden),

    ("vote in a poll",             HOST,     None,      OK),
    ("vote in a poll",             COHOST,   None,      OK),
    ("vote in a poll",             SPEAKER,  None,      OK),
    ("vote in a poll",             LISTENER, None,      OK),
    ("vote in a poll",             NON,      None,      Forbidden),
]
# fmt: on


def _target_name(actor: str, target: str | None) -> str:
    """A co-host acting on "the cohost" acts on the other one, never on themselves."""
    if target == COHOST and actor == COHOST:
        return OTHER_COHOST
    return target or actor


def _spec(action: str, actor: str, target: str | None, expected: Outcome) -> str:
    """The row as a sentence, e.g. "cohost cannot remove another cohost"."""
    if target is None:
        whom = ""
    elif _target_name(actor, target) == OTHER_COHOST:
        whom = "another cohost"
    elif target == actor:
        whom = "themselves"
    else:
        whom = f"the {target}"
    phrase = action.replace("{target}'s", "their own" if whom == "themselves" else f"{whom}'s")
    phrase = phrase.replace("{target}", whom)
    if expected == OK:
        return f"{actor} can {phrase}"
    assert not isinstance(expected, str)
    suffix = "" if expected is Forbidden else f" ({expected.__name__})"
    return f"{actor} cannot {phrase}{suffix}"


def test_the_matrix_covers_every_action_and_every_acting_role() -> None:
    assert {row[0] for row in MATRIX} == set(ACTIONS)
    actors = {row[1] for row in MATRIX}
    assert actors == {HOST, COHOST, SPEAKER, LISTENER, NON_PARTICIPANT}


def test_every_row_reads_as_a_different_sentence() -> None:
    specs = [_spec(*row) for row in MATRIX]
    assert len(set(specs)) == len(specs)


def test_the_room_is_as_described() -> None:
    room = make_room()
    roles = {who: p.role for who, p in ((w, room.get(w)) for w in room.ids) if p is not None}
    assert roles == {
        HOST: Role.HOST,
        COHOST: Role.COHOST,
        OTHER_COHOST: Role.COHOST,
        SPEAKER: Role.SPEAKER,
        LISTENER: Role.LISTENER,
    }
    assert room.get(NON_PARTICIPANT) is None
    listener = room.get(LISTENER)
    assert listener is not None and listener.hand_raised
    assert all(not person.muted for person in room.space.stage.values())


@pytest.mark.parametrize(
    ("action", "actor", "target", "expected"),
    [pytest.param(*row, id=_spec(*row)) for row in MATRIX],
)
def test_permission(action: str, actor: str, target: str | None, expected: Outcome) -> None:
    room = make_room()
    act = ACTIONS[action]
    target_name = _target_name(actor, target)
    if expected == OK:
        act(room, actor, target_name)
        return
    assert not isinstance(expected, str)
    before = copy.deepcopy(room)
    with pytest.raises(expected):
        act(room, actor, target_name)
    assert room == before, "a refused action changed the room"
