"""The uvicorn settings Townhall is served with, shared by `townhall serve` and the tests."""

from typing import Any

from townhall.api.ws_protocol import RawWriteProtocol

WS_MAX_SIZE = 64 * 1024
"""Largest message a client may send; clients only send small control messages."""


def uvicorn_options() -> dict[str, Any]:
    return {
        "ws": RawWriteProtocol,
        "ws_max_size": WS_MAX_SIZE,
        # Event frames are small and go to thousands of sockets: compressing each one per
        # connection costs more CPU than the bytes it saves, and uncompressed messages are
        # the same bytes on every socket, so the fan-out writes them as they are.
        "ws_per_message_deflate": False,
    }
