"""A small HTTP/1.1 keep-alive client on asyncio streams, cheap enough for 10,000 HLS players.

The load tester's clients make tens of thousands of small GETs a second from a few
processes; a general client (httpx) costs several times more CPU per request. This one
sends one request at a time per connection, reads Content-Length or chunked bodies, and
reconnects when the server closes. It is also what the load tester's JSON calls use, so the
product needs no HTTP client dependency.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

CONNECT_TIMEOUT_S = 10.0
STREAM_LIMIT_BYTES = 1 << 20


class HttpError(Exception):
    """A transport failure: refused, reset, closed mid-response, malformed."""


@dataclass(frozen=True)
class Origin:
    host: str
    port: int
    netloc: str

    @classmethod
    def parse(cls, url: str) -> "Origin":
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// URLs are supported, not {url!r}")
        return cls(parts.hostname, parts.port or 80, parts.netloc)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Connection:
    """One keep-alive connection; one request at a time (callers hold `lock` or own it)."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.lock = asyncio.Lock()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = self._reader, self._writer
        if reader is not None and writer is not None and not writer.is_closing():
            return reader, writer
        opened = await asyncio.wait_for(
            asyncio.open_connection(self.origin.host, self.origin.port, limit=STREAM_LIMIT_BYTES),
            CONNECT_TIMEOUT_S,
        )
        self._reader, self._writer = opened
        return opened

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        """Sends and reads one exchange; retries once on a fresh connection if a reused one
        turns out closed before any response byte (the server may drop idle connections)."""
        for attempt in (0, 1):
            reused = self._writer is not None and not self._writer.is_closing()
            try:
                return await self._exchange(method, path, body, headers)
            except (OSError, asyncio.IncompleteReadError, HttpError) as exc:
                self.close()
                if attempt or not reused:
                    raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    async def _exchange(
        self, method: str, path: str, body: bytes, headers: dict[str, str] | None
    ) -> Response:
        reader, writer = await self._open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.origin.netloc}"]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        if headers:
            lines.extend(f"{name}: {value}" for name, value in headers.items())
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HttpError(f"bad status line {status_line[:60]!r}") from exc
        response_headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            payload = b""
        elif "content-length" in response_headers:
            payload = await reader.readexactly(int(response_headers["content-length"]))
        elif response_headers.get("transfer-encoding", "").lower() == "chunked":
            payload = await _read_chunked(reader)
        else:
            payload = await reader.read()
            self.close()
        if response_headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, response_headers, payload)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            # Trailers, if any, end with an empty line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class Client:
    """A few keep-alive connections to one origin, for JSON API calls made concurrently."""

    def __init__(self, base_url: str, connections: int = 4, timeout_s: float = 30.0) -> None:
        self.origin = Origin.parse(base_url)
        self._all = [Connection(self.origin) for _ in range(connections)]
        self._idle: asyncio.Queue[Connection] = asyncio.Queue()
        for connection in self._all:
            self._idle.put_nowait(connection)
        self.timeout_s = timeout_s

    async def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        token: str | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Response:
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        connection = await self._idle.get()
        try:
            return await asyncio.wait_for(
                connection.request(method, path, body, all_headers), self.timeout_s
            )
        except TimeoutError:
            connection.close()
            raise
        finally:
            self._idle.put_nowait(connection)

    def close(self) -> None:
        for connection in self._all:
            connection.close()


class _ResponseReader(asyncio.Protocol):
    """Parses the responses of one connection as bytes arrive, without stream objects."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self._buffer = bytearray()
        self._head: tuple[int, dict[str, str]] | None = None
        self._length = -1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            # Only the three headers that frame the response are read: a header dict per
            # response was a third of this client's CPU.
            head = bytes(self._buffer[: end + 2]).lower()
            del self._buffer[: end + 4]
            try:
                status = int(head[9:12])
            except ValueError:
                self._fail(HttpError(f"bad status line {head[:60]!r}"))
                return
            headers: dict[str, str] = {}
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                self._length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
            elif b"\r\ntransfer-encoding: chunked" in head:
                self._fail(HttpError("chunked responses are not supported here"))
                return
            else:
                self._length = -1  # until the server closes
            if b"\r\nconnection: close" in head:
                headers["connection"] = "close"
            self._head = (status, headers)
        if self._length >= 0 and len(self._buffer) >= self._length:
            body = bytes(self._buffer[: self._length])
            del self._buffer[: self._length]
            self._finish(body)

    def _finish(self, body: bytes) -> None:
        assert self._head is not None
        status, headers = self._head
        self._head = None
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(status, headers, body))
        if headers.get("connection", "").lower() == "close" and self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._head is not None and self._length < 0:
            self._finish(bytes(self._buffer))
        else:
            self._fail(HttpError(f"connection closed ({exc or 'by the server'})"))


class FastConnection:
    """A GET-only keep-alive connection on a bare asyncio Protocol, for the HLS players' tens
    of thousands of requests a second: cheaper than `Connection`, and its responses carry
    only the status and body (headers: at most `connection`)."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self._reader: _ResponseReader | None = None
        self._host = f"Host: {origin.netloc}\r\n\r\n"
        self._loop = asyncio.get_running_loop()
        self.sent_at: float | None = None
        """When the request in flight left (loop time), for a caller's timeout sweep."""

    async def _open(self) -> _ResponseReader:
        loop = asyncio.get_running_loop()
        try:
            _, reader = await asyncio.wait_for(
                loop.create_connection(_ResponseReader, self.origin.host, self.origin.port),
                CONNECT_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as exc:
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        self._reader = reader
        return reader

    async def get(self, path: str) -> Response:
        loop = self._loop
        for attempt in (0, 1):
            reused = self._reader is not None and not self._reader.closed
            reader = self._reader if reused and self._reader else await self._open()
            assert reader.transport is not None
            waiter: asyncio.Future[Response] = loop.create_future()
            reader.waiter = waiter
            reader.transport.write(f"GET {path} HTTP/1.1\r\n{self._host}".encode())
            self.sent_at = loop.time()
            try:
                return await waiter
            except HttpError:
                if attempt or not reused:
                    raise
            finally:
                self.sent_at = None
        raise AssertionError("unreachable")

    def abort(self) -> None:
        """Gives up on the request in flight: it fails with HttpError."""
        if self._reader is not None and self._reader.transport is not None:
            self._reader.transport.abort()

    def close(self) -> None:
        if self._reader is not None and self._reader.transport is not None:
            self._reader.transport.close()
        self._reader = None
