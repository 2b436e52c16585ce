"""Kinds of notification; other capabilities add theirs here."""

from enum import StrEnum


class NotificationKind(StrEnum):
    FOLLOW = "follow"
    SPACE_LIVE = "space_live"
    SPACE_REMINDER = "space_reminder"
    INVITE = "invite"
