"""Where a py-spy profile's samples went: raw collapsed stacks -> shares by activity.

py-spy's raw format is one line per distinct stack: ``thread;frame;...;frame count`` (with
``--threads``), frames as ``function (file)`` (with ``--nolineno``). Each sample is put in
the first activity below whose test matches its stack, so the shares add up to 100%; the
order matters (RTCP, receiving and ICE also send UDP and run SRTP, so they come first).

    .venv/bin/python bench/audio/pyspy_summary.py pyspy-steady.txt
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def _has(*needles: str) -> Callable[[str], bool]:
    return lambda stack: any(n in stack for n in needles)


ACTIVITIES: Sequence[tuple[str, Callable[[str], bool]]] = (
    ("RTCP: sender reports out, receiver reports in", _has("_run_rtcp", "_handle_rtcp")),
    (
        "receive: UDP/DTLS/SRTP in (speaker audio, listeners' RTCP)",
        _has("datagram_received", "_handle_rtp_packet", "_recv_next", "unprotect"),
    ),
    (
        "ICE: connectivity checks, consent freshness",
        _has("query_consent", "check_start", "request_with_retry", "Connection.connect"),
    ),
    ("per-listener send: SRTP protect (pylibsrtp)", _has("pylibsrtp")),
    (
        "per-listener send: UDP send (aioice Connection.send -> transport.sendto)",
        _has("Connection.send", "send_data"),
    ),
    (
        "per-listener send: sender task wake-up, queue, packetize, RTP header + NTP time",
        _has(
            "RTCRtpSender._run_rtp",
            "_send_rtp",
            "_next_encoded_frame",
            "OpusEncoder.pack",
            "EncodedMixTrack.recv",
            "pack_header_extensions",
            "RtpPacket.serialize",
            "current_ntp_time",
            "datetime_to_ntp",
        ),
    ),
    ("mixer tick: mix, Opus encode once, offer to every listener queue", _has("LiveRoom._tick")),
    ("speaker ingest: Opus decode + resample", _has("decoder_worker", "pump_into_mixer")),
    ("HLS writer thread: AAC encode + mux", _has("HlsWriter._run")),
    (
        "signalling: HTTP, auth, grant, SDP, peer set-up",
        _has("starlette", "fastapi", "uvicorn/protocols", "setRemoteDescription", "sqlalchemy"),
    ),
    ("peer teardown", _has(".close (aiortc", "_close_session")),
)
OTHER = "other (event loop, tasks, GC, ...)"


def classify(stack: str) -> str:
    for label, test in ACTIVITIES:
        if test(stack):
            return label
    return OTHER


def summarize(lines: Sequence[str]) -> dict[str, Any]:
    total = 0
    threads: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in lines:
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = stack.split(";")
        total += count
        threads[frames[0].split("): ", 1)[-1]] += count  # "thread (tid): name" -> name
        activities[classify(stack)] += count
        leaf[frames[-1]] += count
        for f in set(frames[1:]):
            inclusive[f] += count

    def share(c: Counter[str], k: int) -> list[tuple[str, float]]:
        return [(name, round(100.0 * v / max(1, total), 1)) for name, v in c.most_common(k)]

    return {
        "samples": total,
        "threads": share(threads, 8),
        "buckets": share(activities, 20),
        "top_inclusive": share(inclusive, 40),
        "top_self": share(leaf, 25),
    }


def main() -> None:
    res = summarize(Path(sys.argv[1]).read_text().splitlines())
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
