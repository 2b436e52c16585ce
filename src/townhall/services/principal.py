"""Who is making a request, as established from a token."""

from dataclasses import dataclass

from townhall.types import UserId


@dataclass(frozen=True)
class Principal:
    user_id: UserId
    token_hash: str
    token_kind: str
