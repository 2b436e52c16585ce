"""Recording benchmark: what recording costs a live Space, and how fast a long replay opens.

    .venv/bin/python bench/recording.py                 # both parts, about 3 minutes
    .venv/bin/python bench/recording.py --seconds 20 --rounds 2

1. CPU: one `townhall serve` (SQLite) in its own process; three aiortc speakers in this
   process send a tone that talks 2 s and pauses 1 s (so `speaking` events come and go).
   The same host opens a Space without recording, then one with recording, `--rounds` times
   in turn; each is measured for `--seconds` after a warm-up. Server CPU is utime+stime of
   its process from /proc, as % of one core. HLS is written either way (listeners past the
   WebRTC cap and logged-out visitors use it): recording adds the `.m4a` copy of the AAC
   packets, the stored reactions and `speaking` moments, and the finishing remux.
2. Replay of one hour: a recorded Space is made and ended through the API, then, server
   stopped, its files are replaced by a synthesized one-hour recording (a 10 s AAC encode
   repeated 360 times into the `.m4a`, no waiting an hour; 3,600 playlist entries, hard
   links of one segment) and its database rows by an hour's worth of moments (three
   speakers' `speaking` at 5/s in turns, 2,000 reactions). Started again, headless
   Chromium (Debian, as the e2e tests) opens `/s/{id}` logged out: *open* is navigation
   to the replay ready to play (metadata loaded, events fetched and drawn), *seek* is
   setting currentTime to 45:00 until the audio plays there again.
"""

import argparse
import asyncio
import fractions
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import httpx
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from bench.harness import cpu_seconds, log, machine_info, running_server
from townhall.media.recording import DOWNLOAD_NAME, remux_aac

CHEAP_PASSWORDS = {"TOWNHALL_PASSWORD_TIME_COST": "1", "TOWNHALL_PASSWORD_MEMORY_KIB": "1024"}
PASSWORD = "bench-password-1"
RATE = 48_000
FRAME = 960
HOUR_S = 3600
RESULTS = Path(__file__).resolve().parent / "results"


class TalkingTone(MediaStreamTrack):
    """A microphone that talks (a tone) for 2 s and pauses for 1 s, in real time."""

    kind = "audio"

    def __init__(self, frequency_hz: float) -> None:
        super().__init__()
        self._frequency_hz = frequency_hz
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._pts / RATE - time.monotonic()))
        t = (self._pts + np.arange(FRAME)) / RATE
        talking = (self._pts // RATE) % 3 != 2
        amplitude = 6000 if talking else 0
        samples = (amplitude * np.sin(2 * np.pi * self._frequency_hz * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += FRAME
        return frame


@dataclass
class People:
    host: str
    speakers: list[str]


def signup(http: httpx.Client, name: str) -> str:
    response = http.post("/api/v1/auth/signup", json={"username": name, "password": PASSWORD})
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def open_space(http: httpx.Client, people: People, recording: bool) -> str:
    host = {"Authorization": f"Bearer {people.host}"}
    body = {"title": "recording bench", "recording": recording}
    response = http.post("/api/v1/spaces", json=body, headers=host)
    response.raise_for_status()
    space_id: str = response.json()["id"]
    for token in people.speakers:
        me = {"Authorization": f"Bearer {token}"}
        http.post(f"/api/v1/spaces/{space_id}/join", headers=me).raise_for_status()
        http.post(f"/api/v1/spaces/{space_id}/speak-requests", headers=me).raise_for_status()
        user_id = http.get("/api/v1/me", headers=me).json()["id"]
        http.post(
            f"/api/v1/spaces/{space_id}/speak-requests/{user_id}/approve", headers=host
        ).raise_for_status()
    for token in [people.host, *people.speakers]:
        me = {"Authorization": f"Bearer {token}"}
        http.post(f"/api/v1/spaces/{space_id}/participants/me/unmute", headers=me)
    return space_id


async def publish(base_url: str, token: str, space_id: str, hz: float) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(TalkingTone(hz))
    await pc.setLocalDescription(await pc.createOffer())
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            f"/api/v1/spaces/{space_id}/rtc/publish",
            json={"sdp": pc.localDescription.sdp, "type": "offer"},
            headers={"Authorization": f"Bearer {token}"},
        )
    response.raise_for_status()
    body = response.json()
    await pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
    return pc


async def measure_space(
    base_url: str, pid: int, people: People, space_id: str, seconds: float
) -> float:
    tokens = [people.host, *people.speakers]
    pcs = [
        await publish(base_url, token, space_id, 300.0 + 110 * i) for i, token in enumerate(tokens)
    ]
    try:
        await asyncio.sleep(5.0)  # warm-up: ICE, DTLS, first segments
        cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(seconds)
        cpu_s = cpu_seconds(pid) - cpu_before
        return 100.0 * cpu_s / (time.monotonic() - wall_before)
    finally:
        for pc in pcs:
            await pc.close()


def wait_ready(http: httpx.Client, space_id: str) -> float:
    started = time.monotonic()
    while http.get(f"/api/v1/spaces/{space_id}/recording").json()["state"] != "ready":
        if time.monotonic() - started > 60:
            raise RuntimeError("the recording never became ready")
        time.sleep(0.05)
    return time.monotonic() - started


def cpu_part(work: Path, seconds: float, rounds: int) -> dict[str, Any]:
    results: dict[str, list[float]] = {"off": [], "on": []}
    finish_s: list[float] = []
    (work / "cpu").mkdir(parents=True)
    with running_server(work / "cpu", CHEAP_PASSWORDS, 4096) as server:
        pid = server.process.pid
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            people = People(
                signup(http, "benchhost"), [signup(http, f"benchsp{i}") for i in (1, 2)]
            )
            host = {"Authorization": f"Bearer {people.host}"}
            for round_index in range(rounds):
                for mode in ("off", "on"):
                    space_id = open_space(http, people, recording=mode == "on")
                    pct = asyncio.run(
                        measure_space(server.base_url, pid, people, space_id, seconds)
                    )
                    results[mode].append(pct)
                    log(f"round {round_index + 1}, recording {mode}: server {pct:.1f}% of a core")
                    http.post(f"/api/v1/spaces/{space_id}/end", headers=host).raise_for_status()
                    if mode == "on":
                        finish_s.append(wait_ready(http, space_id))
                    time.sleep(1.0)
    off, on = float(np.mean(results["off"])), float(np.mean(results["on"]))
    return {
        "seconds": seconds,
        "rounds": rounds,
        "off_pct": results["off"],
        "on_pct": results["on"],
        "mean_off_pct": round(off, 2),
        "mean_on_pct": round(on, 2),
        "added_pct_points": round(on - off, 2),
        "added_relative_pct": round(100 * (on - off) / off, 1) if off else None,
        "finish_after_end_s": [round(s, 2) for s in finish_s],
    }


def _encode(path: Path, pcm: np.ndarray, container_format: str) -> None:
    with av.open(str(path), "w", format=container_format) as out:
        stream = out.add_stream("aac", rate=RATE)
        stream.layout = "mono"
        stream.bit_rate = 64_000
        for start in range(0, len(pcm), FRAME):
            frame = av.AudioFrame.from_ndarray(
                pcm[start : start + FRAME].reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = RATE
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def synthesize_hour(directory: Path, started: datetime) -> None:
    """A one-hour recording from a 10 s encode, in the layout media/recording.py writes:
    the download is the server's own remux (`remux_aac`) of 360 copies."""
    for path in directory.iterdir():
        path.unlink()
    t = np.arange(10 * RATE) / RATE
    pcm = (5000 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.3 * t) > 0)).astype(np.int16)
    piece = directory / "piece.m4a"
    _encode(piece, pcm, "mp4")
    remux_aac([piece] * (HOUR_S // 10), directory / DOWNLOAD_NAME)
    piece.unlink()
    # The playlist: 3,600 one-second entries over links of one real segment.
    segment = directory / "seg1-00000.ts"
    _encode(segment, pcm[:RATE], "mpegts")
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:1", "#EXT-X-MEDIA-SEQUENCE:0"]
    for n in range(HOUR_S):
        if n:
            os.link(segment, directory / f"seg1-{n:05d}.ts")
        stamp = (started + timedelta(seconds=n)).isoformat(timespec="milliseconds")
        lines += ["#EXTINF:1.000000,", f"#EXT-X-PROGRAM-DATE-TIME:{stamp}", f"seg1-{n:05d}.ts"]
    lines.append("#EXT-X-ENDLIST")
    (directory / "index.m3u8").write_text("\n".join(lines) + "\n")


def fill_hour_of_moments(db: Path, space_id: int, user_ids: list[int], started: datetime) -> int:
    rows = []
    next_id = 1 << 50
    for second in range(HOUR_S):
        speaker = user_ids[(second // 20) % len(user_ids)]  # 20 s turns
        for fifth in range(5):
            at = started + timedelta(seconds=second + fifth / 5)
            data = json.dumps({"user_id": str(speaker), "level": -20.0})
            rows.append((next_id, space_id, "speaking", data, at))
            next_id += 1
    for n in range(2000):
        at = started + timedelta(seconds=n * HOUR_S / 2000)
        data = json.dumps({"user_id": str(user_ids[n % len(user_ids)]), "emoji": "🔥"})
        rows.append((next_id, space_id, "reaction", data, at))
        next_id += 1
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM space_moments WHERE space_id = ?", (space_id,))
        conn.executemany(
            "INSERT INTO space_moments (id, space_id, type, data, at) VALUES (?, ?, ?, ?, ?)",
            [(i, s, k, d, a.strftime("%Y-%m-%d %H:%M:%S.%f")) for i, s, k, d, a in rows],
        )
        conn.execute(
            "UPDATE recordings SET duration_ms = ?, state = 'ready' WHERE space_id = ?",
            (HOUR_S * 1000, space_id),
        )
    return len(rows)


OPEN_JS = """() => {
  const audio = document.querySelector("audio.replay-audio");
  return audio && audio.readyState >= 1 && document.querySelector(".replay-speaker") !== null;
}"""
SEEK_JS = """(target) => new Promise((resolve) => {
  const audio = document.querySelector("audio.replay-audio");
  const started = performance.now();
  const done = () => {
    if (audio.currentTime >= target && !audio.paused && audio.readyState >= 3) {
      resolve(performance.now() - started);
    } else {
      requestAnimationFrame(done);
    }
  };
  audio.currentTime = target;
  done();
})"""


def replay_part(work: Path, repeats: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    data_dir = work / "replay"
    data_dir.mkdir(parents=True)
    with (
        running_server(data_dir, CHEAP_PASSWORDS, 4096) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        people = People(signup(http, "replayhost"), [signup(http, f"replaysp{i}") for i in (1, 2)])
        space_id = open_space(http, people, recording=True)
        time.sleep(2.0)
        host = {"Authorization": f"Bearer {people.host}"}
        http.post(f"/api/v1/spaces/{space_id}/end", headers=host).raise_for_status()
        wait_ready(http, space_id)
        user_ids = [
            int(http.get("/api/v1/me", headers={"Authorization": f"Bearer {t}"}).json()["id"])
            for t in [people.host, *people.speakers]
        ]
        started = datetime.fromisoformat(
            http.get(f"/api/v1/spaces/{space_id}").json()["started_at"]
        )
    log("synthesizing a one-hour recording")
    synthesize_hour(data_dir / "hls" / space_id, started)
    moments = fill_hour_of_moments(data_dir / "townhall.db", int(space_id), user_ids, started)
    size_mb = (data_dir / "hls" / space_id / "recording.m4a").stat().st_size / 1e6
    opens: list[float] = []
    seeks: list[float] = []
    api_ms: list[float] = []
    events_bytes = 0
    with running_server(data_dir, CHEAP_PASSWORDS, 4096) as server:
        for _ in range(repeats):
            t0 = time.perf_counter()
            events = httpx.get(f"{server.base_url}/api/v1/spaces/{space_id}/replay-events")
            api_ms.append(1000 * (time.perf_counter() - t0))
            events_bytes = len(events.content)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            )
            for _ in range(repeats):
                context = browser.new_context()
                page = context.new_page()
                t0 = time.perf_counter()
                page.goto(f"{server.base_url}/s/{space_id}")
                page.wait_for_function(OPEN_JS, timeout=30_000, polling=10)
                opens.append(1000 * (time.perf_counter() - t0))
                page.evaluate("() => document.querySelector('audio.replay-audio').play()")
                page.wait_for_function(
                    "() => document.querySelector('audio.replay-audio').currentTime > 0.3"
                )
                seeks.append(float(page.evaluate(SEEK_JS, 45 * 60)))
                context.close()
            browser.close()
    return {
        "download_mb": round(size_mb, 1),
        "moments": moments,
        "replay_events_bytes": events_bytes,
        "replay_events_ms": [round(v) for v in api_ms],
        "open_ms": [round(v) for v in opens],
        "seek_ms": [round(v) for v in seeks],
    }


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def writer_part(audio_s: float, rounds: int) -> dict[str, Any]:
    """The writer alone: CPU per second of audio of HLS, with and without the `.m4a` copy.

    The frames go in as fast as the writer thread takes them, so this is its cost without
    the rest of a live Space around it (noise of a busy machine matters much less here)."""
    from townhall.media.hls import HlsWriter

    t = np.arange(int(audio_s * RATE)) / RATE
    pcm = (5000 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.3 * t) > 0)).astype(np.int16)
    frames = [pcm[i : i + FRAME] for i in range(0, len(pcm) - FRAME + 1, FRAME)]
    results: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        for mode in ("off", "on"):
            with tempfile.TemporaryDirectory() as directory:
                before = time.process_time()
                writer = HlsWriter(Path(directory), record=mode == "on")
                for frame in frames:
                    # Bench only: wait for room in the writer's queue rather than drop frames.
                    while writer._queue.qsize() > 400:
                        time.sleep(0.002)
                    writer.push(frame)
                writer.close()
                cpu_s = time.process_time() - before
            results[mode].append(100.0 * cpu_s / audio_s)
            log(f"writer, recording {mode}: {results[mode][-1]:.2f}% of a core in real time")
    off, on = float(np.median(results["off"])), float(np.median(results["on"]))
    return {
        "audio_s": audio_s,
        "off_pct": [round(v, 3) for v in results["off"]],
        "on_pct": [round(v, 3) for v in results["on"]],
        "median_off_pct": round(off, 3),
        "median_on_pct": round(on, 3),
        "added_pct_points": round(on - off, 3),
    }


def runs(values: list[int]) -> str:
    return ", ".join(str(v) for v in values)


def _when(part: dict[str, Any]) -> list[str]:
    loads = " / ".join(f"`{load}`" for load in part["loads"])
    return [f"`{part['command']}`, {part['date']}; load (`uptime`) before / after: {loads}", ""]


def write_report(parts: dict[str, Any]) -> None:
    info = machine_info()
    lines = [
        "# Recording benchmark",
        "",
        f"Machine: {info['cpu_model']}, {info['nproc']} cores, Python {info['python']}. "
        "See bench/recording.py for what each part does.",
        "",
        "Each part gives `uptime` before and after it: read its absolute CPU shares and",
        "latencies against the load of the machine then (two cores, shared with whatever",
        "else ran); the live-Space CPU difference is compared with the spread between rounds.",
        "",
    ]
    cpu, writer, replay = parts.get("cpu"), parts.get("writer"), parts.get("replay")
    if cpu:
        lines += [
            "## CPU of a live Space with 3 speakers (server process, % of one core)",
            "",
            *_when(cpu),
            "| recording | per round | mean |",
            "|---|---|---|",
            f"| off | {', '.join(f'{v:.1f}' for v in cpu['off_pct'])} | {cpu['mean_off_pct']} |",
            f"| on | {', '.join(f'{v:.1f}' for v in cpu['on_pct'])} | {cpu['mean_on_pct']} |",
            "",
            f"Mean difference {cpu['added_pct_points']} points of a core "
            f"({cpu['added_relative_pct']}%), smaller than the spread between rounds of the "
            f"same mode: recording's cost does not show at this resolution. "
            f"{cpu['seconds']:.0f} s measured per Space after 5 s of warm-up, "
            f"{cpu['rounds']} rounds. The recording was ready "
            f"{', '.join(str(s) for s in cpu['finish_after_end_s'])} s after the end.",
            "",
        ]
    if writer:
        lines += [
            "## The writer alone (this process, % of one core per second of audio)",
            "",
            *_when(writer),
            "| recording | runs | median |",
            "|---|---|---|",
            f"| off (HLS only) | {', '.join(str(v) for v in writer['off_pct'])} "
            f"| {writer['median_off_pct']} |",
            f"| on (HLS + `.m4a`) | {', '.join(str(v) for v in writer['on_pct'])} "
            f"| {writer['median_on_pct']} |",
            "",
            f"The `.m4a` copy adds {writer['added_pct_points']} points of a core; against the "
            f"live Space above ({cpu['mean_off_pct'] if cpu else '?'}% of a core) that is "
            + (f"{100 * writer['added_pct_points'] / cpu['mean_off_pct']:.1f}%" if cpu else "?")
            + " (target: under 5%).",
            "",
        ]
    if replay:
        lines += [
            "## Replay of a one-hour Space (headless Chromium, logged out)",
            "",
            *_when(replay),
            "Synthesized, not recorded for an hour: see the module docstring.",
            f"Download {replay['download_mb']} MB; {replay['moments']} stored moments; "
            f"replay-events {replay['replay_events_bytes'] / 1000:.0f} kB in "
            f"{runs(replay['replay_events_ms'])} ms.",
            "",
            "| step | runs (ms) | target |",
            "|---|---|---|",
            f"| open `/s/{{id}}` until ready to play | {runs(replay['open_ms'])} | < 1000 |",
            f"| seek to 45:00 until playing there | {runs(replay['seek_ms'])} | < 1000 |",
            "",
            "*Open* includes loading the web client (its ES modules, no build step) from a",
            "fresh browser context.",
            "",
        ]
    lines += ["```json", json.dumps(parts, indent=2), "```", ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "recording.md").write_text("\n".join(lines))
    (RESULTS / "recording.json").write_text(json.dumps(parts, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured per Space")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs")
    parser.add_argument("--repeats", type=int, default=3, help="replay opens and seeks")
    parser.add_argument("--writer-audio-s", type=float, default=60.0)
    parser.add_argument(
        "--parts",
        default="cpu,writer,replay",
        help="which to run (comma separated); the others are kept from recording.json",
    )
    args = parser.parse_args()
    wanted = {part.strip() for part in args.parts.split(",")}
    command = "python bench/recording.py " + " ".join(sys.argv[1:])
    previous = RESULTS / "recording.json"
    parts: dict[str, Any] = json.loads(previous.read_text()) if previous.exists() else {}
    work = Path(tempfile.mkdtemp(prefix="townhall-recording-bench-"))
    try:
        for name in ("cpu", "writer", "replay"):
            if name not in wanted:
                continue
            loads = [uptime()]
            if name == "cpu":
                result = cpu_part(work, args.seconds, args.rounds)
            elif name == "writer":
                result = writer_part(args.writer_audio_s, args.rounds + 1)
            else:
                result = replay_part(work, args.repeats)
            loads.append(uptime())
            parts[name] = {
                **result,
                "command": command.strip(),
                "date": datetime.now().astimezone().isoformat(timespec="seconds"),
                "loads": loads,
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report(parts)
    print(json.dumps(parts, indent=2))


if __name__ == "__main__":
    main()
