"""Rules shared by every piece of text people type."""

import unicodedata


def has_control_chars(text: str, allow_newlines: bool = False) -> bool:
    """Control characters (NUL among them, which PostgreSQL cannot store) and lone
    surrogates (which JSON can carry as an escape, but UTF-8 cannot encode)."""
    for char in text:
        if allow_newlines and char == "\n":
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return True
    return False
