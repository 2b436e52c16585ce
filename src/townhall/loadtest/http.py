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
from typing import Any
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
