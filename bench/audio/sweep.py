"""Live-audio sweep: one speaker, N WebRTC listeners, Townhall and Janus side by side.

    .venv/bin/python bench/audio/sweep.py                       # everything, ~15-25 minutes
    .venv/bin/python bench/audio/sweep.py --servers townhall --ns 25,50 --more ""   # quick

For each server (fresh process each): start it, connect one speaker (speaker.py: espeak-ng
speech with a 1 kHz click every 2 s), measure a baseline window with no listener, then for
each N run listeners.py (N WebRTC listeners in --procs separate processes, joining at
--join-rate; most only count packets, --probes decode for clicks) and record its window.
N goes through --ns, then on through --more while loss stays under --max-loss and the server
is not saturated. Townhall also gets an HLS glass-to-glass phase (hls_latency.py) and,
with --profile-n, a py-spy profile of its process at that N.

Servers:
    townhall       `townhall serve` (SQLite); speaker over WHIP, listeners over WHEP
    janus-ab       Janus AudioBridge: speaker and listeners are room participants
    janus-stream   Janus Streaming: speaker in AudioBridge, rtp_forward -> mountpoint, listeners
                   watch the mountpoint

Every server, speaker and listeners process runs in a session of its own: with the
kernel's autogroup scheduling, CPU is shared fairly between sessions (other people's work on
the machine included) and nice values only count inside one; --nice sets both.

Writes <out>.json and <out>.md (default bench/results/audio_listeners); a run with only some
servers replaces those servers' results and keeps the others, so sides can be re-run alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.audio.common import (
    cpu_pressure_s,
    load_clicks,
    log,
    machine_busy_pct,
    pct,
    proc_cpu_s,
    proc_fds,
    proc_rss_mb,
    proc_threads,
    rounded,
    sched_wait_s,
    sys_cpu,
)
from bench.audio.pyspy_summary import summarize
from bench.audio.report import markdown
from bench.audio.servers import Townhall, janus, janus_available, spawn, townhall

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NCPU = os.cpu_count() or 1
SERVERS = ("townhall", "janus-ab", "janus-stream")
LISTENER_START_S = 4.0
"""Allowance for a listeners process to import aiortc and start (about 1 s when idle)."""
CLIENT_BACKLOG_KB_PER_LISTENER = 16
"""More unread than this in the listeners' sockets (kernel accounting, about 1 KB a packet, so
some 300 ms of audio each): the client, not the server, is the limit."""
RAMP_MARGIN_S = 2.0
"""Allowance for the last joins to get media after the ramp."""


def planned_window_at(n: int, a: argparse.Namespace) -> float:
    """When a step started now can begin its window: start-up, ramp, margin, settle."""
    ramp_s = n / float(a.join_rate)
    return time.monotonic() + LISTENER_START_S + ramp_s + RAMP_MARGIN_S + float(a.settle)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Speaker:
    """speaker.py in its own process."""

    def __init__(
        self, args: list[str], clicks: Path, log_path: Path, period_s: float, nice: int
    ) -> None:
        self.clicks = clicks
        clicks.unlink(missing_ok=True)
        self.command = [
            sys.executable,
            str(HERE / "speaker.py"),
            *args,
            "--clicks",
            str(clicks),
            "--click-period",
            str(period_s),
        ]
        self._log = log_path.open("w")
        self.process = spawn(self.command, nice, self._log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_clicks(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"speaker exited: {self.process.returncode}")
            if load_clicks(str(self.clicks)):
                return
            time.sleep(0.2)
        raise RuntimeError("speaker sent no click")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@contextlib.contextmanager
def speaker(
    args: list[str], work: Path, name: str, nice: int, period_s: float = 2.0
) -> Iterator[Speaker]:
    clicks, log_path = work / f"clicks-{name}.jsonl", work / f"speaker-{name}.log"
    spk = Speaker(args, clicks, log_path, period_s, nice)
    try:
        spk.wait_clicks()
        time.sleep(2.0)  # connected and flowing
        yield spk
    finally:
        spk.stop()


def idle_window(server_pid: int, speaker_pid: int, seconds: float) -> dict[str, Any]:
    """Server cost with the speaker connected and no listener."""
    c0 = proc_cpu_s(server_pid)
    m0 = proc_cpu_s(server_pid, server_pid)
    w0 = sched_wait_s(server_pid, server_pid)
    p0 = cpu_pressure_s()
    s0 = proc_cpu_s(speaker_pid)
    sys0 = sys_cpu()
    t0 = time.monotonic()
    time.sleep(seconds)
    w = time.monotonic() - t0
    return {
        "window_s": round(w, 1),
        "server_cpu_pct": round(100 * (proc_cpu_s(server_pid) - c0) / w, 1),
        "server_main_thread_cpu_pct": round(100 * (proc_cpu_s(server_pid, server_pid) - m0) / w, 1),
        "speaker_cpu_pct": round(100 * (proc_cpu_s(speaker_pid) - s0) / w, 1),
        "server_main_thread_wait_pct": round(
            100 * (sched_wait_s(server_pid, server_pid) - w0) / w, 1
        ),
        "cpu_pressure_pct": rounded(
            100 * (p1 - p0) / w if p0 is not None and (p1 := cpu_pressure_s()) is not None else None
        ),
        "server_rss_mb": rounded(proc_rss_mb(server_pid)),
        "server_threads": proc_threads(server_pid),
        "server_fds": proc_fds(server_pid),
        "machine_busy_pct": round(machine_busy_pct(sys0, sys_cpu()), 1),
    }


# ----------------------------------------------------------------------------- one step


def _combine(parts: list[dict[str, Any]], n: int, a: argparse.Namespace) -> dict[str, Any]:
    """One row from the listeners processes of a step (same window)."""
    if len(parts) == 1:
        row = dict(parts[0])
        raw = row.pop("raw")
    else:
        raw = {
            k: [x for p in parts for x in p["raw"][k]]
            for k in ("pps", "losses", "join_ms", "join_sched_ms", "latency_ms", "lag_ms")
        }
        raw["expected"] = sum(p["raw"]["expected"] for p in parts)
        raw["received"] = sum(p["raw"]["received"] for p in parts)
        row = dict(parts[0])
        row.pop("raw")
        for key in ("joined", "failed", "dead_listeners", "n"):
            row[key] = sum(p[key] for p in parts)
        row["harness_cpu_pct"] = round(sum(p["harness_cpu_pct"] for p in parts), 1)
        row["other_cpu_pct"] = round(
            row["machine_busy_pct"] * NCPU
            - row["harness_cpu_pct"]
            - (row["server_cpu_pct"] or 0)
            - (row["speaker_cpu_pct"] or 0),
            1,
        )
        row["window_late_s"] = max(p["window_late_s"] for p in parts)
        row["errors_sample"] = [e for p in parts for e in p["errors_sample"]][:3]
        row["client_rxq_kb_max"] = sum(p["client_rxq_kb_max"] or 0 for p in parts)
        row["udp_rcvbuf_errors"] = parts[0]["udp_rcvbuf_errors"]
        exp, got = raw["expected"], raw["received"]
        row["loss_pct"] = round(100.0 * (exp - got) / exp, 3) if exp else None
        pps = raw["pps"]
        row["pps_mean"] = round(sum(pps) / len(pps), 2) if pps else None
        row["pps_min"] = round(min(pps), 2) if pps else None
        row["loss_pct_max_listener"] = round(max(raw["losses"]), 2) if raw["losses"] else None
        for key, values in (
            ("join_ms", raw["join_ms"]),
            ("latency_ms", raw["latency_ms"]),
            ("loop_lag_ms", raw["lag_ms"]),
        ):
            row[f"{key}_p50"] = rounded(pct(values, 50))
            row[f"{key}_p99"] = rounded(pct(values, 99))
        row["join_sched_ms_p99"] = rounded(pct(raw["join_sched_ms"], 99))
        row["latency_samples"] = len(raw["latency_ms"])
        row["probes"] = [x for p in parts for x in p["probes"]]
        row["procs"] = len(parts)
    # Packets the server never sent (skipped mixer ticks, dropped queue entries) leave no
    # sequence gap; the rate shows them: 50 packets a second is 20 ms Opus.
    pps_mean = row.get("pps_mean")
    row["rate_gap_pct"] = (
        round(100.0 * (1 - pps_mean / a.nominal_pps), 2) if pps_mean is not None else None
    )
    row["n"] = n
    return row


def run_step(
    n: int,
    target_args: list[str],
    server_pid: int,
    spk: Speaker,
    work: Path,
    name: str,
    a: argparse.Namespace,
    window_at: float | None = None,
) -> dict[str, Any] | None:
    """One step: N listeners in --procs processes; returns the combined row (None: failed).

    With several processes, or a given window_at (time.monotonic()), every process measures
    the same window; otherwise the single process starts it --settle seconds after its ramp.
    """
    procs = max(1, min(a.procs, n // 25 or 1))
    sizes = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    if window_at is None and procs > 1:
        window_at = planned_window_at(n, a)
    running: list[tuple[subprocess.Popen[bytes], Path, Any]] = []
    probes_left = a.probes
    for i, size in enumerate(sizes):
        out = work / f"{name}-{n}-{i}.json"
        out.unlink(missing_ok=True)
        probes = min(probes_left, size)
        probes_left -= probes
        cmd = [
            sys.executable,
            str(HERE / "listeners.py"),
            *target_args,
            "-n",
            str(size),
            "--probes",
            str(probes),
            "--window",
            str(a.window),
            "--settle",
            str(a.settle),
            "--join-rate",
            str(a.join_rate / procs),
            "--concurrency",
            str(a.concurrency),
            "--server-pid",
            str(server_pid),
            "--speaker-pid",
            str(spk.pid),
            "--clicks",
            str(spk.clicks),
            "--json-out",
            str(out),
        ]
        if window_at is not None:
            cmd += ["--window-at", f"{window_at:.3f}"]
        if i == 0:
            log(f"  $ {shlex.join(cmd)}")
        lg = (work / f"{name}-{n}-{i}.log").open("w")
        process = spawn(cmd, a.nice, lg)
        running.append((process, out, lg))
    timeout = LISTENER_START_S + n / a.join_rate + a.window + a.settle + 240
    parts: list[dict[str, Any]] = []
    ok = True
    try:
        for process, out, _ in running:
            try:
                rc = process.wait(timeout=max(1.0, timeout))
            except subprocess.TimeoutExpired:
                process.kill()
                rc = process.wait()
            if rc != 0 or not out.exists():
                log(f"  listeners.py failed (rc {rc}), see {out.with_suffix('.log')}")
                ok = False
                continue
            parts.append(json.loads(out.read_text()))
    finally:  # interrupted: take the listeners down too
        for process, _, lg in running:
            if process.poll() is None:
                process.terminate()
                process.wait()
            lg.close()
    if not ok or not parts:
        return None
    row = _combine(parts, n, a)
    row["listeners_command"] = shlex.join(
        ["python", "bench/audio/listeners.py", *target_args, "-n", str(sizes[0]), "..."]
    )
    return row


def stop_reasons(row: dict[str, Any], a: argparse.Namespace) -> list[str]:
    why = []
    loss = max(row.get("loss_pct") or 0.0, row.get("rate_gap_pct") or 0.0)
    if loss >= a.max_loss:
        why.append(f"loss {loss:.2f}%")
    if row["joined"] < row["n"]:
        why.append(f"joined {row['joined']}/{row['n']}")
    if (row.get("server_cpu_pct") or 0) >= 95 * NCPU:
        why.append("server CPU saturated (all cores)")
    main = row.get("server_main_thread_cpu_pct")
    if main is not None and main >= 95:
        why.append("server event-loop thread saturated")
    if row["harness_cpu_pct"] >= 95 * row.get("procs", 1):
        why.append("listeners process saturated")
    backlog = row.get("client_rxq_kb_max") or 0
    if backlog > CLIENT_BACKLOG_KB_PER_LISTENER * row["n"]:
        why.append(f"listeners behind ({backlog / 1024:.0f} MB unread)")
    return why


def sweep_server(
    name: str,
    server_pid: int,
    target_args: list[str],
    spk: Speaker,
    work: Path,
    a: argparse.Namespace,
    result: dict[str, Any],
    save: Callable[[], None],
) -> None:
    log(f"{name}: baseline (speaker only) {a.idle:.0f} s")
    result["baseline"] = idle_window(server_pid, spk.pid, a.idle)
    log(f"  {result['baseline']}")
    base_rss = result["baseline"]["server_rss_mb"] or 0.0
    base_cpu = result["baseline"]["server_cpu_pct"]
    steps: list[dict[str, Any]] = result.setdefault("steps", [])
    plan = [int(x) for x in a.ns.split(",") if x] + [int(x) for x in a.more.split(",") if x]
    base_count = len([x for x in a.ns.split(",") if x])
    for k, n in enumerate(plan):
        log(f"{name}: N={n} ...")
        row = run_step(n, target_args, server_pid, spk, work, name, a)
        if row is None:
            steps.append({"n": n, "failed_step": True})
            break
        rss = row.get("server_rss_mb")
        row["rss_kb_per_listener"] = (
            round((rss - base_rss) * 1024 / n, 1) if rss is not None else None
        )
        cpu = row.get("server_cpu_pct")
        row["cpu_pct_per_listener"] = round(cpu / n, 3) if cpu is not None else None
        row["cpu_pct_per_listener_marginal"] = (
            round((cpu - base_cpu) / n, 3) if cpu is not None else None
        )
        why = stop_reasons(row, a)
        row["stop"] = "; ".join(why)
        steps.append(row)
        log(
            f"  joined {row['joined']}/{n}, server CPU {cpu}% (main thread "
            f"{row.get('server_main_thread_cpu_pct')}%), RSS {rss} MB, pps {row['pps_mean']}, "
            f"loss {row['loss_pct']}%, gap {row['rate_gap_pct']}%, join p50/p99 "
            f"{row['join_ms_p50']}/{row['join_ms_p99']} ms, latency p50/p99 "
            f"{row['latency_ms_p50']}/{row['latency_ms_p99']} ms, harness "
            f"{row['harness_cpu_pct']}%, other {row['other_cpu_pct']}%, CPU pressure "
            f"{row.get('cpu_pressure_pct')}%, server main thread waiting "
            f"{row.get('server_main_thread_wait_pct')}%"
        )
        save()
        if why and k >= base_count - 1:  # every --ns step runs; --more only while fine
            log(f"  stopping {name}: {row['stop']}")
            break
        time.sleep(a.pause)


# ----------------------------------------------------------------------------- profiling


def _pyspy(pid: int, start_at: float, seconds: float, out: Path, log_path: Path) -> Any:
    """py-spy from monotonic time start_at for `seconds`, in the background.

    GIL-holding samples only (waiting in epoll or on a lock is not work); blocking mode
    (the process is paused for each sample: --nonblocking tears coroutine stacks apart).
    """
    cmd = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "100",
        "--format",
        "raw",
        "--nolineno",
        "--threads",
        "--gil",
        "--output",
        str(out),
    ]
    delay = max(0.0, start_at - time.monotonic())
    with log_path.open("w") as lg:
        process = subprocess.Popen(
            ["sh", "-c", f"sleep {delay:.2f} && exec {shlex.join(cmd)}"],
            stdout=lg,
            stderr=subprocess.STDOUT,
        )
    return process, shlex.join(cmd)


def profile_step(
    n: int,
    target_args: list[str],
    server_pid: int,
    spk: Speaker,
    work: Path,
    a: argparse.Namespace,
) -> dict[str, Any]:
    """One more step at N with py-spy on the server: once over the joins, once over the
    steady-state window (the step's own numbers are then not comparable: py-spy costs)."""
    window_at = planned_window_at(n, a)
    ramp_at = window_at - a.settle - RAMP_MARGIN_S - n / a.join_rate
    recordings = {
        "join": (ramp_at, n / a.join_rate + RAMP_MARGIN_S),
        "steady": (window_at, a.window),
    }
    log(f"townhall: profiling at N={n} (py-spy over the joins, then over the window)")
    spies = {
        key: _pyspy(server_pid, at, secs, work / f"pyspy-{key}.txt", work / f"pyspy-{key}.log")
        for key, (at, secs) in recordings.items()
    }
    try:
        row = run_step(n, target_args, server_pid, spk, work, "townhall-profile", a, window_at)
        for process, _ in spies.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=a.window + 60)
    finally:
        for process, _ in spies.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    out: dict[str, Any] = {"n": n, "step": row}
    for key, (_, cmd) in spies.items():
        raw = work / f"pyspy-{key}.txt"
        part: dict[str, Any] = {"command": cmd}
        if raw.exists():
            part.update(summarize(raw.read_text().splitlines()))
        else:
            part["error"] = (work / f"pyspy-{key}.log").read_text()[-2000:]
        out[key] = part
    return out


# ----------------------------------------------------------------------------- HLS


def hls_phase(
    th: Townhall, space_id: str, spk: Speaker, work: Path, seconds: float, nice: int
) -> Any:
    out = work / "hls.json"
    cmd = [
        sys.executable,
        str(HERE / "hls_latency.py"),
        "--base-url",
        th.base_url,
        "--space-id",
        space_id,
        "--clicks",
        str(spk.clicks),
        "--duration",
        str(seconds),
        "--click-period",
        "6",
        "--json-out",
        str(out),
    ]
    log(f"townhall: HLS glass-to-glass {seconds:.0f} s")
    with (work / "hls.log").open("w") as lg:
        process = spawn(cmd, nice, lg)
        try:
            process.wait(timeout=seconds + 120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if not out.exists():
        return {"error": (work / "hls.log").read_text()[-2000:]}
    res: dict[str, Any] = json.loads(out.read_text())
    res["command"] = shlex.join(["python", "bench/audio/hls_latency.py", *cmd[2:-2]])
    log(
        f"  HLS glass-to-glass p50 {rounded(res.get('g2g_ms_p50'))} ms over "
        f"{res.get('clicks_matched')} clicks"
    )
    return res


# ----------------------------------------------------------------------------- servers


def run_townhall(
    a: argparse.Namespace, work: Path, result: dict[str, Any], save: Callable[[], None]
) -> None:
    plan = [int(x) for x in (a.ns + "," + a.more).split(",") if x]
    with townhall(work / "townhall", a.nice) as th:
        space = th.setup_space(min(a.accounts, max([*plan, a.profile_n or 0])))
        tokens = work / "townhall-tokens.txt"
        tokens.write_text("\n".join(space.listener_tokens) + "\n")
        result["server"] = {
            "pid": th.pid,
            "command": shlex.join(th.command),
            "accounts": len(space.listener_tokens),
        }
        spk_args = [
            "--target",
            "whip",
            "--whip-url",
            th.whip_url(space.space_id),
            "--token",
            space.host_token,
        ]
        if a.hls_seconds > 0:
            with speaker(spk_args, work, "townhall-hls", a.nice, period_s=6.0) as spk:
                result["hls"] = hls_phase(th, space.space_id, spk, work, a.hls_seconds, a.nice)
                save()
        listen_args = [
            "--target",
            "whip",
            "--whep-url",
            th.whep_url(space.space_id),
            "--listener-tokens-file",
            str(tokens),
        ]
        with speaker(spk_args, work, "townhall", a.nice) as spk:
            result["speaker_command"] = shlex.join(["python", "bench/audio/speaker.py", *spk_args])
            sweep_server("townhall", th.pid, listen_args, spk, work, a, result, save)
            if a.profile_n:
                result["profile"] = profile_step(a.profile_n, listen_args, th.pid, spk, work, a)
                save()


def run_janus(
    name: str,
    a: argparse.Namespace,
    work: Path,
    result: dict[str, Any],
    save: Callable[[], None],
) -> None:
    with janus(work / name, a.nice) as j:
        result["server"] = {"pid": j.pid, "command": shlex.join(j.command)}
        common = ["--janus-url", j.url, "--forward-port", str(j.rtp_port)]
        spk_args = ["--target", "janus-ab", *common]
        with speaker(spk_args, work, name, a.nice) as spk:
            result["speaker_command"] = shlex.join(["python", "bench/audio/speaker.py", *spk_args])
            sweep_server(name, j.pid, ["--target", name, *common], spk, work, a, result, save)


def versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for package in ("aiortc", "aioice", "av", "pylibsrtp", "uvicorn", "uvloop", "numpy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[package] = metadata.version(package)
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        v = subprocess.run(["janus", "--version"], capture_output=True, text=True, check=True)
        out["janus"] = v.stdout.splitlines()[0].split(":", 1)[1].strip()
    return out


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
    }


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--servers", default=",".join(SERVERS), help=f"some of {','.join(SERVERS)}")
    ap.add_argument("--ns", default="25,50,100,200", help="listener counts always run")
    ap.add_argument(
        "--more", default="300,400,500,700,1000", help="then these, while loss/CPU allow"
    )
    ap.add_argument("--window", type=float, default=20.0, help="measured seconds per step")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds after ramp, before window")
    ap.add_argument("--idle", type=float, default=10.0, help="baseline window, no listeners")
    ap.add_argument("--join-rate", type=float, default=50.0, help="listener joins per second")
    ap.add_argument("--concurrency", type=int, default=50, help="signalling in flight, per proc")
    ap.add_argument("--probes", type=int, default=4, help="decoding listeners (latency)")
    ap.add_argument("--procs", type=int, default=1, help="listener processes per step")
    ap.add_argument("--max-loss", type=float, default=1.0, help="stop past this loss, percent")
    ap.add_argument("--nominal-pps", type=float, default=50.0, help="20 ms Opus = 50/s")
    ap.add_argument("--pause", type=float, default=3.0, help="seconds between steps")
    ap.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of server, speaker and listeners (e.g. -10 on a machine others load)",
    )
    ap.add_argument(
        "--accounts",
        type=int,
        default=250,
        help="Townhall listener accounts (joined the Space); listeners take turns on them",
    )
    ap.add_argument("--hls-seconds", type=float, default=42.0, help="0 = no HLS phase")
    ap.add_argument("--profile-n", type=int, default=0, help="py-spy Townhall at this N (0: no)")
    ap.add_argument("--work-dir", help="logs and per-step JSON (default: a temporary dir)")
    ap.add_argument("--out", default=str(ROOT / "bench/results/audio_listeners"))
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    a = parser().parse_args(argv)

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwind: stop listeners, speaker and server

    signal.signal(signal.SIGTERM, on_sigterm)
    servers = [s for s in a.servers.split(",") if s]
    for s in servers:
        if s not in SERVERS:
            raise SystemExit(f"unknown server {s!r}")
    work = Path(a.work_dir or tempfile.mkdtemp(prefix="audio-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    out_json = Path(a.out + ".json")
    doc: dict[str, Any] = {}
    if out_json.exists():
        with contextlib.suppress(ValueError):
            doc = json.loads(out_json.read_text())
    doc.setdefault("runs", {})
    argv_list = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join([".venv/bin/python", "bench/audio/sweep.py", *argv_list])

    def save() -> None:
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(doc, indent=1) + "\n")
        Path(a.out + ".md").write_text(markdown(doc))

    log(f"work dir {work}")
    for name in servers:
        result: dict[str, Any] = {
            "started": _now(),
            "command": command,
            "machine": machine(),
            "versions": versions(),
            "settings": {
                k: getattr(a, k)
                for k in (
                    "window",
                    "settle",
                    "join_rate",
                    "concurrency",
                    "probes",
                    "procs",
                    "nice",
                    "max_loss",
                )
            },
        }
        doc["runs"][name] = result
        try:
            if name == "townhall":
                run_townhall(a, work, result, save)
            else:
                why = janus_available()
                if why:
                    result["unavailable"] = why
                    log(f"{name}: not run: {why}")
                else:
                    run_janus(name, a, work, result, save)
        except Exception as exc:
            result["error"] = repr(exc)[:500]
            log(f"{name}: failed: {exc!r}")
        result["finished"] = _now()
        save()
    save()
    log(f"wrote {out_json} and {a.out}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
