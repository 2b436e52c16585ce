"""Server CPU per WebRTC join: listeners join one at a time, hear a packet and hang up.

The sweep's join times mix two things: how much work a join is for the server, and how
long it queues behind other joins and the fan-out. This measures the first on its own: a
fresh `townhall serve`, one listener kept connected (so the room stays open and ticking),
a few seconds of that baseline, then K sequential WHEP joins (offer POSTed, answer, ICE +
DTLS, first RTP packet, DELETE, peer closed). Server CPU over the joins minus the baseline
rate, divided by K, is the CPU one join-and-leave costs; the main thread's share is what
the event loop spent (where joins queue behind each other).

    .venv/bin/python bench/audio/join_cost.py --joins 60
    .venv/bin/python bench/audio/join_cost.py --joins 60 --env TOWNHALL_RTC_HOST_ADDRESSES=auto
    .venv/bin/python bench/audio/join_cost.py --joins 1000   # memory, files, threads stay flat

It also samples the server's RSS, open files and threads every `--sample-every` joins
(after the server's side of the last close), so 1,000 joins and leaves show whether
anything a session holds outlives it.

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiortc import RTCPeerConnection

from bench.audio.common import (
    RxStats,
    force_loopback_ice,
    install_raw_counter,
    log,
    machine_busy_pct,
    new_pc,
    pct,
    proc_cpu_s,
    proc_fds,
    proc_rss_mb,
    proc_threads,
    rounded,
    sys_cpu,
)
from bench.audio.servers import townhall
from bench.audio.targets import WhipWhep


async def _join(target: WhipWhep, limit_s: float) -> tuple[RTCPeerConnection, float, float]:
    """One listener up to its first RTP packet: (peer, offer -> answer ms, offer -> first ms)."""
    pc = new_pc()
    st = RxStats()
    t_offer = await target.connect(pc, "listener")
    t_answer = time.monotonic()
    deadline = t_offer + limit_s
    installed = False
    while st.first_t is None:
        if time.monotonic() > deadline:
            raise TimeoutError("no RTP packet")
        if not installed:
            installed = install_raw_counter(pc, st)
        await asyncio.sleep(0.002)
    return pc, (t_answer - t_offer) * 1000, (st.first_t - t_offer) * 1000


async def measure(
    base_url: str, space_id: str, tokens: list[str], a: argparse.Namespace, pid: int
) -> dict[str, Any]:
    force_loopback_ice()
    url = f"{base_url}/api/v1/spaces/{space_id}/whep"
    target = WhipWhep(None, url, listener_tokens=tokens)
    await target.start()
    anchor, _, _ = await _join(target, 20)
    for _ in range(a.warmup):
        pc, _, _ = await _join(target, 20)
        await target.disconnect(pc)
        await pc.close()
    await asyncio.sleep(1.0)

    t0, c0, m0 = time.monotonic(), proc_cpu_s(pid), proc_cpu_s(pid, pid)
    await asyncio.sleep(a.baseline)
    t1, c1, m1 = time.monotonic(), proc_cpu_s(pid), proc_cpu_s(pid, pid)
    base_rate, base_main_rate = (c1 - c0) / (t1 - t0), (m1 - m0) / (t1 - t0)

    answer_ms: list[float] = []
    first_ms: list[float] = []
    spy = None
    if a.pyspy:
        spy = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--format",
            "raw",
            "--nolineno",
            "--threads",
            "--gil",
            "--output",
            a.pyspy,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(1.0)
    sys0 = sys_cpu()
    t2, c2, m2 = time.monotonic(), proc_cpu_s(pid), proc_cpu_s(pid, pid)
    resources = [_resources(pid, 0)]
    for n in range(1, a.joins + 1):
        pc, answer, first = await _join(target, 20)
        answer_ms.append(answer)
        first_ms.append(first)
        await target.disconnect(pc)
        await pc.close()
        if n % a.sample_every == 0 or n == a.joins:
            await asyncio.sleep(0.5)  # the server's side of the last close
            resources.append(_resources(pid, n))
            log(f"  {n}/{a.joins} joined and left: {resources[-1]}")
    t3, c3, m3 = time.monotonic(), proc_cpu_s(pid), proc_cpu_s(pid, pid)
    busy = machine_busy_pct(sys0, sys_cpu())
    if spy is not None:
        spy.send_signal(2)
        await spy.wait()
    await target.disconnect(anchor)
    await anchor.close()
    await target.close()
    span = t3 - t2
    per_join = (c3 - c2 - base_rate * span) / a.joins * 1000
    per_join_main = (m3 - m2 - base_main_rate * span) / a.joins * 1000
    return {
        "joins": a.joins,
        "env": a.env,
        "server_cpu_ms_per_join": round(per_join, 2),
        "server_main_thread_cpu_ms_per_join": round(per_join_main, 2),
        "baseline_server_cpu_pct": round(100 * base_rate, 1),
        "answer_ms_p50": rounded(pct(answer_ms, 50)),
        "answer_ms_p99": rounded(pct(answer_ms, 99)),
        "first_packet_ms_p50": rounded(pct(first_ms, 50)),
        "first_packet_ms_p99": rounded(pct(first_ms, 99)),
        "span_s": round(span, 2),
        "server_resources": resources,
        # From the first sample after joins began: start-up caches have filled by then.
        "growth_after_the_first_sample": (
            {
                key: round(resources[-1][key] - resources[1][key], 1)
                for key in ("rss_mb", "fds", "threads")
            }
            if len(resources) > 2
            else {}
        ),
        "machine_busy_pct": round(busy, 1),
        "loadavg": os.getloadavg(),
    }


def _resources(pid: int, joins: int) -> dict[str, Any]:
    """What the server holds after `joins` listeners joined and left: should stay flat."""
    rss = proc_rss_mb(pid)
    return {
        "joins": joins,
        "rss_mb": round(rss, 1) if rss is not None else None,
        "fds": proc_fds(pid),
        "threads": proc_threads(pid),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--joins", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--baseline", type=float, default=5.0, help="seconds of baseline")
    ap.add_argument(
        "--sample-every", type=int, default=100, help="server RSS, files, threads every N joins"
    )
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    ap.add_argument("--pyspy", help="record the server with py-spy (raw) to this file")
    ap.add_argument("--work-dir", help="server data dir (default: a temporary one)")
    a = ap.parse_args()
    for item in a.env:
        name, _, value = item.partition("=")
        os.environ[name] = value
    work = Path(a.work_dir or tempfile.mkdtemp(prefix="join-cost-"))
    with townhall(work / "townhall") as server:
        space = server.setup_space(4)
        log(f"join cost: {a.joins} sequential joins on {server.base_url}")
        res = asyncio.run(
            measure(server.base_url, space.space_id, space.listener_tokens, a, server.pid)
        )
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
