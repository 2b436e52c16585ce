"""One publishing WebRTC peer: espeak-ng speech with a 1 kHz click every 2 s.

Appends one JSON line per click to --clicks: {"t": <monotonic mouth time>, "n": k}.

    .venv/bin/python bench/audio/speaker.py --target whip \
        --whip-url http://127.0.0.1:8000/api/v1/spaces/<id>/whip --token <host token> \
        --clicks /tmp/clicks.jsonl

From ``../shared/bench/janus/speaker.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.audio.common import (
    CLICK_PERIOD_S,
    ClickTrack,
    force_loopback_ice,
    log,
    make_signal,
    new_pc,
)
from bench.audio.targets import add_target_args, make_target


async def run(a: argparse.Namespace) -> None:
    force_loopback_ice()
    pcm, clicks = make_signal(a.seconds, a.wav, a.click_period)
    Path(a.clicks).parent.mkdir(parents=True, exist_ok=True)
    with open(a.clicks, "a", buffering=1) as out:  # noqa: ASYNC230 (once, at start)

        def on_click(t: float, n: int) -> None:
            out.write(json.dumps({"t": t, "n": n}) + "\n")

        track = ClickTrack(pcm, clicks, on_click)
        target = make_target(a, "speaker")
        await target.start()
        pc = new_pc()
        pc.addTransceiver(track, direction="sendonly")
        done = asyncio.Event()

        @pc.on("connectionstatechange")
        def on_state() -> None:
            log(f"speaker: connection {pc.connectionState}")
            if pc.connectionState in ("failed", "closed"):
                done.set()

        t0 = time.monotonic()
        await target.connect(pc, "speaker")
        log(f"speaker: signalled in {time.monotonic() - t0:.3f} s")
        loop = asyncio.get_running_loop()
        for s in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(s, done.set)
        if a.duration:
            loop.call_later(a.duration, done.set)
        await done.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(target.disconnect(pc), 5)
        await pc.close()
        await target.close()


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_target_args(ap)
    ap.add_argument("--clicks", default="clicks.jsonl", help="where click mouth times go")
    ap.add_argument("--wav", help="also write the test signal to this WAV file")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of the looped signal")
    ap.add_argument("--duration", type=float, default=0, help="seconds; 0 = until SIGTERM")
    ap.add_argument(
        "--click-period",
        type=float,
        default=CLICK_PERIOD_S,
        help="seconds between clicks (longer for HLS, whose latency is seconds)",
    )
    return ap


def main() -> None:
    asyncio.run(run(parser().parse_args()))


if __name__ == "__main__":
    main()
