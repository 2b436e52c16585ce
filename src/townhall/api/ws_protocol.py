"""uvicorn's WebSocket protocol, plus a raw write for the event fan-out.

The app finds a `RawWebSocket` in `scope["extensions"]["townhall.ws_raw"]` once the
handshake is done and no extension (permessage-deflate) was agreed: then a server
message is the same bytes on every connection, and one `transport.write` puts it, or
several of them back to back, on the wire. Everything else (handshake, pings, the
closing handshake, reading) stays uvicorn's.
"""

import logging
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.protocol import State

from townhall.realtime.raw_socket import RAW_EXTENSION

log = logging.getLogger("townhall.realtime")


class _RawAccess:
    """The RawWebSocket of one connection; writes only while uvicorn would still send."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: "RawWriteProtocol") -> None:
        self._protocol = protocol

    def write(self, data: bytes) -> int:
        protocol = self._protocol
        transport = protocol.transport
        if (
            protocol.close_sent
            or protocol.disconnected
            or transport.is_closing()
            or protocol.conn.state is not State.OPEN
        ):
            return -1
        transport.write(data)
        return transport.get_write_buffer_size()

    def close(self, code: int, reason: str) -> None:
        """What uvicorn does for an ASGI `websocket.close`, without waiting to be writable."""
        protocol = self._protocol
        if protocol.close_sent or protocol.disconnected or protocol.transport.is_closing():
            return
        protocol.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        try:
            protocol.conn.send_close(code, reason)
        except InvalidState:
            protocol.transport.close()
            return
        protocol.transport.write(b"".join(protocol.conn.data_to_send()))
        protocol.close_sent = True
        if protocol.read_paused:
            protocol.read_paused = False
            protocol.transport.resume_reading()
        protocol.close_timer = protocol.loop.call_later(
            protocol.close_timeout, protocol.transport.close
        )


class RawWriteProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol that also offers the raw write to the app."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        # With an agreed extension (deflate) each connection frames its messages differently.
        if scope is not None and not self.conn.extensions:
            scope["extensions"][RAW_EXTENSION] = _RawAccess(self)
