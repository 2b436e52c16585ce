"""Rules for accounts: what a username, display name, bio and password may be."""

import re
import unicodedata

from townhall.domain.errors import Invalid

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_]{1,15}")
DISPLAY_NAME_MAX_CHARS = 50
BIO_MAX_CHARS = 160
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 256


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise Invalid(
            "Usernames are 1 to 15 letters, digits or underscores.", code="invalid_username"
        )
    return username


def username_key(username: str) -> str:
    """Usernames are unique regardless of case, so lookups go through this key."""
    return username.lower()


def _has_control_chars(text: str, allow_newlines: bool) -> bool:
    for char in text:
        if allow_newlines and char == "\n":
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return True
    return False


def check_display_name(display_name: str) -> str:
    if len(display_name) > DISPLAY_NAME_MAX_CHARS:
        raise Invalid(
            f"Display names are at most {DISPLAY_NAME_MAX_CHARS} characters.",
            code="display_name_too_long",
        )
    if _has_control_chars(display_name, allow_newlines=False):
        raise Invalid("Display names cannot hold control characters.", code="invalid_display_name")
    return display_name


def check_bio(bio: str) -> str:
    if len(bio) > BIO_MAX_CHARS:
        raise Invalid(f"Bios are at most {BIO_MAX_CHARS} characters.", code="bio_too_long")
    if _has_control_chars(bio, allow_newlines=True):
        raise Invalid("Bios cannot hold control characters.", code="invalid_bio")
    return bio


def check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN_CHARS:
        raise Invalid(
            f"Passwords are at least {PASSWORD_MIN_CHARS} characters.", code="password_too_short"
        )
    if len(password) > PASSWORD_MAX_CHARS:
        raise Invalid(
            f"Passwords are at most {PASSWORD_MAX_CHARS} characters.", code="password_too_long"
        )
    return password
