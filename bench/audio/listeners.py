"""N WebRTC listeners in one process (real ICE + DTLS + SRTP, aiortc), measured over a window.

After the handshake each listener only counts RTP packets as they come off its socket (the
RTP header is not encrypted in SRTP, so no unprotect, no aiortc jitter buffer or decoding),
except the first --probes listeners, which go through aiortc's SRTP + RTP path, decode every
packet and timestamp the speaker's click markers for mouth-to-ear latency.

Over a steady-state --window: packets and loss per listener (RTP sequence gaps), join time
(offer POSTed -> first RTP packet), latency (probe click onset at packet arrival minus the
speaker's mouth time), the server's CPU / RSS / threads / open files (--server-pid), this
process's CPU and event-loop lag, the machine's busy time, kernel UDP receive-buffer drops.
Prints one JSON object on the last stdout line (and writes --json-out); progress on stderr.

    .venv/bin/python bench/audio/listeners.py --target whip -n 50 \
        --whep-url http://127.0.0.1:8000/api/v1/spaces/<id>/whep \
        --listener-tokens-file tokens.txt --server-pid <pid> --clicks clicks.jsonl

Several processes can share one window: give each the same --window-at (a time.monotonic()
value; CLOCK_MONOTONIC is system-wide) and add up their "raw" sections.

From ``../shared/bench/janus/listeners.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from bench.audio.common import (
    RxStats,
    cpu_pressure_s,
    force_loopback_ice,
    install_raw_counter,
    install_rx_hook,
    load_clicks,
    log,
    machine_busy_pct,
    new_pc,
    pc_local_ports,
    pct,
    proc_cpu_s,
    proc_fds,
    proc_rss_mb,
    proc_threads,
    rounded,
    sched_wait_s,
    sys_cpu,
    udp_errors,
    udp_rx_queues,
)
from bench.audio.targets import Target, add_target_args, make_target

NCPU = os.cpu_count() or 1
MAX_CLICK_DELAY_S = 1.9
"""A click heard later than this after the last mouth time is not matched (clicks are 2 s apart)."""


def match_latency(onsets: list[float], clicks: list[float], lo: float, hi: float) -> list[float]:
    """Milliseconds from each click's mouth time to its onset at a probe, for onsets in [lo, hi]."""
    out: list[float] = []
    for t in onsets:
        if not lo <= t <= hi:
            continue
        i = bisect.bisect_right(clicks, t) - 1
        if i >= 0 and 0 <= t - clicks[i] < MAX_CLICK_DELAY_S:
            out.append((t - clicks[i]) * 1000.0)
    return out


async def lag_monitor(samples: list[float], stop: asyncio.Event, period: float = 0.05) -> None:
    while not stop.is_set():
        t = time.monotonic()
        await asyncio.sleep(period)
        samples.append((time.monotonic() - t - period) * 1000.0)


class Listeners:
    def __init__(self, a: argparse.Namespace, target: Target) -> None:
        self.a = a
        self.target = target
        self.stats = [RxStats() for _ in range(a.n)]
        self.pcs: list[RTCPeerConnection | None] = [None] * a.n
        self.sem = asyncio.Semaphore(a.concurrency)

    async def join(self, i: int) -> None:
        st = self.stats[i]
        st.probe = i < self.a.probes
        st.t_sched = time.monotonic()
        pc = new_pc()
        self.pcs[i] = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            for t in pc.getTransceivers():
                if t.receiver.track is track:
                    install_rx_hook(t.receiver, st)

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "connected" and st.t_connected is None:
                st.t_connected = time.monotonic()

        async with self.sem:
            try:
                st.t_offer = await asyncio.wait_for(self.target.connect(pc, "listener"), 60)
                st.t_answer = time.monotonic()
            except Exception as exc:
                st.err = f"connect: {exc!r}"[:300]
                return
        if not st.probe and not self.a.full_receive and not install_raw_counter(pc, st):
            st.err = "cannot install the raw RTP counter (aiortc/aioice changed?)"

    async def ramp(self) -> float:
        """Open the listeners at --join-rate (open loop), then wait for media on all."""
        t0 = time.monotonic()
        tasks: list[asyncio.Task[None]] = []
        for i in range(self.a.n):
            due = t0 + i / self.a.join_rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(self.join(i)))
            if (i + 1) % 100 == 0:
                log(f"listeners: {i + 1}/{self.a.n} joining, {self._with_media()} with media")
        await asyncio.gather(*tasks)
        deadline = time.monotonic() + self.a.media_timeout
        while time.monotonic() < deadline and self._waiting():  # noqa: ASYNC110 (a poll)
            await asyncio.sleep(0.25)
        log(f"listeners: ramp done in {time.monotonic() - t0:.1f} s, {self._with_media()} media")
        return time.monotonic() - t0

    def _waiting(self) -> bool:
        return any(s.first_t is None and s.err is None for s in self.stats)

    def _with_media(self) -> int:
        return sum(1 for s in self.stats if s.first_t is not None)

    async def teardown(self) -> None:
        dsem = asyncio.Semaphore(20)

        async def bye(pc: RTCPeerConnection) -> None:
            async with dsem:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.target.disconnect(pc), 10)

        if self.a.target.startswith("janus"):
            await self.target.close()  # destroying the session hangs up all its handles
        else:
            await asyncio.gather(*(bye(p) for p in self.pcs if p))
            await self.target.close()
        await asyncio.gather(
            *(asyncio.wait_for(p.close(), 10) for p in self.pcs if p), return_exceptions=True
        )


def _ms(a: float | None, b: float | None) -> float | None:
    return (b - a) * 1000.0 if a is not None and b is not None else None


def _phases(stats: list[RxStats]) -> dict[str, list[float]]:
    """Where join time goes: client offer, HTTP answer, ICE+DTLS, first packet."""
    out: dict[str, list[float]] = {"offer": [], "answer": [], "connected": [], "first": []}
    for s in stats:
        for key, a, b in (
            ("offer", s.t_sched, s.t_offer),
            ("answer", s.t_offer, s.t_answer),
            ("connected", s.t_answer, s.t_connected),
            ("first", s.t_connected, s.first_t),
        ):
            v = _ms(a, b)
            if v is not None:
                out[key].append(v)
    return out


async def run(a: argparse.Namespace) -> dict[str, Any]:
    force_loopback_ice()
    target = make_target(a, "listener")
    await target.start()
    await target.prepare()
    ls = Listeners(a, target)
    ramp_s = await ls.ramp()
    window_late_s = 0.0
    if a.window_at is not None:
        wait = a.window_at - time.monotonic()
        window_late_s = max(0.0, -wait)
        await asyncio.sleep(max(0.0, wait))
    else:
        await asyncio.sleep(a.settle)

    # ---- steady-state window
    log(f"listeners: measuring {a.window:.0f} s")
    lag: list[float] = []
    stop = asyncio.Event()
    lag_task = asyncio.create_task(lag_monitor(lag, stop))
    me = os.getpid()
    stats = ls.stats
    s0 = [s.snapshot() for s in stats]
    t0 = time.monotonic()
    c_srv0 = proc_cpu_s(a.server_pid) if a.server_pid else 0.0
    c_srv_main0 = proc_cpu_s(a.server_pid, a.server_pid) if a.server_pid else 0.0
    c_me0 = proc_cpu_s(me)
    c_spk0 = proc_cpu_s(a.speaker_pid) if a.speaker_pid else 0.0
    sys0 = sys_cpu()
    psi0 = cpu_pressure_s()
    wait0 = sched_wait_s(a.server_pid, a.server_pid) if a.server_pid else 0.0
    wait_all0 = sched_wait_s(a.server_pid) if a.server_pid else 0.0
    udp0 = udp_errors()
    rss: list[float] = []
    backlog: list[int] = []
    ports = [p for pc in ls.pcs if pc for p in pc_local_ports(pc)]
    while time.monotonic() - t0 < a.window:
        await asyncio.sleep(min(1.0, a.window - (time.monotonic() - t0)))
        if a.server_pid:
            r = proc_rss_mb(a.server_pid)
            if r is not None:
                rss.append(r)
        backlog.append(sum(udp_rx_queues(ports)))
    t1 = time.monotonic()
    w = t1 - t0
    srv_cpu = 100 * (proc_cpu_s(a.server_pid) - c_srv0) / w if a.server_pid else None
    srv_main = (
        100 * (proc_cpu_s(a.server_pid, a.server_pid) - c_srv_main0) / w if a.server_pid else None
    )
    me_cpu = 100 * (proc_cpu_s(me) - c_me0) / w
    spk_cpu = 100 * (proc_cpu_s(a.speaker_pid) - c_spk0) / w if a.speaker_pid else None
    busy = machine_busy_pct(sys0, sys_cpu())
    psi1 = cpu_pressure_s()
    psi = 100 * (psi1 - psi0) / w if psi0 is not None and psi1 is not None else None
    srv_wait = (
        100 * (sched_wait_s(a.server_pid, a.server_pid) - wait0) / w if a.server_pid else None
    )
    srv_wait_all = 100 * (sched_wait_s(a.server_pid) - wait_all0) / w if a.server_pid else None
    udp1 = udp_errors()
    s1 = [s.snapshot() for s in stats]
    stop.set()
    await lag_task

    # ---- per-listener rates and loss
    pps: list[float] = []
    losses: list[float] = []
    exp_tot = got_tot = dead = 0
    for (c0, e0, _), (c1, e1, _), _st in zip(s0, s1, stats, strict=True):
        got = c1 - c0
        if got <= 0 or e0 is None or e1 is None:
            dead += 1
            exp = round(a.nominal_pps * w)
            got = 0
        else:
            exp = max(e1 - e0, got)
        pps.append(got / w)
        losses.append(100.0 * (exp - got) / exp if exp else 0.0)
        exp_tot += exp
        got_tot += got
    join_ms = [v for s in stats if (v := _ms(s.t_offer, s.first_t)) is not None]
    join_sched_ms = [v for s in stats if (v := _ms(s.t_sched, s.first_t)) is not None]
    clicks = load_clicks(a.clicks) if a.clicks else []
    lat: list[float] = []
    probes = []
    for s in stats[: a.probes]:
        matched = match_latency(s.onsets, clicks, t0 - 5, t1)
        lat += matched
        probes.append({"onsets": len(s.onsets), "matched": len(matched), "err": s.err})
    errors = [s.err for s in stats if s.err and not s.probe]
    phases = _phases(stats)
    other = busy * NCPU - me_cpu - (srv_cpu or 0.0) - (spk_cpu or 0.0)
    res: dict[str, Any] = {
        "target": a.target,
        "n": a.n,
        "window_s": round(w, 2),
        "window_late_s": round(window_late_s, 2),
        "ramp_s": round(ramp_s, 2),
        "join_rate": a.join_rate,
        "joined": sum(1 for s in stats if s.first_t is not None),
        "failed": sum(1 for s in stats if s.err and s.first_t is None),
        "errors_sample": errors[:3],
        "server_cpu_pct": rounded(srv_cpu),
        "server_main_thread_cpu_pct": rounded(srv_main),
        "server_rss_mb": rounded(max(rss)) if rss else None,
        "server_threads": proc_threads(a.server_pid) if a.server_pid else None,
        "server_fds": proc_fds(a.server_pid) if a.server_pid else None,
        "harness_cpu_pct": round(me_cpu, 1),
        "speaker_cpu_pct": rounded(spk_cpu),
        "machine_busy_pct": round(busy, 1),
        # share of the window some task on the machine waited for a CPU (PSI "some")
        "cpu_pressure_pct": rounded(psi),
        # share of the window the server's main thread was runnable but not running
        "server_main_thread_wait_pct": rounded(srv_wait),
        # the same summed over all the server's threads (% of one core; can pass 100)
        "server_wait_pct": rounded(srv_wait_all),
        "ncpu": NCPU,
        "other_cpu_pct": round(other, 1),
        "loop_lag_ms_p50": rounded(pct(lag, 50), 2),
        "loop_lag_ms_p99": rounded(pct(lag, 99), 2),
        "client_rxq_kb_max": round(max(backlog) / 1024, 1) if backlog else None,
        "udp_rcvbuf_errors": udp1["RcvbufErrors"] - udp0["RcvbufErrors"],
        "udp_in_errors": udp1["InErrors"] - udp0["InErrors"],
        "pps_mean": round(sum(pps) / len(pps), 2) if pps else None,
        "pps_min": round(min(pps), 2) if pps else None,
        "loss_pct": round(100.0 * (exp_tot - got_tot) / exp_tot, 3) if exp_tot else None,
        "loss_pct_max_listener": round(max(losses), 2) if losses else None,
        "dead_listeners": dead,
        "join_ms_p50": rounded(pct(join_ms, 50)),
        "join_ms_p99": rounded(pct(join_ms, 99)),
        "join_ms_max": rounded(max(join_ms)) if join_ms else None,
        "join_sched_ms_p99": rounded(pct(join_sched_ms, 99)),
        "join_phases_ms_p50": {k: rounded(pct(v, 50)) for k, v in phases.items()},
        "join_phases_ms_p99": {k: rounded(pct(v, 99)) for k, v in phases.items()},
        "latency_ms_p50": rounded(pct(lat, 50)),
        "latency_ms_p99": rounded(pct(lat, 99)),
        "latency_samples": len(lat),
        "probes": probes,
        "raw": {
            "window": [t0, t1],
            "expected": exp_tot,
            "received": got_tot,
            "pps": pps,
            "losses": losses,
            "join_ms": join_ms,
            "join_sched_ms": join_sched_ms,
            "latency_ms": lat,
            "phases": phases,
            "lag_ms": lag,
            "backlog_max": max(backlog) if backlog else 0,
        },
    }
    await ls.teardown()
    return res


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_target_args(ap)
    ap.add_argument("-n", type=int, default=25, help="listeners in this process")
    ap.add_argument("--probes", type=int, default=2, help="listeners that decode (latency)")
    ap.add_argument("--window", type=float, default=20.0, help="measured seconds")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds between ramp and window")
    ap.add_argument("--window-at", type=float, help="start the window at this monotonic time")
    ap.add_argument("--join-rate", type=float, default=50.0, help="new listeners per second")
    ap.add_argument("--concurrency", type=int, default=50, help="max signalling in flight")
    ap.add_argument("--media-timeout", type=float, default=20.0, help="wait for first packets")
    ap.add_argument("--nominal-pps", type=float, default=50.0, help="expected of dead listeners")
    ap.add_argument(
        "--full-receive",
        action="store_true",
        help="counting listeners go through aiortc's SRTP + RTP path too (heavier client)",
    )
    ap.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="event loop of this process (uvloop reads UDP for less CPU)",
    )
    ap.add_argument("--server-pid", type=int)
    ap.add_argument("--speaker-pid", type=int)
    ap.add_argument("--clicks", default="clicks.jsonl", help="the speaker's click file")
    ap.add_argument("--json-out")
    return ap


def main() -> None:
    a = parser().parse_args()
    if a.loop == "uvloop":
        import uvloop

        res = uvloop.run(run(a))
    else:
        res = asyncio.run(run(a))
    line = json.dumps(res)
    if a.json_out:
        Path(a.json_out).write_text(line + "\n")
    summary = {k: v for k, v in res.items() if k != "raw"}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
