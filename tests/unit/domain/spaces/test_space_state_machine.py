"""Random sequences of actions by random people, with the Space's invariants checked after each.

The machine plays the service's part: it keeps each person's Participant (the rules mutate
what they are given), feeds Access from its own record of blocks, bans and follows, stores
invites, bans whoever is removed with a block, and marks everyone gone when the Space ends
(the rules only see the stage; the service clears the listeners). Refusals (DomainError) are
expected.
"""

import copy
from collections.abc import Callable
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.unit.domain.spaces.builders import HOST_ID, NOW, make_space
from townhall.domain.errors import DomainError
from townhall.domain.spaces import actions
from townhall.domain.spaces.lifecycle import SpaceState
from townhall.domain.spaces.model import Access, Limits, Participant, Space, WhoCanSpeak
from townhall.domain.spaces.roles import STAGE_ROLES, Role
from townhall.types import UserId

USERS = tuple(UserId(n) for n in range(1, 7))
assert USERS[0] == HOST_ID
GUESTS = USERS[1:]
users = st.sampled_from(USERS)
actors = st.just(HOST_ID) | users
"""Half the time the host acts, so moderation happens often enough to matter."""

UNMUTE_SELF = "unmute themselves"


class SpaceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.space: Space = make_space()
        self.limits = Limits()
        self.now = NOW
        self.people: dict[UserId, Participant] = {}
        self.blocked: frozenset[UserId] = frozenset()
        self.followed: frozenset[UserId] = frozenset()
        self.banned: set[UserId] = set()
        self.invites: dict[UserId, Role] = {}
        self.ended: Space | None = None
        """The Space as it was when it ended; it must never change again."""

    @initialize(
        state=st.sampled_from([SpaceState.LIVE] * 3 + [SpaceState.SCHEDULED]),
        who_can_speak=st.sampled_from(WhoCanSpeak),
        max_cohosts=st.integers(0, 2),
        max_speakers=st.integers(0, 3),
        blocked=st.frozensets(st.sampled_from(GUESTS), max_size=2),
        followed=st.frozensets(st.sampled_from(GUESTS)),
        arrivals=st.lists(st.sampled_from(GUESTS), unique=True),
    )
    def open_space(
        self,
        state: SpaceState,
        who_can_speak: WhoCanSpeak,
        max_cohosts: int,
        max_speakers: int,
        blocked: frozenset[UserId],
        followed: frozenset[UserId],
        arrivals: list[UserId],
    ) -> None:
        """Mostly live, with small stage limits so full stages happen; some people are in."""
        self.space = make_space(state, who_can_speak)
        self.limits = Limits(max_cohosts=max_cohosts, max_speakers=max_speakers)
        self.blocked = blocked
        self.followed = followed
        if state is SpaceState.LIVE:
            self._host_joins()
            for user in arrivals:
                self.join(user)

    # The service's part -------------------------------------------------------------------

    def _access(self, user: UserId) -> Access:
        return Access(
            blocked_with_host=user in self.blocked,
            banned_by_host=user in self.banned,
            followed_by_host=user in self.followed,
        )

    def _host_joins(self) -> None:
        """As the service does when a Space is created live or started."""
        host, _ = actions.join(self.space, HOST_ID, self.people.get(HOST_ID), Access(), self.now)
        self.people[HOST_ID] = host

    def _pick(self, data: st.DataObject, fits: Callable[[Participant], bool]) -> UserId:
        """Half the time someone the action fits (say, a raised hand to approve), else anyone."""
        fitting = sorted(user for user, person in self.people.items() if fits(person))
        return data.draw(st.sampled_from(fitting) | users if fitting else users)

    def _do(self, action: str, actor: UserId, call: Callable[[], object]) -> None:
        """Runs one action and checks what must hold of any single step."""
        was_ended = self.space.state is SpaceState.ENDED
        muted_before = {user: person.muted for user, person in self.people.items()}
        on_stage_before = set(self.space.stage)
        result: object = None
        try:
            result = call()
        except DomainError:
            refused = True
        else:
            refused = False
        self.now += timedelta(seconds=1)

        if was_ended and action == "leave":
            assert result == [], "leaving an ended Space is a no-op"
        elif was_ended:
            assert refused, f"{action} by {actor} worked on an ended Space"
        for user, person in self.people.items():
            # Someone created in this step counts as muted before it: joining is muted.
            if muted_before.get(user, True) and not person.muted:
                assert (action, actor, refused) == (UNMUTE_SELF, user, False), (
                    f"{user} was unmuted by {action} of {actor}"
                )
        for user in set(self.space.stage) - on_stage_before:
            assert self.space.stage[user].muted, f"{user} came on stage unmuted"
        if self.space.state is SpaceState.ENDED and self.ended is None:
            for person in self.people.values():  # the service's mark_everyone_gone
                person.present = False
                person.hand_raised = False
            self.ended = copy.deepcopy(self.space)

    def _check_only(self, action: str, actor: UserId, call: Callable[[], object]) -> None:
        """check_may_* only answer; they change nothing."""
        before = copy.deepcopy((self.space, self.people))
        self._do(action, actor, call)
        assert (self.space, self.people) == before

    # Lifecycle ---------------------------------------------------------------------------

    @rule(actor=actors)
    def start(self, actor: UserId) -> None:
        def call() -> None:
            actions.start(self.space, actor, self.now)
            self._host_joins()

        self._do("start", actor, call)

    @rule(actor=actors, how=st.sampled_from(["end", "cancel", "host timeout"]))
    def finish(self, actor: UserId, how: str) -> None:
        """One rule for every way a Space finishes, so most runs stay live a while."""
        if how == "end":
            self._do(how, actor, lambda: actions.end(self.space, actor, self.now))
        elif how == "cancel":
            self._do(how, actor, lambda: actions.cancel(self.space, actor, self.now))
        else:
            self._do(how, HOST_ID, lambda: actions.end_for_host_timeout(self.space, self.now))

    @rule(
        actor=actors,
        title=st.sampled_from([None, "Renamed", "   "]),
        who_can_speak=st.none() | st.sampled_from(WhoCanSpeak),
    )
    def update(self, actor: UserId, title: str | None, who_can_speak: WhoCanSpeak | None) -> None:
        self._do(
            "update",
            actor,
            lambda: actions.update(self.space, self.people.get(actor), actor, title, who_can_speak),
        )

    # Presence ----------------------------------------------------------------------------

    @rule(user=users)
    def join(self, user: UserId) -> None:
        existing = self.people.get(user)
        was_present = existing is not None and existing.present

        def call() -> None:
            person, events = actions.join(self.space, user, existing, self._access(user), self.now)
            if existing is None:
                self.people[user] = person
            else:
                assert person is existing, "joining again must return the same participant"
            if was_present:
                assert events == [], "joining twice makes no event"

        self._do("join", user, call)

    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        user = self._pick(data, lambda person: person.present and person.role is not Role.HOST)
        person = self.people.get(user)
        if person is not None:
            self._do("leave", user, lambda: actions.leave(self.space, person, self.now))

    # Requests and invites ----------------------------------------------------------------

    @rule(data=st.data())
    def raise_hand(self, data: st.DataObject) -> None:
        user = self._pick(data, lambda person: person.present and person.role is Role.LISTENER)
        self._do(
            "raise hand",
            user,
            lambda: actions.raise_hand(
                self.space, self.people.get(user), self._access(user), user in self.invites
            ),
        )

    @rule(data=st.data())
    def lower_hand(self, data: st.DataObject) -> None:
        user = self._pick(data, lambda person: person.hand_raised)
        self._do("lower hand", user, lambda: actions.lower_hand(self.space, self.people.get(user)))

    @rule(actor=actors, approve=st.booleans(), data=st.data())
    def answer_request(self, actor: UserId, approve: bool, data: st.DataObject) -> None:
        subject = self._pick(data, lambda person: person.hand_raised)
        by, of = self.people.get(actor), self.people.get(subject)
        if approve:
            self._do(
                "approve",
                actor,
                lambda: actions.approve_request(self.space, by, of, self.limits),
            )
        else:
            self._do("deny", actor, lambda: actions.deny_request(self.space, by, of))

    @rule(
        actor=actors,
        invitee=users,
        role=st.sampled_from([Role.SPEAKER, Role.COHOST]) | st.sampled_from(Role),
    )
    def invite(self, actor: UserId, invitee: UserId, role: Role) -> None:
        def call() -> None:
            actions.invite(
                self.space,
                self.people.get(actor),
                actor,
                invitee,
                role,
                self._access(invitee),
                self.people.get(invitee),
            )
            self.invites[invitee] = role

        self._do("invite", actor, call)

    @rule(data=st.data())
    def accept_invite(self, data: st.DataObject) -> None:
        """The service joins the invitee first; here joining is a step of its own."""
        user = self._pick(data, lambda person: person.present and person.user_id in self.invites)
        person = self.people.get(user)
        if person is None or not person.present:
            return

        def call() -> None:
            actions.accept_invite(self.space, self.invites.get(user), person, self.limits)
            del self.invites[user]

        self._do("accept invite", user, call)

    # Stage management --------------------------------------------------------------------

    @rule(actor=actors, role=st.sampled_from(Role), data=st.data())
    def set_role(self, actor: UserId, role: Role, data: st.DataObject) -> None:
        subject = self._pick(data, lambda person: person.present)
        self._do(
            "set role",
            actor,
            lambda: actions.set_role(
                self.space, self.people.get(actor), self.people.get(subject), role, self.limits
            ),
        )

    @rule(actor=actors, data=st.data())
    def mute(self, actor: UserId, data: st.DataObject) -> None:
        subject = self._pick(data, lambda person: person.on_stage)
        self._do(
            "mute",
            actor,
            lambda: actions.mute(self.space, self.people.get(actor), self.people.get(subject)),
        )

    @rule(muted=st.booleans(), data=st.data())
    def set_self_muted(self, muted: bool, data: st.DataObject) -> None:
        user = self._pick(data, lambda person: person.on_stage)
        self._do(
            "mute themselves" if muted else UNMUTE_SELF,
            user,
            lambda: actions.set_self_muted(self.space, self.people.get(user), muted),
        )

    @rule(actor=actors, block=st.booleans(), data=st.data())
    def remove(self, actor: UserId, block: bool, data: st.DataObject) -> None:
        subject = self._pick(data, lambda person: person.present)

        def call() -> None:
            actions.remove(self.space, self.people.get(actor), self.people.get(subject), block)
            if block:
                self.banned.add(subject)
            self.invites.pop(subject, None)

        self._do("remove", actor, call)

    # Questions that change nothing -------------------------------------------------------

    @rule(user=users, pinned_count=st.integers(0, 6))
    def may_pin(self, user: UserId, pinned_count: int) -> None:
        self._check_only(
            "pin",
            user,
            lambda: actions.check_may_pin(
                self.space, self.people.get(user), pinned_count, self.limits
            ),
        )

    @rule(user=users, question=st.sampled_from(["unpin", "react", "open poll", "vote"]))
    def may(self, user: UserId, question: str) -> None:
        check = {
            "unpin": actions.check_may_unpin,
            "react": actions.check_may_react,
            "open poll": actions.check_may_open_poll,
            "vote": actions.check_may_vote,
        }[question]
        self._check_only(question, user, lambda: check(self.space, self.people.get(user)))

    # Invariants --------------------------------------------------------------------------

    @invariant()
    def exactly_one_host_and_it_is_the_creator(self) -> None:
        assert self.space.host_id == HOST_ID
        assert [u for u, p in self.people.items() if p.role is Role.HOST] in ([], [HOST_ID])
        host = self.people.get(HOST_ID)
        if self.space.state is SpaceState.LIVE:
            assert host is not None and host.present, "a live Space has its host"
            assert self.space.stage[HOST_ID] is host
            assert host.role is Role.HOST

    @invariant()
    def the_stage_stays_within_its_limits(self) -> None:
        present = [p for p in self.people.values() if p.present]
        cohosts = sum(1 for p in present if p.role is Role.COHOST)
        speakers = sum(1 for p in present if p.role is Role.SPEAKER)
        assert cohosts <= self.limits.max_cohosts
        assert speakers <= self.limits.max_speakers
        assert self.space.count_role(Role.COHOST) == cohosts
        assert self.space.count_role(Role.SPEAKER) == speakers

    @invariant()
    def the_stage_is_exactly_the_present_people_with_stage_roles(self) -> None:
        for user, person in self.space.stage.items():
            assert person is self.people[user], "the stage holds the very same Participant"
            assert person.user_id == user
            assert person.present
            assert person.role in STAGE_ROLES
        for user, person in self.people.items():
            if person.present and person.role in STAGE_ROLES:
                assert user in self.space.stage

    @invariant()
    def people_who_left_a_live_space_hold_no_seat(self) -> None:
        """Leaving or being removed drops you to listener; ending leaves roles as they were."""
        if self.space.state is SpaceState.LIVE:
            for person in self.people.values():
                if not person.present:
                    assert person.role is Role.LISTENER

    @invariant()
    def blocked_and_banned_people_are_never_present(self) -> None:
        for user in self.blocked | self.banned:
            person = self.people.get(user)
            assert person is None or not person.present

    @invariant()
    def listeners_have_no_microphone_and_only_they_raise_hands(self) -> None:
        for person in self.people.values():
            if person.role is Role.LISTENER:
                assert person.muted
            if person.hand_raised:
                assert person.present and person.role is Role.LISTENER

    @invariant()
    def an_ended_space_never_changes_and_holds_nobody(self) -> None:
        if self.ended is not None:
            assert self.space == self.ended
            assert self.space.stage == {}
            assert not any(person.present for person in self.people.values())


SpaceMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=40, deadline=None, database=None
)
TestSpaceStateMachine = SpaceMachine.TestCase
