"""Event frames that are encoded to JSON once, however many sockets they go to."""

import json
from typing import Any


class EncodedOnce(dict[str, Any]):
    """A frame shared by every subscriber: the first socket to send it pays for the encoding.

    Frames are never changed after they are published, so the cached text stays right.
    """

    _text: str | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = encode(self)
        return self._text


def encode(message: dict[str, Any]) -> str:
    """The JSON text of a frame, as Starlette's send_json would write it."""
    if isinstance(message, EncodedOnce) and message._text is not None:
        return message._text
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def text_of(message: dict[str, Any]) -> str:
    return message.text() if isinstance(message, EncodedOnce) else encode(message)
