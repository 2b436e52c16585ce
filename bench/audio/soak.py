"""Soak (issue #8): a live Space with 3 speakers while 200 WebRTC listeners join and leave,
round after round, for --minutes. Memory, open files and threads of the server are read
after every round (once the round's listeners have left); loss is measured in each round's
window. Flat numbers mean nothing leaks; a growing loss means something degrades.

    .venv/bin/python bench/audio/soak.py                  # 30 minutes, 200 listeners
    .venv/bin/python bench/audio/soak.py --minutes 3      # a quick look
    .venv/bin/python bench/audio/soak.py --minutes 5 -n 100 --window 10 --probe  # why it grows

Writes bench/results/soak.md and soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from bench.audio.common import log, proc_fds, proc_rss_mb, proc_threads
from bench.audio.servers import PASSWORD, townhall
from bench.audio.sweep import machine, run_step, speaker

RESULTS = Path(__file__).resolve().parents[1] / "results"
PROBE_TIMEOUT_S = 120.0
PROBE_COLUMNS = {
    "malloc_in_use_mb": "malloc in use MB",
    "malloc_free_mb": "malloc free MB",
    "pymalloc_in_use_mb": "pymalloc in use MB",
    "objects": "Python objects",
    "tasks": "tasks",
}
"""memprobe.py's figures that go to the log and the report, after RSS."""


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="how long to soak (30)")
    ap.add_argument("-n", "--listeners", type=int, default=200, help="listeners a round (200)")
    ap.add_argument("--window", type=float, default=40.0, help="measured seconds a round (40)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds before the window (3)")
    ap.add_argument("--join-rate", type=float, default=50.0, help="joins a second (50)")
    ap.add_argument("--procs", type=int, default=2, help="listener processes (2)")
    ap.add_argument("--output", default="soak", help="results name in bench/results (soak)")
    ap.add_argument(
        "--probe",
        action="store_true",
        help="run the server under memprobe.py and probe it after every round (malloc, "
        "pymalloc, objects by type; tracemalloc with MEMPROBE_FRAMES; malloc_trim with "
        "MEMPROBE_TRIM=1); the figures go to the report",
    )
    return ap


def probe_server(pid: int, out: Path, number: int) -> dict[str, Any] | None:
    """SIGUSR1 to memprobe.py, then its `number`th line of `out` (None if it never came)."""
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    while time.monotonic() < deadline:
        lines = out.read_text().splitlines() if out.exists() else []
        if len(lines) >= number:
            entry: dict[str, Any] = json.loads(lines[number - 1])
            return entry
        time.sleep(0.5)
    return None


async def bring_on_stage(base: str, host_token: str, space_id: str, count: int) -> list[str]:
    """`count` more people on stage, unmuted; returns their tokens."""
    api = f"{base}/api/v1"
    tokens = []
    async with httpx.AsyncClient(timeout=30) as http:
        host = {"Authorization": f"Bearer {host_token}"}
        for i in range(count):
            name = f"spk{i}_{int(time.time())}"
            r = await http.post(f"{api}/auth/signup", json={"username": name, "password": PASSWORD})
            r.raise_for_status()
            body = r.json()
            token, user_id = body["token"], body["user"]["id"]
            auth = {"Authorization": f"Bearer {token}"}
            (await http.post(f"{api}/spaces/{space_id}/join", headers=auth)).raise_for_status()
            r = await http.post(f"{api}/spaces/{space_id}/speak-requests", headers=auth)
            r.raise_for_status()
            r = await http.post(
                f"{api}/spaces/{space_id}/speak-requests/{user_id}/approve", headers=host
            )
            r.raise_for_status()
            r = await http.post(f"{api}/spaces/{space_id}/participants/me/unmute", headers=auth)
            r.raise_for_status()
            tokens.append(token)
    return tokens


def write_report(a: argparse.Namespace, result: dict[str, Any]) -> None:
    rounds = result["rounds"]
    lines = [
        f"# Soak: 3 speakers, {a.listeners} WebRTC listeners joining and leaving, "
        f"{result['minutes']:.1f} minutes",
        "",
        f"- command: `{result['command']}`",
        f"- date: {result['date']}; machine: {result['machine']}",
        f"- server: `{result['server_command']}`",
        f"- each round: {a.listeners} listeners join at {a.join_rate:g}/s, {a.settle:g} s "
        f"settle, a {a.window:g} s window (loss measured), then all leave; the server's RSS, "
        "open files and threads are read 2 s after they left.",
        "",
        "| round | at (min) | joined | loss % | rate gap % | join p99 ms | server RSS MB "
        "| open files | threads |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    probed = any(r.get("probe") for r in rounds)
    if probed:
        lines[-2] += "".join(f" {header} |" for header in PROBE_COLUMNS.values())
        lines[-1] += "---|" * len(PROBE_COLUMNS)
    for r in rounds:
        row = (
            f"| {r['round']} | {r['at_min']:.1f} | {r['joined']} | {r['loss_pct']} | "
            f"{r['rate_gap_pct']} | {r['join_p99_ms']} | {r['rss_mb']:.1f} | "
            f"{r['open_files']} | {r['threads']} |"
        )
        if probed:
            probe = r.get("probe") or {}
            row += "".join(f" {probe.get(k, '')} |" for k in PROBE_COLUMNS)
        lines.append(row)
    first, last = rounds[0], rounds[-1]
    lines += [
        "",
        f"From round 1 to round {last['round']}: RSS {first['rss_mb']:.1f} -> "
        f"{last['rss_mb']:.1f} MB, open files {first['open_files']} -> {last['open_files']}, "
        f"threads {first['threads']} -> {last['threads']}; loss "
        f"{first['loss_pct']} % -> {last['loss_pct']} %.",
        "",
    ]
    (RESULTS / f"{a.output}.md").write_text("\n".join(lines))
    (RESULTS / f"{a.output}.json").write_text(json.dumps(result, indent=2) + "\n")


def main() -> int:
    a = parser().parse_args()
    # run_step reads these sweep options
    a.probes, a.concurrency, a.nice, a.nominal_pps = 0, 50, 0, 50.0
    work = Path(tempfile.mkdtemp(prefix="townhall-soak-"))
    started = time.monotonic()
    result: dict[str, Any] = {
        "command": "python bench/audio/soak.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "rounds": [],
    }
    probe_out = work / "memprobe.jsonl"
    probe_env = {"MEMPROBE_OUT": str(probe_out)} if a.probe else None
    with townhall(work / "townhall", probe=a.probe, env=probe_env) as th:
        space = th.setup_space(a.listeners)
        result["server_command"] = " ".join(th.command)
        tokens = work / "tokens.txt"
        tokens.write_text("\n".join(space.listener_tokens) + "\n")
        others = asyncio.run(bring_on_stage(th.base_url, space.host_token, space.space_id, 2))
        listen_args = ["--target", "whip", "--whep-url", th.whep_url(space.space_id)]
        listen_args += ["--listener-tokens-file", str(tokens)]
        whip_args = ["--target", "whip", "--whip-url", th.whip_url(space.space_id)]
        with contextlib.ExitStack() as stack:
            speakers = [
                stack.enter_context(
                    speaker(
                        [*whip_args, "--token", token],
                        work,
                        f"s{i}",
                        0,
                    )
                )
                for i, token in enumerate([space.host_token, *others])
            ]
            log(f"soak: 3 speakers on stage, {a.minutes:g} minutes of rounds")
            number = 0
            while time.monotonic() - started < a.minutes * 60:
                number += 1
                row = run_step(
                    a.listeners, listen_args, th.pid, speakers[0], work, f"round{number}", a
                )
                time.sleep(2.0)  # the round's listeners have hung up
                entry = {
                    "round": number,
                    "at_min": (time.monotonic() - started) / 60,
                    "joined": row.get("joined") if row else None,
                    "loss_pct": row.get("loss_pct") if row else None,
                    "rate_gap_pct": row.get("rate_gap_pct") if row else None,
                    "join_p99_ms": row.get("join_ms_p99") if row else None,
                    "rss_mb": proc_rss_mb(th.pid) or 0.0,
                    "open_files": proc_fds(th.pid),
                    "threads": proc_threads(th.pid),
                }
                if a.probe:
                    probed = probe_server(th.pid, probe_out, number)
                    entry["probe"] = probed
                    if probed:
                        log(f"soak: probe {json.dumps({k: probed[k] for k in PROBE_COLUMNS})}")
                result["rounds"].append(entry)
                log(f"soak: {json.dumps({k: v for k, v in entry.items() if k != 'probe'})}")
    result["minutes"] = (time.monotonic() - started) / 60
    write_report(a, result)
    log(f"wrote bench/results/{a.output}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
