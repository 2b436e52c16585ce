"""Simulated HLS players: the real pace, each new segment once, stalls when segments are late."""

import asyncio
import time
from collections import Counter
from pathlib import Path

from townhall.loadtest.hls_listeners import HlsCrowd, parse_playlist
from townhall.loadtest.origin_log import count_since, sizes

SEGMENT_S = 0.2


class FakeOrigin:
    """A live playlist growing by one segment every SEGMENT_S, over HTTP/1.1 keep-alive."""

    def __init__(self, first_segments: int, segment_delay_s: float = 0.0) -> None:
        self.started = time.monotonic()
        self.first_segments = first_segments
        self.segment_delay_s = segment_delay_s
        self.requests: Counter[str] = Counter()

    def segments(self) -> int:
        return self.first_segments + int((time.monotonic() - self.started) / SEGMENT_S)

    def playlist(self) -> bytes:
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{SEGMENT_S}"]
        lines.append("#EXT-X-MEDIA-SEQUENCE:0")
        for i in range(self.segments()):
            lines += [f"#EXTINF:{SEGMENT_S},", f"seg1-{i:05d}.ts"]
        return ("\n".join(lines) + "\n").encode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                name = path.rsplit("/", 1)[-1]
                self.requests[name] = self.requests[name] + 1
                if name.endswith(".ts"):
                    await asyncio.sleep(self.segment_delay_s)
                    body = b"x" * 100
                else:
                    body = self.playlist()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def run_players(origin: FakeOrigin, players: int, seconds: float) -> HlsCrowd:
    server = await asyncio.start_server(origin.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    crowd = HlsCrowd(f"http://127.0.0.1:{port}", "/spaces/1/hls/index.m3u8", players, 0, players, 2)
    crowd.start()
    await asyncio.sleep(seconds)
    await crowd.stop()
    await asyncio.sleep(0.1)  # the origin's handlers see the connections close
    server.close()
    await server.wait_closed()
    return crowd


def test_players_start_three_segments_behind_the_edge_and_fetch_each_new_segment_once() -> None:
    origin = FakeOrigin(first_segments=10)
    crowd = asyncio.run(run_players(origin, players=4, seconds=8 * SEGMENT_S))
    result = crowd.result()
    assert result["playing"] == 4
    # Phases spread over one segment: the playlist may grow by one before the last player
    # starts, so the first segment fetched is the 8th or the 9th of 10 or 11.
    assert "seg1-00006.ts" not in origin.requests, "older than the last three: never fetched"
    assert origin.requests["seg1-00007.ts"] <= 4
    segments = sorted(name for name in origin.requests if name.endswith(".ts"))
    assert len(segments) >= 8, segments
    for name in segments[1:-1]:
        assert origin.requests[name] == 4, (name, origin.requests)
    # One playlist a target duration per player, not more.
    assert 4 * 6 <= origin.requests["index.m3u8"] <= 4 * 10
    assert result["stalls"] == 0
    assert result["errors"] == {}


def test_segments_arriving_after_the_buffer_ran_dry_are_stalls() -> None:
    origin = FakeOrigin(first_segments=1, segment_delay_s=SEGMENT_S * 1.5)
    crowd = asyncio.run(run_players(origin, players=2, seconds=10 * SEGMENT_S))
    assert crowd.result()["stalls"] >= 2


def test_the_playlist_parser_reads_target_duration_sequence_and_names() -> None:
    playlist = parse_playlist(
        b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:5\n"
        b"#EXTINF:1.002,\nseg9-00005.ts\n#EXTINF:0.98,\n/spaces/1/hls/seg9-00006.ts\n"
        b"#EXT-X-ENDLIST\n"
    )
    assert playlist.target_duration_s == 1.0
    assert playlist.first_sequence == 5
    assert playlist.segments == (("seg9-00005.ts", 1.002), ("seg9-00006.ts", 0.98))
    assert playlist.ended


def test_origin_logs_count_only_what_was_written_during_the_run(tmp_path: Path) -> None:
    uvicorn_log = tmp_path / "node1.log"
    nginx_log = tmp_path / "nginx.log"
    uvicorn_log.write_text(
        'INFO:     127.0.0.1:5 - "GET /spaces/1/hls/seg1-00001.ts HTTP/1.1" 200 OK\n'
    )
    offsets = sizes([str(uvicorn_log), str(nginx_log)])
    with uvicorn_log.open("a") as log:
        log.write('INFO:     127.0.0.1:5 - "GET /spaces/1/hls/seg1-00002.ts HTTP/1.1" 200 OK\n')
        log.write('INFO:     127.0.0.1:5 - "GET /spaces/1/hls/index.m3u8 HTTP/1.1" 200 OK\n')
        log.write('INFO:     127.0.0.1:5 - "GET /api/v1/me HTTP/1.1" 200 OK\n')
    nginx_log.write_text(
        '127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] "GET /spaces/1/hls/seg1-00002.ts?x=1 '
        'HTTP/1.1" 200 9000 "-" "curl"\n'
    )
    assert count_since(offsets) == Counter({"seg1-00002.ts": 2, "index.m3u8": 1})
