"""Writing finished WebSocket messages straight to a connection, below ASGI.

ASGI sends one message per `await send(...)`, through every middleware layer, and the
server frames it again for each socket. A fan-out of one frame to thousands of sockets
only needs to hand the same bytes to each transport. A server that can do that offers it
in the ASGI scope under `RAW_EXTENSION` (see `townhall.api.ws_protocol`); under any other
ASGI server the extension is absent and the app sends through ASGI as usual.
"""

from collections.abc import Callable, Mapping
from typing import Any, Protocol

RAW_EXTENSION = "townhall.ws_raw"


class RawWebSocket(Protocol):
    """One accepted WebSocket connection that takes pre-framed messages."""

    def write(self, data: bytes) -> int:
        """Write whole messages; the bytes now buffered, or -1 if the socket is closing.

        Never waits: a caller that sees the buffer grow past its bound stops writing to
        this consumer (it is too slow) instead of letting memory grow.
        """
        ...

    def close(self, code: int, reason: str) -> None:
        """Start the closing handshake now, even if the write buffer is full."""
        ...

    def detach(self, on_gone: Callable[[], None]) -> None:
        """Keep the connection open after the app returns; call `on_gone` once it closes.

        What the client sends from then on is dropped: only for sockets that just listen.
        """
        ...


def raw_socket_of(scope: Mapping[str, Any]) -> RawWebSocket | None:
    extensions = scope.get("extensions") or {}
    raw = extensions.get(RAW_EXTENSION)
    return raw if raw is not None else None
