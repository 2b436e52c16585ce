"""Soak (issue #8): a live Space with 3 speakers while 200 WebRTC listeners join and leave,
round after round, for --minutes. Memory, open files and threads of the server are read
after every round (once the round's listeners have left); loss is measured in each round's
window. Flat numbers mean nothing leaks; a growing loss means something degrades.

    .venv/bin/python bench/audio/soak.py                  # 30 minutes, 200 listeners
    .venv/bin/python bench/audio/soak.py --minutes 3      # a quick look

Writes bench/results/soak.md and soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="how long to soak (30)")
    ap.add_argument("-n", "--listeners", type=int, default=200, help="listeners a round (200)")
    ap.add_argument("--window", type=float, default=40.0, help="measured seconds a round (40)")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds before the window (3)")
    ap.add_argument("--join-rate", type=float, default=50.0, help="joins a second (50)")
    ap.add_argument("--procs", type=int, default=2, help="listener processes (2)")
    ap.add_argument("--output", default="soak", help="results name in bench/results (soak)")
    return ap


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
    for r in rounds:
        lines.append(
            f"| {r['round']} | {r['at_min']:.1f} | {r['joined']} | {r['loss_pct']} | "
            f"{r['rate_gap_pct']} | {r['join_p99_ms']} | {r['rss_mb']:.1f} | "
            f"{r['open_files']} | {r['threads']} |"
        )
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
    with townhall(work / "townhall") as th:
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
                result["rounds"].append(entry)
                log(f"soak: {json.dumps(entry)}")
    result["minutes"] = (time.monotonic() - started) / 60
    write_report(a, result)
    log(f"wrote bench/results/{a.output}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
