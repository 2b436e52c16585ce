"""uvicorn's WebSocket protocol, plus a raw write for the event fan-out.

The app finds a `RawWebSocket` in `scope["extensions"]["townhall.ws_raw"]` once the
handshake is done and no extension (permessage-deflate) was agreed: then a server
message is the same bytes on every connection, and one `transport.write` puts it, or
several of them back to back, on the wire. Everything else (handshake, pings, the
closing handshake, reading) stays uvicorn's.

A connection that only listens can also be detached: the app registers what to do when
the connection goes and returns, and the connection stays open without the ASGI call
stack (some 25 suspended coroutines, an exit stack and a task per socket) that would
otherwise wait on it. With thousands of sockets that stack was most of what Python's
cyclic garbage collector had to walk, and a full pass over it stalled the server for a
third of a second.
"""

import logging
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
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

    def detach(self, on_gone: Callable[[], None]) -> None:
        self._protocol.detach(on_gone)


class RawWriteProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol that also offers the raw write to the app."""

    _on_gone: Callable[[], None] | None = None
    _detached = False

    def detach(self, on_gone: Callable[[], None]) -> None:
        """From now on the app neither receives nor awaits: `on_gone` runs once, at the end."""
        self._detached = True
        # The app's scope holds the framework's per-request state (exit stacks, route,
        # the token in the query string); uvicorn only needs the address for its logs.
        scope = self.scope
        self.scope = {
            "type": "websocket",
            "client": scope.get("client"),
            "root_path": scope.get("root_path", ""),
            "path": scope.get("path", ""),
            "query_string": b"",
        }  # type: ignore[typeddict-item]
        # The handshake's request and response (their headers: a list per name) neither.
        self.request = self.response = None  # type: ignore[assignment]
        while not self.queue.empty():
            self.queue.get_nowait()
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        if self.disconnected:
            self.loop.call_soon(_call_safely, on_gone)
        else:
            self._on_gone = on_gone

    def send_receive_event_to_app(self) -> None:
        if self._detached:
            self.frames = []  # a detached listener's client has nothing to say to the app
            return
        super().send_receive_event_to_app()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        on_gone, self._on_gone = self._on_gone, None
        if on_gone is not None:
            _call_safely(on_gone)

    async def run_asgi(self) -> None:
        """uvicorn's, except that a detached connection stays open when the app returns."""
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.close_timer is None and not self._detached:
            self.transport.close()

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        # With an agreed extension (deflate) each connection frames its messages differently.
        if scope is not None and not self.conn.extensions:
            scope["extensions"][RAW_EXTENSION] = _RawAccess(self)


def _call_safely(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        log.exception("clean-up of a detached WebSocket failed")
