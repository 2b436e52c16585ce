"""Request bodies and response shapes: the OpenAPI face of API.md."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from townhall.ids import parse_id_text


class Body(BaseModel):
    """Strict types: a number where text belongs is a 422, not silently converted."""

    model_config = ConfigDict(strict=True)


class SignupBody(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=1024)
    session: Literal["token", "cookie"] = Field(
        default="token",
        description="'cookie' sets an HttpOnly session cookie (browser) instead of a bearer token",
    )


class LoginBody(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    session: Literal["token", "cookie"] = "token"


class ProfileBody(Body):
    display_name: str | None = Field(default=None, max_length=1024)
    bio: str | None = Field(default=None, max_length=4096)


class PostBody(Body):
    text: str = Field(max_length=10_000)
    space_id: str | None = Field(default=None, max_length=20)
    reply_to: str | None = Field(default=None, max_length=20)


class Relationship(BaseModel):
    following: bool
    followed_by: bool
    blocking: bool
    blocked_by: bool


class User(BaseModel):
    id: str
    username: str
    display_name: str
    bio: str
    avatar_url: str | None
    followers_count: int
    following_count: int
    live_space_id: str | None
    created_at: str
    relationship: Relationship | None = None


class UserSummary(BaseModel):
    id: str
    username: str
    display_name: str
    avatar_url: str | None
    live_space_id: str | None = None


class Post(BaseModel):
    id: str
    author_id: str
    text: str
    space_id: str | None
    reply_to: str | None
    created_at: str
    author: UserSummary | None


class Notification(BaseModel):
    id: str
    kind: Literal["follow", "space_live", "space_reminder", "invite"]
    actor_id: str | None
    space_id: str | None
    post_id: str | None
    created_at: str
    read: bool
    actor: UserSummary | None


class SignedIn(BaseModel):
    user: User
    token: str | None = Field(description="bearer token; null when a session cookie was set")


class UserPage(BaseModel):
    data: list[User]
    next_cursor: str | None


class PostPage(BaseModel):
    data: list[Post]
    next_cursor: str | None


class NotificationPage(BaseModel):
    data: list[Notification]
    next_cursor: str | None


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]
    version: str


def parse_id(raw: str | None) -> int | None:
    """Ids are digit strings; anything else cannot name a record, so it is treated as unknown."""
    if raw is None:
        return None
    parsed = parse_id_text(raw)
    return -1 if parsed is None else parsed
