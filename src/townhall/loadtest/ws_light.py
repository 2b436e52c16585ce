"""A read-only WebSocket client light enough to hold thousands of sockets in one process.

Shared by `townhall loadtest` and bench/spaces_fanout.py.

The fan-out benchmark's listeners only read: the server's text frames, and its pings. The
`websockets` library parses every frame through several layers of Python; at 20,000 frames
a second that took a whole core in the client, on the same two cores as the server, and its
lag counted as delivery latency. This client does the least RFC 6455 asks of a reader:
the upgrade handshake, unmasked frames from the server (no extensions offered, so none
agreed), pongs and a close reply sent masked as a client must.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (always masked), for the small control frames this client sends."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


class LightSocket(asyncio.Protocol):
    def __init__(self, on_message: Callable[[bytes], None]) -> None:
        self._on_message = on_message
        self._buffer = bytearray()
        self._fragments = bytearray()
        self._transport: asyncio.Transport | None = None
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.close_reason = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self.handshake.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status + b" ":
                self.handshake.set_exception(ConnectionError(status.decode(errors="replace")))
                self._abort()
                return
            self.handshake.set_result(None)
        offset = 0
        size = len(buffer)
        while size - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            length = second & 0x7F
            header = 2
            if length == 126:
                if size - offset < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, offset + 2)
                header = 4
            elif length == 127:
                if size - offset < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, offset + 2)
                header = 10
            if second & 0x80:
                header += 4  # servers must not mask; skip the key rather than fail
            end = offset + header + length
            if end > size:
                break
            self._frame(first, bytes(buffer[offset + header : end]))
            offset = end
        del buffer[:offset]

    def _frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        final = bool(first & 0x80)
        if opcode in (TEXT, BINARY, CONTINUATION):
            if final and not self._fragments:
                self._on_message(payload)
                return
            self._fragments += payload
            if final:
                self._on_message(bytes(self._fragments))
                self._fragments.clear()
        elif opcode == PING:
            self._send(_masked(PONG, payload))
        elif opcode == CLOSE:
            if len(payload) >= 2:
                self.close_code = struct.unpack_from("!H", payload)[0]
                self.close_reason = payload[2:].decode(errors="replace")
            self._send(_masked(CLOSE, payload[:2]))
            self._abort()

    def _send(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _abort(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    async def close(self) -> None:
        self._send(_masked(CLOSE, struct.pack("!H", 1000)))
        self._abort()
        await self.closed


async def connect(url: str, on_message: Callable[[bytes], None]) -> LightSocket:
    """Opens `ws://host:port/path?query`; frames go to on_message from the first one on."""
    parts = urlsplit(url)
    assert parts.scheme == "ws" and parts.hostname, url
    loop = asyncio.get_running_loop()
    _, socket = await loop.create_connection(
        lambda: LightSocket(on_message), parts.hostname, parts.port or 80
    )
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    socket._send(request.encode())
    await socket.handshake
    return socket
