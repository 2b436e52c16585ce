"""The Space state machine: scheduled -> live -> ended, never back."""

from enum import StrEnum

from townhall.domain.errors import Conflict


class SpaceState(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"


ALLOWED_TRANSITIONS: dict[SpaceState, frozenset[SpaceState]] = {
    SpaceState.SCHEDULED: frozenset({SpaceState.LIVE, SpaceState.ENDED}),
    SpaceState.LIVE: frozenset({SpaceState.ENDED}),
    SpaceState.ENDED: frozenset(),
}


def check_transition(current: SpaceState, target: SpaceState) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise Conflict(
            f"A {current.value} Space cannot become {target.value}.", code=f"space_{current.value}"
        )


def require_state(current: SpaceState, *expected: SpaceState) -> None:
    """Raises a Conflict naming the state the action needs and the one the Space is in."""
    if current not in expected:
        wanted = " or ".join(state.value for state in expected)
        raise Conflict(
            f"This needs a {wanted} Space; this one is {current.value}.",
            code=f"space_{current.value}",
        )
