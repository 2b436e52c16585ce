"""Request bodies and response shapes of the Spaces part of API.md."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from townhall.api.schemas import UserSummary

WhoCanSpeakName = Literal["everyone", "followed", "invited"]


class Body(BaseModel):
    model_config = ConfigDict(strict=True)


class CreateSpaceBody(Body):
    title: str = Field(max_length=1000)
    who_can_speak: WhoCanSpeakName = "everyone"
    recording: bool = False
    captions: bool = False
    scheduled_start: AwareDatetime | None = Field(
        default=None, strict=False, description="RFC 3339 with a timezone; at most 30 days ahead"
    )
    topic_ids: list[str] = Field(default_factory=list, max_length=10)
    lang: str | None = Field(default=None, max_length=16)


class UpdateSpaceBody(Body):
    title: str | None = Field(default=None, max_length=1000)
    who_can_speak: WhoCanSpeakName | None = None
    captions: bool | None = None
    recording: bool | None = None


class InviteBody(Body):
    user_id: str = Field(max_length=20)
    role: Literal["speaker", "cohost"]


class RoleBody(Body):
    role: Literal["cohost", "speaker", "listener"]


class RemoveBody(Body):
    block: bool = False


class ReactionBody(Body):
    emoji: str = Field(max_length=16)


class PinBody(Body):
    post_id: str = Field(max_length=20)


class PollBody(Body):
    question: str = Field(max_length=1000)
    options: list[str] = Field(max_length=10)
    duration_s: int


class VoteBody(Body):
    option: int


class Space(BaseModel):
    id: str
    state: Literal["scheduled", "live", "ended"]
    title: str
    creator_id: str
    host_ids: list[str]
    cohost_ids: list[str]
    speaker_ids: list[str]
    invited_user_ids: list[str]
    participant_count: int
    subscriber_count: int
    scheduled_start: str | None
    started_at: str | None
    ended_at: str | None
    created_at: str
    lang: str | None
    topic_ids: list[str]
    is_ticketed: bool
    who_can_speak: WhoCanSpeakName
    recording: bool
    captions: bool
    share_url: str
    pinned_post_ids: list[str]
    seq: int = Field(description="the Space's latest event seq: resume its stream from here")
    host: UserSummary | None = None


class SpacePage(BaseModel):
    data: list[Space]
    next_cursor: str | None


class Participant(BaseModel):
    user_id: str
    role: Literal["host", "cohost", "speaker", "listener"]
    muted: bool
    hand_raised: bool
    joined_at: str
    user: UserSummary | None


class ParticipantList(BaseModel):
    data: list[Participant]


class PollOption(BaseModel):
    text: str
    votes: int


class Poll(BaseModel):
    id: str
    space_id: str
    question: str
    options: list[PollOption]
    state: Literal["open", "closed"]
    closes_at: str
    my_vote: int | None


class PollList(BaseModel):
    data: list[Poll]


def as_utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    return value.astimezone(UTC) if value is not None else None
