"""Rules for direct messages: who may talk to whom, and what a message may hold."""

import unicodedata

from townhall.domain.errors import Forbidden, Invalid
from townhall.domain.social import BlockState
from townhall.types import UserId

MESSAGE_MAX_CHARS = 1_000
MESSAGES_PER_MINUTE = 30
"""Per sender, across conversations: enough for a chat, too few for a spam run."""
MESSAGES_PER_MINUTE_PER_ADDRESS = 300
"""Per client address, so many fresh accounts from one place cannot multiply the above
(roomy: a household or office shares one address)."""


def check_message_text(text: str) -> str:
    """Counted in code points, as people count characters; stored exactly as given."""
    if not text.strip():
        raise Invalid("A message needs some text.", code="empty_message")
    if len(text) > MESSAGE_MAX_CHARS:
        raise Invalid(
            f"Messages are at most {MESSAGE_MAX_CHARS} characters; this one has {len(text)}.",
            code="message_too_long",
        )
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t" for c in text):
        raise Invalid("Messages cannot hold control characters.", code="invalid_message")
    return text


def check_can_message(sender: UserId, recipient: UserId, blocks: BlockState) -> None:
    """`blocks` is seen from the sender (a) towards the recipient (b); either way is a 403."""
    if sender == recipient:
        raise Invalid("You cannot start a conversation with yourself.", code="cannot_message_self")
    if blocks.b_blocks_a:
        raise Forbidden("This account has blocked you.", code="blocked")
    if blocks.a_blocks_b:
        raise Forbidden("You have blocked this account; unblock it first.", code="blocking")


def pair_key(a: int, b: int) -> str:
    """The one name of a one-to-one conversation, whoever starts it: at most one per pair."""
    low, high = sorted((a, b))
    return f"{low}:{high}"
