"""`townhall loadtest`: set up, run the client processes, send reactions, summarize.

```
 this process                                            the deployment (--url)
   sign-ups, a live Space, a speaker on stage  ── HTTP ──>  API
   speaker: click track                        ── RTP ──>   media
   reactions at --reactions/s                  ── HTTP ──>  API
   /proc/<--server-pid>/stat every second
   │ spec on stdin, `go`, `stop`
   └─> worker process x --procs (townhall.loadtest.worker)
         WebSocket listeners: POST /join, events socket <── WS ───
         WebRTC listeners: POST /join, rtc/listen        <── RTP ──
         HLS players: playlist every target duration,    <── HTTP ─ (nginx or the nodes)
                      each new segment once
```

Phases: set-up, joins (progress every second), the measured window (--duration, reactions
sent), then every process reports and this one prints the table.
"""

import argparse
import asyncio
import contextlib
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from townhall.loadtest import origin_log
from townhall.loadtest.cpu import CpuSampler, udp_receive_drops
from townhall.loadtest.deployment import (
    SetupError,
    bring_on_stage,
    check_live,
    end_space,
    expect,
    open_space,
    reusable_accounts,
    save_accounts,
    signup_many,
)
from townhall.loadtest.hls_listeners import LIVE_EDGE_SEGMENTS
from townhall.loadtest.http import Client
from townhall.loadtest.plan import REACTIONS_PER_USER_PER_S, Account, WorkerSpec, split
from townhall.loadtest.reactions import Reactor, latency_ms
from townhall.loadtest.report import all_errors, merge_hls, merge_rtc, merge_ws
from townhall.loadtest.speaker import Speaker
from townhall.loadtest.stats import Histogram, summarize

PROGRESS_EVERY_S = 1.0
LAG_WARNING_MS = 100
"""The progress line shows the client processes' worst event-loop lag from this on."""
READY_SLACK_S = 60.0
"""Joins may take this long past what --join-rate alone would take."""
DRAIN_S = 2.0
"""After the window, frames still on their way count."""
PLAYLIST_WAIT_S = 20.0
FIRST_CLICK_WAIT_S = 15.0
RESULT_TIMEOUT_S = 60.0
WORKER_LINE_LIMIT_BYTES = 64 << 20


class Worker:
    """A client process and what it last said."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.progress: dict[str, Any] = {}
        self.ready = asyncio.get_running_loop().create_future()
        self.result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, spec: WorkerSpec) -> "Worker":
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "townhall.loadtest.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=WORKER_LINE_LIMIT_BYTES,
        )
        worker = cls(process)
        await worker.send(json.dumps(spec.to_json()))
        return worker

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            message = json.loads(line)
            event = message.pop("event")
            if event == "progress":
                self.progress = message
            elif event == "ready":
                self.progress = message
                if not self.ready.done():
                    self.ready.set_result(None)
            elif event == "result" and not self.result.done():
                self.result.set_result(message)
        code = await self.process.wait()
        for future in (self.ready, self.result):
            if not future.done():
                future.set_exception(RuntimeError(f"a client process exited with status {code}"))

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


class Progress:
    """One line a second: who joined, events and requests a second, errors, server CPU."""

    def __init__(self, args: argparse.Namespace, cpu: CpuSampler, out: Callable[[str], None]):
        self.args = args
        self.cpu = cpu
        self.out = out
        self.start = time.monotonic()
        self._last: tuple[float, int, int, int] | None = None
        self.reactor: Reactor | None = None

    def line(self, phase: str, workers: list[Worker]) -> None:
        self.cpu.sample()
        total: dict[str, int] = {}
        for worker in workers:
            for key, value in worker.progress.items():
                if key != "lag_ms":
                    total[key] = total.get(key, 0) + value
        now = time.monotonic()
        frames, requests = total.get("ws_frames", 0), total.get("hls_requests", 0)
        cpu_ms = total.get("cpu_ms", 0)
        events_s = requests_s = clients_pct = 0.0
        if self._last is not None:
            then, frames_then, requests_then, cpu_then = self._last
            elapsed = max(now - then, 1e-9)
            events_s = (frames - frames_then) / elapsed
            requests_s = (requests - requests_then) / elapsed
            clients_pct = (cpu_ms - cpu_then) / 10 / elapsed
        self._last = (now, frames, requests, cpu_ms)
        a = self.args
        errors = sum(total.get(k, 0) for k in ("ws_errors", "rtc_errors", "hls_errors"))
        parts = [f"[{now - self.start:5.0f}s] {phase:<7}"]
        if a.ws:
            parts.append(f"ws {total.get('ws_open', 0)}/{a.ws} ({events_s:.0f} ev/s)")
        if a.webrtc:
            parts.append(f"rtc {total.get('rtc_media', 0)}/{a.webrtc}")
        if a.hls:
            parts.append(
                f"hls {total.get('hls_playing', 0)}/{a.hls} ({requests_s:.0f} req/s, "
                f"{total.get('hls_stalls', 0)} stalls)"
            )
        if self.reactor is not None:
            parts.append(f"reactions {len(self.reactor.sent)}")
            errors += sum(self.reactor.errors.values())
        parts.append(f"errors {errors}")
        parts.append(f"client cpu {clients_pct:.0f}%")
        lag_ms = max((w.progress.get("lag_ms", 0) for w in workers), default=0)
        if lag_ms >= LAG_WARNING_MS:
            parts.append(f"client loop lag {lag_ms} ms")
        if self.cpu.latest_pct:
            parts.append(
                "cpu " + " ".join(f"{pid}:{pct:.0f}%" for pid, pct in self.cpu.latest_pct.items())
            )
        if not self.args.quiet:
            self.out(" | ".join(parts))


def _merged_lag(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged = Histogram()
    for result in results:
        merged.merge(Histogram.from_json(result["lag_ms"]))
    return merged.summary()


async def _every_second(progress: Progress, phase: str, workers: list[Worker]) -> None:
    while True:
        progress.line(phase, workers)
        await asyncio.sleep(PROGRESS_EVERY_S)


@dataclass
class Setup:
    """What set-up made, filled in as it goes: a failure half-way still ends our Space."""

    space_id: str = ""
    host: Account | None = None
    speaker: Speaker | None = None
    ws_accounts: list[Account] = field(default_factory=list)
    rtc_accounts: list[Account] = field(default_factory=list)
    reactors: list[Account] = field(default_factory=list)


async def _set_up(
    args: argparse.Namespace, http: Client, out: Callable[[str], None], setup: Setup
) -> None:
    """The Space (ours or --space), the speaker, and the listeners' and reactors' accounts."""
    reactors_needed = math.ceil(args.reactions / REACTIONS_PER_USER_PER_S)
    extra_reactors = max(0, reactors_needed - args.ws)
    own_space = args.space is None
    listeners_needed = args.ws + args.webrtc + extra_reactors
    kept = await reusable_accounts(http, args.accounts_file, out) if args.accounts_file else []
    reused = kept[:listeners_needed]
    # The host and the speaker are always new: a host whose earlier run was cut short may
    # still have a live Space, and a host may have only one.
    total = listeners_needed - len(reused) + (2 if own_space else 0)
    started = time.monotonic()

    def signed_up(done: int) -> None:
        if not args.quiet and (done % 50 == 0 or done == total):
            rate = done / max(time.monotonic() - started, 1e-9)
            out(f"set-up: {done}/{total} accounts signed up ({rate:.0f}/s)")

    if reused:
        out(f"set-up: {len(reused)} accounts from {args.accounts_file}")
    created = await signup_many(http, total, args.password, args.signup_concurrency, signed_up)
    host = speaker_account = None
    if own_space:
        host, speaker_account, *created = created
    if args.accounts_file and created:
        save_accounts(args.accounts_file, created)
    accounts = reused + created
    if own_space:
        assert host is not None and speaker_account is not None
        space_id = await open_space(http, host, "Load test")
        setup.space_id, setup.host = space_id, host
        await bring_on_stage(http, host, speaker_account, space_id)
        out(f"set-up: Space {space_id} is live; the speaker publishes a click every 2 s")
    else:
        space_id = setup.space_id = args.space
        if accounts:
            await check_live(http, space_id, accounts[0].token)
    ws_accounts = accounts[: args.ws]
    rtc_accounts = accounts[args.ws : args.ws + args.webrtc]
    extra = accounts[args.ws + args.webrtc :]
    for account in extra:
        joined = await http.request("POST", f"/api/v1/spaces/{space_id}/join", token=account.token)
        expect(joined, 200, "reactor join")
    # Every listener takes turns: the more reactors, the longer before one (user, emoji)
    # pair comes back, and the less a lost reaction could be mistaken for a later one.
    setup.ws_accounts, setup.rtc_accounts = ws_accounts, rtc_accounts
    setup.reactors = ws_accounts + extra if args.reactions else []
    if own_space:
        assert speaker_account is not None
        speaker = setup.speaker = Speaker()
        await speaker.publish(http, speaker_account, space_id)
        deadline = time.monotonic() + FIRST_CLICK_WAIT_S
        while not speaker.clicks:
            if time.monotonic() > deadline:
                raise SetupError("the speaker sent no audio (WebRTC did not connect)")
            await asyncio.sleep(0.1)
    if args.hls:
        await _wait_for_playlist(http, space_id)


async def _wait_for_playlist(http: Client, space_id: str) -> None:
    deadline = time.monotonic() + PLAYLIST_WAIT_S
    path = f"/spaces/{space_id}/hls/index.m3u8"
    while True:
        response = await http.request("GET", path)
        # Players start three segments behind the live edge: with fewer in a Space that just
        # went live, their buffer would be short and they would stall for that reason alone.
        if response.status == 200 and response.body.count(b".ts") >= LIVE_EDGE_SEGMENTS:
            return
        if time.monotonic() > deadline:
            raise SetupError(
                f"no HLS playlist with {LIVE_EDGE_SEGMENTS} segments at {path} "
                f"(HTTP {response.status})"
            )
        await asyncio.sleep(0.5)


async def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> dict[str, Any]:
    http = Client(args.url, connections=max(4, args.signup_concurrency))
    cpu = CpuSampler(args.server_pid)
    cpu.start()
    log_offsets = origin_log.sizes(args.origin_access_log)
    workers: list[Worker] = []
    setup = Setup()
    try:
        await _set_up(args, http, out, setup)
        space_id = setup.space_id
        specs = split(args, space_id, setup.ws_accounts, setup.rtc_accounts)
        workers = [await Worker.start(spec) for spec in specs]
        progress = Progress(args, cpu, out)
        ticker = asyncio.create_task(_every_second(progress, "joining", workers))
        joins_s = (args.ws + args.webrtc) / args.join_rate
        await asyncio.wait_for(
            asyncio.gather(*(worker.ready for worker in workers)), joins_s + READY_SLACK_S
        )
        ticker.cancel()
        cpu.start()  # server CPU over the measured window only
        reactor = Reactor(http, space_id, setup.reactors)
        progress.reactor = reactor
        for worker in workers:
            await worker.send("go")
        window_start = time.monotonic()
        drops_before = udp_receive_drops()
        ticker = asyncio.create_task(_every_second(progress, "measure", workers))
        await reactor.run(args.reactions, window_start + args.duration)
        await asyncio.sleep(max(0.0, window_start + args.duration - time.monotonic()))
        window_end = time.monotonic()
        drops_after = udp_receive_drops()
        for worker in workers:
            await worker.send("end")
        cpu.sample()
        server_cpu = cpu.result()
        await reactor.drain()
        await asyncio.sleep(DRAIN_S)
        ticker.cancel()
        for worker in workers:
            await worker.send("stop")
        results = await asyncio.wait_for(
            asyncio.gather(*(worker.result for worker in workers)), RESULT_TIMEOUT_S
        )
    finally:
        for worker in workers:
            await worker.stop()
        if setup.speaker is not None:
            await setup.speaker.close()
        if setup.host is not None and setup.space_id and not args.keep_space:
            with contextlib.suppress(Exception):
                await end_space(http, setup.host, setup.space_id)
        http.close()
    origin = origin_log.count_since(log_offsets) if args.origin_access_log else None
    speaker = setup.speaker
    clicks = speaker.clicks_between(window_start, window_end) if speaker is not None else []
    frames = [frame for r in results for frame in r["ws"]["reaction_frames"]]
    reacted = latency_ms(reactor.sent, frames)
    summary: dict[str, Any] = {
        "settings": {
            key: getattr(args, key)
            for key in ("url", "ws", "webrtc", "hls", "reactions", "duration", "procs")
        },
        "space_id": space_id,
        "window_s": window_end - window_start,
        "ws": merge_ws([r["ws"] for r in results]),
        "reactions": {
            "sent": len(reactor.sent),
            "rate_per_s": len(reactor.sent) / max(window_end - window_start, 1e-9),
            "reactors": len(setup.reactors),
            "accepted": reacted["accepted"],
            "undelivered": reacted["undelivered"],
            "errors": dict(reactor.errors),
            "latency_ms": summarize(reacted["latencies"]),
        },
        "webrtc": {
            **merge_rtc([r["rtc"] for r in results], clicks),
            "udp_receive_drops": None
            if drops_before is None or drops_after is None
            else drops_after - drops_before,
        },
        "hls": merge_hls([r["hls"] for r in results], (window_start, window_end), origin),
        "server_cpu": server_cpu,
        "client_cpu_s": [r["cpu_s"] for r in results],
        "client_loop_lag_ms": _merged_lag(results),
    }
    summary["errors"] = all_errors(summary)
    return summary
