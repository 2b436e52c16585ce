"""Bearer and cookie tokens: random, stored only as a hash, so a database leak reveals none."""

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "th_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token is derived from the session token, so it needs no storage of its own."""
    return hmac.new(session_token.encode(), b"townhall-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, presented: str) -> bool:
    return hmac.compare_digest(csrf_token_for(session_token), presented)
