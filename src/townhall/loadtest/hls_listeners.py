"""Thousands of simulated HLS players in one process, fetching at the real pace.

Each player fetches the media playlist once per target duration (its phase spread evenly
over the deployment's players), starts three segments behind the live edge as players do,
then fetches every new segment once, one at a time, in order. A player's buffer runs down
in real time: a segment that arrives after the buffer ran dry is a stall (a real player
would have stopped). Requests go through a few keep-alive connections shared by all
players of the process (a pool for playlists, a bigger one for segments), so the load
tester's own cost per request stays small. A request waits for a free connection: that
wait is the *queue wait* in the report, large when the pool is too small for the origin's
answer times.

```
 scheduler (one task): heap of (due, player) ──> playlist queue ──> N/4 connection tasks
 player.on_playlist: new segments, one at a time ──> segment queue ──> N connection tasks
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

from townhall.loadtest.http import FastConnection, HttpError, Origin
from townhall.loadtest.stats import Histogram

DEFAULT_TARGET_DURATION_S = 1.0
"""src/townhall/media/hls.py SEGMENT_S, until the playlist says otherwise."""
LIVE_EDGE_SEGMENTS = 3
"""Players start this many segments behind the end of a live playlist (RFC 8216 6.3.3)."""
SCHEDULER_TICK_S = 0.005
REQUEST_TIMEOUT_S = 10.0
PLAYLIST_SHARE = 4
"""Playlists get a quarter as many connections as segments: they come from a cache that
never makes them wait, while a new segment may wait for the cache's one origin request
(nginx's proxy_cache_lock rechecks every 500 ms)."""
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


Requests = asyncio.Queue[tuple["Player", str | None, float, float]]
"""(player, segment name or None for the playlist, segment duration, due time)."""


class Player:
    """One simulated listener's state; no task of its own."""

    __slots__ = (
        "buffer_end",
        "busy",
        "first_segment_at",
        "index",
        "next_sequence",
        "queue",
        "stall_s",
        "stalls",
        "started_at",
    )

    def __init__(self, index: int) -> None:
        self.index = index
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
    queue_wait_ms: Histogram = field(default_factory=Histogram)
    """From when a player wanted a file to when a connection took the request."""
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
        self.players = [Player(i) for i in range(count)]
        self.first_index = first_index
        self.total = max(total, 1)
        self.segment_connections = max(1, min(connections, count))
        self.playlist_connections = max(1, self.segment_connections // PLAYLIST_SHARE)
        self.target_duration_s = DEFAULT_TARGET_DURATION_S
        self.stats = HlsStats()
        self._playlists: Requests = asyncio.Queue()
        self._segments: Requests = asyncio.Queue()
        self._parsed: dict[bytes, Playlist] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._connections: list[FastConnection] = []
        self._due: list[tuple[float, int]] = []
        """Heap of (when, player index): the next playlist reload of each player."""

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
        for queue, count in (
            (self._playlists, self.playlist_connections),
            (self._segments, self.segment_connections),
        ):
            for _ in range(count):
                connection = FastConnection(self.origin)
                self._connections.append(connection)
                self._tasks.append(asyncio.create_task(self._fetch(connection, queue)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in self._connections:
            connection.close()

    async def _schedule(self) -> None:
        """Puts each player's playlist request in the queue when it is due, forever."""
        # The pace is the playlist's target duration: read it once before any player starts.
        probe = FastConnection(self.origin)
        try:
            response = await probe.get(self.playlist_path)
            if response.status == 200:
                self._parse(response.body)
        except HttpError:
            pass  # the players will count the error
        finally:
            probe.close()
        start = time.monotonic()
        heap = self._due
        for i, player in enumerate(self.players):
            phase = (self.first_index + i) / self.total * self.target_duration_s
            player.started_at = start + phase
            heap.append((start + phase, i))
        heapq.heapify(heap)
        put = self._playlists.put_nowait
        next_sweep = start + REQUEST_TIMEOUT_S
        while True:
            now = time.monotonic()
            if now > next_sweep:
                self._abort_stuck_requests()
                next_sweep = now + 1.0
            while heap and heap[0][0] <= now:
                due, i = heapq.heappop(heap)
                put((self.players[i], None, 0.0, due))
            await asyncio.sleep(SCHEDULER_TICK_S)

    def _abort_stuck_requests(self) -> None:
        """A request unanswered for REQUEST_TIMEOUT_S fails (counted), freeing its connection."""
        limit = asyncio.get_running_loop().time() - REQUEST_TIMEOUT_S
        for connection in self._connections:
            if connection.sent_at is not None and connection.sent_at < limit:
                connection.abort()

    def _reload_after(self, index: int, due: float, changed: bool) -> None:
        """RFC 8216 6.3.4: the next reload one target duration later, or half of one when
        the playlist had not changed."""
        wait = self.target_duration_s if changed else self.target_duration_s / 2
        heapq.heappush(self._due, (due + wait, index))

    async def _fetch(self, connection: FastConnection, queue: Requests) -> None:
        stats = self.stats
        while True:
            player, segment, duration, due = await queue.get()
            sent = time.monotonic()
            stats.queue_wait_ms.add((sent - due) * 1000)
            path = self.playlist_path if segment is None else self.directory + segment
            try:
                response = await connection.get(path)
            except HttpError as exc:
                stats.errors[f"{'playlist' if segment is None else 'segment'}: {exc}"[:100]] += 1
                if segment is None:
                    self._reload_after(player.index, due, changed=True)
                else:
                    player.busy = False
                    self._next_segment(player)
                continue
            done = time.monotonic()
            if segment is None:
                stats.playlist_fetches += 1
                stats.playlist_ms.add((done - sent) * 1000)
                changed: bool | None = True
                if response.status == 200:
                    changed = self._on_playlist(player, response.body)
                else:
                    stats.errors[f"playlist: HTTP {response.status}"] += 1
                if changed is not None:
                    self._reload_after(player.index, due, changed)
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

    def _on_playlist(self, player: Player, body: bytes) -> bool | None:
        """Queues the new segments; whether there were any, None once the playlist ended."""
        playlist = self._parse(body)
        last = playlist.first_sequence + len(playlist.segments)
        if player.next_sequence is None:
            player.next_sequence = max(playlist.first_sequence, last - LIVE_EDGE_SEGMENTS)
        start = max(player.next_sequence, playlist.first_sequence)
        for sequence in range(start, last):
            player.queue.append(playlist.segments[sequence - playlist.first_sequence])
        changed = last > player.next_sequence
        player.next_sequence = max(player.next_sequence, last)
        self._next_segment(player)
        return None if playlist.ended else changed

    def _next_segment(self, player: Player) -> None:
        if player.busy or not player.queue:
            return
        name, duration = player.queue.pop(0)
        player.busy = True
        self._segments.put_nowait((player, name, duration, time.monotonic()))

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
            "queue_wait_ms": stats.queue_wait_ms.to_json(),
            "per_segment": dict(stats.per_segment),
            "first_fetch_at": stats.first_fetch_at,
        }
