"""Event frames that are encoded once, however many sockets they go to."""

import json
import struct
from typing import Any


class EncodedOnce(dict[str, Any]):
    """A frame shared by every subscriber: the first socket to send it pays for the encoding.

    Frames are never changed after they are published, so the cached text and wire bytes
    stay right.
    """

    _text: str | None = None
    _wire: bytes | None = None

    def text(self) -> str:
        if self._text is None:
            self._text = encode(self)
        return self._text

    def wire(self) -> bytes:
        """The whole WebSocket message as a server sends it: the same bytes for every socket."""
        if self._wire is None:
            self._wire = text_message(self.text().encode())
        return self._wire


def shared(message: dict[str, Any]) -> EncodedOnce:
    """The message as a frame that caches its encodings (events from other nodes are plain)."""
    return message if isinstance(message, EncodedOnce) else EncodedOnce(message)


def encode(message: dict[str, Any]) -> str:
    """The JSON text of a frame, as Starlette's send_json would write it."""
    if isinstance(message, EncodedOnce) and message._text is not None:
        return message._text
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def text_of(message: dict[str, Any]) -> str:
    return message.text() if isinstance(message, EncodedOnce) else encode(message)


def text_message(payload: bytes) -> bytes:
    """One unfragmented, unmasked, uncompressed text message (RFC 6455 section 5.2).

    Server-to-client frames are never masked, so with no extension negotiated the bytes do
    not depend on the connection and can be written to every socket as they are.
    """
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, length)
    else:
        header = struct.pack("!BBQ", 0x81, 127, length)
    return header + payload
