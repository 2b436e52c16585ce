"""HLS glass-to-glass: the speaker's click -> the same click inside a fetched HLS segment.

Polls the live playlist (GET /spaces/{id}/hls/index.m3u8, every --poll seconds), fetches each
new segment as soon as it is listed, decodes it (PyAV), finds the 1 kHz click markers and
matches each one to the speaker's mouth time (from speaker.py's --clicks file).

Each click found is matched to the latest mouth time before its segment was downloaded;
that is unambiguous while the latency stays under the click period, so run the speaker with
a long one (speaker.py --click-period 6; the sweep does). Glass-to-glass is the moment the
segment holding the click was fully downloaded minus the mouth time: what an ideal player
polling this fast could play at the earliest. Real players also buffer (hls.js starts about
three target durations behind the live edge).

#EXT-X-PROGRAM-DATE-TIME is reported only as a diagnostic: ffmpeg derives it from the first
segment's wall time plus the durations of the audio written since, so every 20 ms tick the
mixer skips (an event loop late by more than 100 ms) moves it further from the wall clock.

    .venv/bin/python bench/audio/hls_latency.py --base-url http://127.0.0.1:8000 \
        --space-id <id> --clicks clicks.jsonl --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import io
import json
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import av
import httpx

from bench.audio.common import SR, ClickDetector, frame_to_mono_float, load_clicks, log, pct

PDT_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


@dataclass
class Segment:
    uri: str
    pdt: float | None
    """#EXT-X-PROGRAM-DATE-TIME as a Unix time (wall clock), if the playlist has it."""
    duration: float


def parse_playlist(text: str) -> list[Segment]:
    out: list[Segment] = []
    pdt: float | None = None
    duration = 0.0
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = datetime.strptime(line.split(":", 1)[1], PDT_FORMAT).timestamp()
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",")[0])
        elif line and not line.startswith("#"):
            out.append(Segment(line, pdt, duration))
            pdt = None
    return out


def click_offsets_s(data: bytes) -> list[float]:
    """Seconds from the segment's first decoded sample to each click onset in it."""
    detector = ClickDetector()
    offsets: list[float] = []
    with av.open(io.BytesIO(data), mode="r", format="mpegts") as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            start = detector.n
            for off in detector.feed(frame_to_mono_float(frame)):
                offsets.append((start + off) / SR)
    return offsets


def wall_minus_monotonic() -> float:
    return time.time() - time.monotonic()


async def measure(a: argparse.Namespace) -> dict[str, Any]:
    base = a.base_url.rstrip("/")
    playlist_url = f"{base}/spaces/{a.space_id}/hls/index.m3u8"
    seen: set[str] = set()
    samples: list[dict[str, float]] = []
    fetch_ms: list[float] = []
    errors: list[str] = []
    to_wall = wall_minus_monotonic()
    first = True
    polls = 0
    t_end = time.monotonic() + a.duration
    async with httpx.AsyncClient(timeout=10.0) as http:
        while time.monotonic() < t_end:
            t_poll = time.monotonic()
            polls += 1
            try:
                r = await http.get(playlist_url)
                r.raise_for_status()
                segments = parse_playlist(r.text)
            except httpx.HTTPError as exc:
                errors.append(repr(exc)[:200])
                await asyncio.sleep(a.poll)
                continue
            if first:  # only segments written from now on: their download time means something
                seen.update(s.uri for s in segments)
                first = False
            for seg in segments:
                if seg.uri in seen:
                    continue
                seen.add(seg.uri)
                t0 = time.monotonic()
                resp = await http.get(f"{base}/spaces/{a.space_id}/hls/{seg.uri}")
                t_have = time.monotonic()
                fetch_ms.append((t_have - t0) * 1000)
                if resp.status_code != 200 or seg.pdt is None:
                    errors.append(f"{seg.uri}: HTTP {resp.status_code}, pdt {seg.pdt}")
                    continue
                clicks = load_clicks(a.clicks)
                for off in click_offsets_s(resp.content):
                    i = bisect.bisect_right(clicks, t_have) - 1
                    if i < 0 or t_have - clicks[i] >= a.click_period:
                        continue
                    samples.append(
                        {
                            "g2g_ms": (t_have - clicks[i]) * 1000,
                            "offset_in_segment_s": off,
                            "pdt_skew_ms": (seg.pdt + off - to_wall - clicks[i]) * 1000,
                        }
                    )
                log(f"hls: {seg.uri} ({len(resp.content)} B), {len(samples)} clicks so far")
            await asyncio.sleep(max(0.0, a.poll - (time.monotonic() - t_poll)))
    g2g = [s["g2g_ms"] for s in samples]
    skew = [s["pdt_skew_ms"] for s in samples]
    return {
        "playlist": playlist_url,
        "poll_s": a.poll,
        "duration_s": a.duration,
        "polls": polls,
        "segments_fetched": len(fetch_ms),
        "clicks_matched": len(samples),
        "g2g_ms_p50": pct(g2g, 50),
        "g2g_ms_p99": pct(g2g, 99),
        "g2g_ms_min": min(g2g) if g2g else None,
        "g2g_ms_max": max(g2g) if g2g else None,
        "pdt_skew_ms_first": skew[0] if skew else None,
        "pdt_skew_ms_last": skew[-1] if skew else None,
        "segment_fetch_ms_p50": statistics.median(fetch_ms) if fetch_ms else None,
        "errors": errors[:5],
        "samples": samples,
    }


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--base-url", required=True, help="server root, e.g. http://127.0.0.1:8000")
    ap.add_argument("--space-id", required=True)
    ap.add_argument("--clicks", required=True, help="the speaker's click file")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds to measure")
    ap.add_argument("--poll", type=float, default=0.1, help="playlist poll interval, seconds")
    ap.add_argument(
        "--click-period",
        type=float,
        default=6.0,
        help="the speaker's click period (speaker.py --click-period); the most a match may take",
    )
    ap.add_argument("--json-out")
    return ap


def main() -> None:
    a = parser().parse_args()
    res = asyncio.run(measure(a))
    if a.json_out:
        Path(a.json_out).write_text(json.dumps(res) + "\n")
    print(json.dumps({k: v for k, v in res.items() if k != "samples"}), flush=True)


if __name__ == "__main__":
    main()
