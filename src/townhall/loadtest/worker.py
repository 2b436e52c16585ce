"""One client process of a load test: its share of WebSocket, WebRTC and HLS listeners.

Run by the load tester as `python -m townhall.loadtest.worker`. It reads its WorkerSpec
as the first line of stdin, then the commands `go` and `end` (the measured window) and `stop`;
it writes JSON lines to stdout: `progress` every second, `ready` once every client joined
(or gave up), and `result` at the end.
"""

import asyncio
import contextlib
import json
import resource
import sys
import time
from typing import Any

from townhall.loadtest.hls_listeners import HlsCrowd
from townhall.loadtest.http import Client
from townhall.loadtest.plan import WorkerSpec
from townhall.loadtest.rtc_listeners import RtcListeners
from townhall.loadtest.stats import Histogram
from townhall.loadtest.ws_listeners import WsListeners

PROGRESS_EVERY_S = 1.0
MEDIA_WAIT_S = 20.0
"""After joining, how long WebRTC listeners may take to get their first packet."""
HLS_WAIT_S = 15.0
API_CONNECTIONS = 8
LAG_PROBE_S = 0.05


def emit(event: str, **data: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **data}) + "\n")
    sys.stdout.flush()


async def watch_lag(lag: Histogram) -> None:
    """How late this process's event loop wakes up: when it is busy or starved of CPU, every
    latency it measures includes the delay."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(LAG_PROBE_S)
        lag.add((time.monotonic() - before - LAG_PROBE_S) * 1000)


async def read_command() -> str:
    line: str = await asyncio.to_thread(sys.stdin.readline)
    return line.strip()


async def run(spec: WorkerSpec) -> None:
    http = Client(spec.url, connections=API_CONNECTIONS)
    ws = WsListeners(spec.url, spec.space_id, spec.ws_accounts)
    rtc = RtcListeners(spec.url, spec.space_id, spec.rtc_accounts, spec.rtc_probes)
    playlist = f"/spaces/{spec.space_id}/hls/index.m3u8"
    hls = HlsCrowd(
        spec.url,
        playlist,
        spec.hls_count,
        spec.hls_first_index,
        spec.hls_total,
        spec.hls_connections,
    )

    def progress() -> dict[str, Any]:
        return {
            "ws_open": ws.open,
            "ws_frames": ws.received,
            "ws_errors": sum(ws.errors.values()) + sum(ws.closed_by_server.values()),
            "rtc_media": rtc.with_media,
            "rtc_errors": sum(rtc.errors.values()),
            "hls_playing": hls.playing,
            "hls_requests": hls.stats.playlist_fetches + hls.stats.segment_fetches,
            "hls_errors": sum(hls.stats.errors.values()),
            "hls_stalls": hls.stalls,
            "cpu_ms": round(time.process_time() * 1000),
            "lag_ms": round(lag.max_ms),
        }

    async def report_progress() -> None:
        while True:
            emit("progress", **progress())
            await asyncio.sleep(PROGRESS_EVERY_S)

    lag = Histogram()
    watcher = asyncio.create_task(watch_lag(lag))
    reporter = asyncio.create_task(report_progress())
    hls.start()
    # Both kinds join at once; their rates add up to this process's share of --join-rate.
    joiners = max(len(spec.ws_accounts) + len(spec.rtc_accounts), 1)
    await asyncio.gather(
        ws.join_all(http, spec.join_rate_per_s * max(len(spec.ws_accounts), 1) / joiners),
        rtc.join_all(http, spec.join_rate_per_s * max(len(spec.rtc_accounts), 1) / joiners),
    )
    deadline = time.monotonic() + MEDIA_WAIT_S
    while rtc.with_media + sum(rtc.errors.values()) < len(spec.rtc_accounts):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    deadline = time.monotonic() + HLS_WAIT_S
    while hls.playing < spec.hls_count and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    emit("ready", **progress())
    # An empty line is EOF: the load tester went away, so measure nothing and finish.
    while await read_command() not in ("go", ""):
        pass
    rtc.open_window()
    while await read_command() not in ("end", ""):
        pass
    rtc.close_window()
    # Frames of the last reactions may still be on their way: keep listening until `stop`.
    while await read_command() not in ("stop", ""):
        pass
    reporter.cancel()
    watcher.cancel()
    await hls.stop()
    await ws.close_all()
    await rtc.close_all()
    http.close()
    emit(
        "result",
        ws=ws.result(),
        rtc=rtc.result(),
        hls=hls.result(),
        cpu_s=time.process_time(),
        lag_ms=lag.to_json(),
    )


def raise_fd_limit() -> None:
    """Thousands of sockets need more than the usual 1024 descriptors; take what is allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    raise_fd_limit()
    spec = WorkerSpec.from_json(json.loads(sys.stdin.readline()))
    try:
        import uvloop
    except ImportError:
        asyncio.run(run(spec))
    else:
        uvloop.run(run(spec))


if __name__ == "__main__":
    main()
