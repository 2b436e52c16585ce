"""Roles in a Space and the one table that says which role may do what."""

from enum import StrEnum

from townhall.domain.errors import Forbidden


class Role(StrEnum):
    HOST = "host"
    COHOST = "cohost"
    SPEAKER = "speaker"
    LISTENER = "listener"


STAGE_ROLES = frozenset({Role.HOST, Role.COHOST, Role.SPEAKER})
MODERATORS = frozenset({Role.HOST, Role.COHOST})


class Action(StrEnum):
    UPDATE = "update"
    START = "start"
    END = "end"
    CANCEL = "cancel"
    INVITE_SPEAKER = "invite_speaker"
    INVITE_COHOST = "invite_cohost"
    ANSWER_REQUEST = "answer_request"
    MOVE_SPEAKER = "move_speaker"
    APPOINT_COHOST = "appoint_cohost"
    MUTE_OTHER = "mute_other"
    REMOVE = "remove"
    PIN = "pin"
    OPEN_POLL = "open_poll"
    RAISE_HAND = "raise_hand"
    MUTE_SELF = "mute_self"
    REACT = "react"
    VOTE = "vote"


ALL_ROLES = frozenset(Role)

# Who may take each action, whatever the target. Target-specific limits (nobody acts on
# the host) are in check_may_moderate.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.UPDATE: MODERATORS,
    Action.START: frozenset({Role.HOST}),
    Action.END: frozenset({Role.HOST}),
    Action.CANCEL: frozenset({Role.HOST}),
    Action.INVITE_SPEAKER: MODERATORS,
    Action.INVITE_COHOST: frozenset({Role.HOST}),
    Action.ANSWER_REQUEST: MODERATORS,
    Action.MOVE_SPEAKER: MODERATORS,
    Action.APPOINT_COHOST: frozenset({Role.HOST}),
    Action.MUTE_OTHER: MODERATORS,
    Action.REMOVE: MODERATORS,
    Action.PIN: STAGE_ROLES,
    Action.OPEN_POLL: MODERATORS,
    Action.RAISE_HAND: frozenset({Role.LISTENER}),
    Action.MUTE_SELF: STAGE_ROLES,
    Action.REACT: ALL_ROLES,
    Action.VOTE: ALL_ROLES,
}


def check_allowed(action: Action, role: Role | None) -> None:
    if role is None or role not in PERMISSIONS[action]:
        who = "people in this Space" if role is None else f"a {role.value}"
        raise Forbidden(
            f"You cannot {action.value.replace('_', ' ')} as {who}.", code="not_allowed"
        )


def check_may_moderate(target: Role) -> None:
    """Nobody moderates the host.

    Co-hosts may mute and remove each other, as the issue's rules say of "any speaker" and
    "anyone but the host"; changing a co-host's role stays the host's (APPOINT_COHOST).
    """
    if target is Role.HOST:
        raise Forbidden("Nobody can do that to the host.", code="target_is_host")
