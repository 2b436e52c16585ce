"""Thousands of simulated HLS players in one process, fetching at the real pace.

Each player fetches the media playlist once per target duration (its phase spread evenly
over the deployment's players), starts three segments behind the live edge as players do,
then fetches every new segment once, one at a time, in order. A player's buffer runs down
in real time: a segment that arrives after the buffer ran dry is a stall (a real player
would have stopped). Requests go through a few keep-alive connections shared by all
players of the process, so the load tester's own cost per request stays small.

```
 scheduler (one task): heap of (due, player) ──> request queue ──> N connection tasks
                                                                       │
 player.on_playlist / on_segment  <── response, latency, status ───────┘
```
"""

import asyncio
import heapq
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from townhall.loadtest.http import Connection, HttpError, Origin
from townhall.loadtest.stats import Histogram

DEFAULT_TARGET_DURATION_S = 1.0
"""src/townhall/media/hls.py SEGMENT_S, until the playlist says otherwise."""
LIVE_EDGE_SEGMENTS = 3
"""Players start this many segments behind the end of a live playlist (RFC 8216 6.3.3)."""
SCHEDULER_TICK_S = 0.005
PARSED_PLAYLISTS_KEPT = 16


@dataclass(frozen=True)
class Playlist:
    target_duration_s: float
    segments: tuple[tuple[str, float], ...]
    """(file name, duration) in order, from the first the playlist still lists."""
    first_sequence: int
    ended: bool


def parse_playlist(body: bytes) -> Playlist:
    target = DEFAULT_TARGET_DURATION_S
    sequence = 0
    ended = False
    segments: list[tuple[str, float]] = []
    duration = target
    for raw in body.decode(errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = float(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif line and not line.startswith("#"):
            segments.append((line.rsplit("/", 1)[-1], duration))
    return Playlist(target, tuple(segments), sequence, ended)


class Player:
    """One simulated listener's state; no task of its own."""

    __slots__ = (
        "buffer_end",
        "busy",
        "first_segment_at",
        "next_sequence",
        "queue",
        "stall_s",
        "stalls",
        "started_at",
    )

    def __init__(self) -> None:
        self.started_at = 0.0
        self.first_segment_at: float | None = None
        self.next_sequence: int | None = None
        """Sequence number of the next segment this player has not asked for yet."""
        self.queue: list[tuple[str, float]] = []
        self.busy = False
        self.buffer_end = 0.0
        self.stalls = 0
        self.stall_s = 0.0


@dataclass
class HlsStats:
    playlist_fetches: int = 0
    segment_fetches: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    playlist_ms: Histogram = field(default_factory=Histogram)
    segment_ms: Histogram = field(default_factory=Histogram)
    client_lag_ms: Histogram = field(default_factory=Histogram)
    """How late a request left compared with its player's schedule: the load tester's own lag."""
    join_ms: list[float] = field(default_factory=list)
    per_segment: Counter[str] = field(default_factory=Counter)
    first_fetch_at: dict[str, float] = field(default_factory=dict)


class HlsCrowd:
    """`count` players of one process; their phases are `first_index..` out of `total`."""

    def __init__(
        self,
        base_url: str,
        playlist_path: str,
        count: int,
        first_index: int,
        total: int,
        connections: int,
    ) -> None:
        self.origin = Origin.parse(base_url)
        self.playlist_path = playlist_path
        self.directory = playlist_path.rsplit("/", 1)[0] + "/"
        self.players = [Player() for _ in range(count)]
        self.first_index = first_index
        self.total = max(total, 1)
        self.connection_count = max(1, min(connections, count))
        self.target_duration_s = DEFAULT_TARGET_DURATION_S
        self.stats = HlsStats()
        self._requests: asyncio.Queue[tuple[Player, str | None, float, float]] = asyncio.Queue()
        """(player, segment name or None for the playlist, segment duration, due time)."""
        self._parsed: dict[bytes, Playlist] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._connections: list[Connection] = []

    @property
    def playing(self) -> int:
        return sum(1 for player in self.players if player.first_segment_at is not None)

    @property
    def stalls(self) -> int:
        return sum(player.stalls for player in self.players)

    def start(self) -> None:
        if not self.players:
            return
        self._tasks.append(asyncio.create_task(self._schedule()))
        for _ in range(self.connection_count):
            connection = Connection(self.origin)
            self._connections.append(connection)
            self._tasks.append(asyncio.create_task(self._fetch(connection)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in self._connections:
            connection.close()

    async def _schedule(self) -> None:
        """Puts each player's playlist request in the queue when it is due, forever."""
        # The pace is the playlist's target duration: read it once before any player starts.
        probe = Connection(self.origin)
        try:
            response = await probe.request("GET", self.playlist_path)
            if response.status == 200:
                self._parse(response.body)
        except HttpError:
            pass  # the players will count the error
        finally:
            probe.close()
        start = time.monotonic()
        heap: list[tuple[float, int]] = []
        for i, player in enumerate(self.players):
            phase = (self.first_index + i) / self.total * self.target_duration_s
            player.started_at = start + phase
            heap.append((start + phase, i))
        heapq.heapify(heap)
        put = self._requests.put_nowait
        while True:
            now = time.monotonic()
            while heap and heap[0][0] <= now:
                due, i = heapq.heappop(heap)
                put((self.players[i], None, 0.0, due))
                heapq.heappush(heap, (due + self.target_duration_s, i))
            await asyncio.sleep(SCHEDULER_TICK_S)

    async def _fetch(self, connection: Connection) -> None:
        stats = self.stats
        while True:
            player, segment, duration, due = await self._requests.get()
            sent = time.monotonic()
            stats.client_lag_ms.add((sent - due) * 1000)
            path = self.playlist_path if segment is None else self.directory + segment
            try:
                response = await connection.request("GET", path)
            except HttpError as exc:
                stats.errors[f"{'playlist' if segment is None else 'segment'}: {exc}"[:100]] += 1
                if segment is not None:
                    player.busy = False
                    self._next_segment(player)
                continue
            done = time.monotonic()
            if segment is None:
                stats.playlist_fetches += 1
                stats.playlist_ms.add((done - sent) * 1000)
                if response.status == 200:
                    self._on_playlist(player, response.body)
                else:
                    stats.errors[f"playlist: HTTP {response.status}"] += 1
            else:
                stats.segment_fetches += 1
                stats.segment_ms.add((done - sent) * 1000)
                stats.per_segment[segment] += 1
                stats.first_fetch_at.setdefault(segment, sent)
                player.busy = False
                if response.status == 200:
                    self._on_segment(player, done, duration)
                else:
                    stats.errors[f"segment: HTTP {response.status}"] += 1
                self._next_segment(player)

    def _parse(self, body: bytes) -> Playlist:
        # Every player of a process gets the same few playlist versions: parse each once.
        parsed = self._parsed.get(body)
        if parsed is None:
            if len(self._parsed) >= PARSED_PLAYLISTS_KEPT:
                self._parsed.clear()
            parsed = self._parsed[body] = parse_playlist(body)
            self.target_duration_s = parsed.target_duration_s
        return parsed

    def _on_playlist(self, player: Player, body: bytes) -> None:
        playlist = self._parse(body)
        last = playlist.first_sequence + len(playlist.segments)
        if player.next_sequence is None:
            player.next_sequence = max(playlist.first_sequence, last - LIVE_EDGE_SEGMENTS)
        start = max(player.next_sequence, playlist.first_sequence)
        for sequence in range(start, last):
            player.queue.append(playlist.segments[sequence - playlist.first_sequence])
        player.next_sequence = max(player.next_sequence, last)
        self._next_segment(player)

    def _next_segment(self, player: Player) -> None:
        if player.busy or not player.queue:
            return
        name, duration = player.queue.pop(0)
        player.busy = True
        self._requests.put_nowait((player, name, duration, time.monotonic()))

    def _on_segment(self, player: Player, arrived: float, duration: float) -> None:
        """Plays the segment into the buffer; arriving after the buffer ran dry is a stall."""
        if player.first_segment_at is None:
            player.first_segment_at = arrived
            self.stats.join_ms.append((arrived - player.started_at) * 1000)
            player.buffer_end = arrived
        elif arrived > player.buffer_end:
            player.stalls += 1
            player.stall_s += arrived - player.buffer_end
            player.buffer_end = arrived
        player.buffer_end += duration

    def result(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "players": len(self.players),
            "playing": self.playing,
            "playlist_fetches": stats.playlist_fetches,
            "segment_fetches": stats.segment_fetches,
            "errors": dict(stats.errors),
            "stalls": self.stalls,
            "stall_s": sum(player.stall_s for player in self.players),
            "join_ms": stats.join_ms,
            "playlist_ms": stats.playlist_ms.to_json(),
            "segment_ms": stats.segment_ms.to_json(),
            "client_lag_ms": stats.client_lag_ms.to_json(),
            "per_segment": dict(stats.per_segment),
            "first_fetch_at": stats.first_fetch_at,
        }
