"""A server killed in the middle of a recording: started again, the recording is closed,
playable up to the kill (at most one segment lost), and goes on until the Space ends."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from tests.harness import TEST_PASSWORD, TEST_RATE_LIMIT_ENV
from tests.media.peers import SAMPLE_RATE, ToneTrack, connect
from tests.media.test_recording import decode, loud_fraction, rms_windows

SEGMENT_S = 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def townhall_serve(data_dir: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`townhall serve` in its own process, so it can be killed like a real one."""
    env = {
        **os.environ,
        "TOWNHALL_PASSWORD_TIME_COST": "1",
        "TOWNHALL_PASSWORD_MEMORY_KIB": "1024",
        **TEST_RATE_LIMIT_ENV,
    }
    log = (data_dir / f"server-{time.monotonic_ns()}.log").open("wb")
    command = [sys.executable, "-m", "townhall", "serve", "--quiet", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server died at start-up"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)
        log.close()


def test_a_recording_survives_kill_9_up_to_the_last_segment(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with townhall_serve(tmp_path, port) as first:
        signup = httpx.post(
            f"{url}/api/v1/auth/signup", json={"username": "crashhost", "password": TEST_PASSWORD}
        ).json()
        token = signup["token"]
        auth = {"Authorization": f"Bearer {token}"}
        space = httpx.post(
            f"{url}/api/v1/spaces", json={"title": "Crash", "recording": True}, headers=auth
        ).json()
        space_id = space["id"]
        opened_at = time.time()
        httpx.post(f"{url}/api/v1/spaces/{space_id}/participants/me/unmute", headers=auth)

        async def talk_then_get_killed() -> float:
            peer = await connect(url, token, space_id, "publish", ToneTrack())
            await asyncio.sleep(6.0)
            first.send_signal(signal.SIGKILL)
            killed_at = time.time() - opened_at
            first.wait(timeout=10)
            await peer.close()
            return killed_at

        killed_s = asyncio.run(talk_then_get_killed())

    with townhall_serve(tmp_path, port):
        restarted_at = time.time()
        # Closed at start-up: the stretch before the kill plays to its end.
        playlist = f"{url}/spaces/{space_id}/hls/recording.m3u8"
        text = httpx.get(playlist).text
        assert "#EXT-X-DISCONTINUITY" in text or text.count("#EXTINF") >= 4
        recording = httpx.get(f"{url}/api/v1/spaces/{space_id}/recording").json()
        assert recording["state"] == "recording"
        before_kill_s = recording["duration_s"]
        assert killed_s - SEGMENT_S - 0.3 <= before_kill_s <= killed_s + 0.3, (
            before_kill_s,
            killed_s,
        )
        heard = decode(playlist)
        assert len(heard) / SAMPLE_RATE >= killed_s - SEGMENT_S - 0.3
        rms = rms_windows(heard)
        assert loud_fraction(rms, 1.5, killed_s - SEGMENT_S - 0.3) > 0.9, "the tone is there"

        # The Space goes on after the restart and the host ends it: the recording is ready.
        time.sleep(2.0)
        assert httpx.post(f"{url}/api/v1/spaces/{space_id}/end", headers=auth).status_code == 200
        after_restart_s = time.time() - restarted_at
        deadline = time.monotonic() + 20
        while recording["state"] != "ready":
            assert time.monotonic() < deadline, recording
            time.sleep(0.2)
            recording = httpx.get(f"{url}/api/v1/spaces/{space_id}/recording").json()
        expected_s = killed_s + after_restart_s
        assert expected_s - SEGMENT_S - 0.8 <= recording["duration_s"] <= expected_s + 0.5
        download = httpx.get(url + recording["download_url"])
        (tmp_path / "after.m4a").write_bytes(download.content)
        samples = decode(tmp_path / "after.m4a")
        assert abs(len(samples) / SAMPLE_RATE - recording["duration_s"]) < 0.2
        rms = rms_windows(samples)
        assert loud_fraction(rms, 1.5, killed_s - SEGMENT_S - 0.3) > 0.9
        assert float(np.max(rms[int((before_kill_s + 0.5) / 0.1) :])) < 50, "silence after"
