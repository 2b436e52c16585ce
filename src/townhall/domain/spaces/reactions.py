"""The fixed set of reaction emoji; anything else is refused."""

from townhall.domain.errors import Invalid

BASE_REACTIONS = ("💜", "😂", "😲", "😢", "💯", "👏", "✋", "👍", "👎", "🔥", "🙏", "👋")
SKIN_TONES = ("\U0001f3fb", "\U0001f3fc", "\U0001f3fd", "\U0001f3fe", "\U0001f3ff")
# Hands come in skin tones; hearts, faces and fire do not.
TONED_REACTIONS = ("👏", "✋", "👍", "👎", "🙏", "👋")

ALLOWED_REACTIONS: frozenset[str] = frozenset(
    BASE_REACTIONS + tuple(base + tone for base in TONED_REACTIONS for tone in SKIN_TONES)
)
REACTIONS_PER_SECOND = 5


def check_reaction(emoji: str) -> str:
    if emoji not in ALLOWED_REACTIONS:
        raise Invalid(
            "That is not one of the reactions: " + " ".join(BASE_REACTIONS), code="invalid_emoji"
        )
    return emoji
