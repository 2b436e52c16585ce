"""The HLS writer alone, fed minutes of audio as fast as it takes them: memory per minute.

The soak's server grew about 0.8 MB a round whatever the listeners did; this isolates the
part that grows with the room's age: FFmpeg's HLS muxer keeps memory for every segment its
playlist lists (bench/results/soak_memory.md).

    .venv/bin/python bench/audio/hls_memory.py --minutes 5               # as a live room
    .venv/bin/python bench/audio/hls_memory.py --minutes 5 --record      # lists every segment
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np

from bench.audio.memprobe import malloc_figures, rss_mb
from townhall.media.hls import QUEUE_FRAMES, HlsWriter
from townhall.media.mixer import FRAME_SAMPLES, SAMPLE_RATE_HZ

FRAMES_PER_MINUTE = 60 * SAMPLE_RATE_HZ // FRAME_SAMPLES
BACKLOG_FRAMES = QUEUE_FRAMES // 2
"""Pushes wait while this many frames are queued, so none is dropped."""


def wait_below(writer: HlsWriter, frames: int) -> None:
    while writer._queue.qsize() > frames:
        time.sleep(0.005)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=int, default=5, help="minutes of audio (5)")
    ap.add_argument("--record", action="store_true", help="as a recorded room")
    a = ap.parse_args()
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    writer = HlsWriter(Path(tempfile.mkdtemp(prefix="hls-memory-")) / "1", record=a.record)
    t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE_HZ
    tone = (3000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    print("| minutes of audio | RSS MB | malloc in use MB |")
    print("|---|---|---|")
    for minute in range(a.minutes + 1):
        for _ in range(FRAMES_PER_MINUTE if minute else 0):
            wait_below(writer, BACKLOG_FRAMES)
            writer.push(tone)
        wait_below(writer, 0)
        time.sleep(0.1)  # the last frame taken is muxed
        in_use = malloc_figures(libc)["malloc_in_use_mb"]
        print(f"| {minute} | {rss_mb():.1f} | {in_use} |", flush=True)
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
