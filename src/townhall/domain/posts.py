"""Rules for posts: length counted in code points, as people count characters."""

import unicodedata

from townhall.domain.errors import Invalid

POST_MAX_CHARS = 280


def check_post_text(text: str) -> str:
    if not text.strip():
        raise Invalid("A post needs some text.", code="empty_post")
    if len(text) > POST_MAX_CHARS:
        raise Invalid(
            f"Posts are at most {POST_MAX_CHARS} characters; this one has {len(text)}.",
            code="post_too_long",
        )
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t" for c in text):
        raise Invalid("Posts cannot hold control characters.", code="invalid_post")
    return text
