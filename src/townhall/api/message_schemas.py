"""Request bodies and response shapes of direct messages (docs/api-extensions.md)."""

from typing import Literal

from pydantic import BaseModel, Field

from townhall.api.schemas import Body, UserSummary
from townhall.domain.messages import MESSAGE_MAX_CHARS


class StartConversationBody(Body):
    user_ids: list[str] | None = Field(default=None, max_length=20)
    username: str | None = Field(default=None, max_length=64)


class MessageBody(Body):
    # The rule (1 to 1,000 code points) is the domain's; this only bounds what is parsed.
    text: str = Field(max_length=MESSAGE_MAX_CHARS * 4)
    space_id: str | None = Field(default=None, max_length=20)
    invite_role: Literal["speaker", "cohost"] | None = None


class ReadBody(Body):
    up_to_id: str | None = Field(default=None, max_length=20)


class Message(BaseModel):
    id: str
    conversation_id: str
    sender_id: str
    sender: UserSummary | None
    text: str
    space_id: str | None
    invite_role: Literal["speaker", "cohost"] | None
    created_at: str


class Conversation(BaseModel):
    id: str
    participant_ids: list[str]
    participants: list[UserSummary]
    last_message: Message | None
    unread_count: int
    created_at: str


class ConversationPage(BaseModel):
    data: list[Conversation]
    next_cursor: str | None


class MessagePage(BaseModel):
    data: list[Message]
    next_cursor: str | None
