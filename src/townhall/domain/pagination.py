"""Cursor pagination rules shared by every list: limits and opaque cursors."""

from townhall.domain.errors import Invalid
from townhall.ids import parse_id_text

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid(f"limit must be 1 to {MAX_PAGE_SIZE}.", code="invalid_limit")
    return limit


def decode_cursor(cursor: str | None) -> int | None:
    """Cursors are the id of the last item seen; anything else is a 422, not a 500."""
    if cursor is None or cursor == "":
        return None
    parsed = parse_id_text(cursor)
    if parsed is None:
        raise Invalid("That cursor is not one this server gave out.", code="invalid_cursor")
    return parsed


def encode_cursor(last_id: int | None) -> str | None:
    return None if last_id is None else str(last_id)
