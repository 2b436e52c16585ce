"""Identifier types shared by every layer, so a user id is never passed where a post id belongs."""

from typing import Any, NewType

UserId = NewType("UserId", int)
PostId = NewType("PostId", int)
SpaceId = NewType("SpaceId", int)
NotificationId = NewType("NotificationId", int)

JSONDict = dict[str, Any]
