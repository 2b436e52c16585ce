"""`townhall loadtest` against a real server: every client joins and the numbers are there."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import LiveServer, make_settings, serve_in_thread
from tests.integration.spaces.space_helpers import get_space, open_space

SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_in_thread(make_settings(tmp_path_factory.mktemp("loadtest-server")))


def loadtest(server: LiveServer, tmp_path: Path, *options: str) -> tuple[int, str, dict[str, Any]]:
    output = tmp_path / "results.json"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "townhall",
            "loadtest",
            "--url",
            server.url,
            "--json",
            str(output),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    summary: dict[str, Any] = json.loads(output.read_text()) if output.exists() else {}
    return result.returncode, result.stdout + result.stderr, summary


def test_a_small_run_joins_everyone_and_measures_every_kind(
    server: LiveServer, tmp_path: Path
) -> None:
    code, output, summary = loadtest(
        server,
        tmp_path,
        *("--ws", "5", "--webrtc", "2", "--hls", "5", "--reactions", "5", "--duration", "5"),
        *("--server-pid", str(os.getpid())),
    )
    assert code == 0, output
    assert summary["errors"] == {}, output
    ws, rtc, hls, reactions = (
        summary["ws"],
        summary["webrtc"],
        summary["hls"],
        summary["reactions"],
    )
    assert (ws["listeners"], ws["connected"], ws["join_ms"]["count"]) == (5, 5, 5)
    assert reactions["sent"] >= 20 and reactions["accepted"] == reactions["sent"]
    assert reactions["undelivered"] == 0
    # Every accepted reaction reached all five sockets.
    assert reactions["latency_ms"]["count"] == 5 * reactions["accepted"]
    assert 0 < reactions["latency_ms"]["p50"] < 1000
    assert (rtc["listeners"], rtc["with_media"]) == (2, 2)
    # Loose: the server, the clients and other people's work share two cores.
    assert rtc["loss_pct"] is not None and rtc["loss_pct"] < 15
    assert rtc["mouth_to_ear_ms"]["count"] >= 2, "both probes heard the clicks"
    assert 0 < rtc["mouth_to_ear_ms"]["p50"] < 1000
    assert (hls["players"], hls["playing"]) == (5, 5)
    assert hls["segment_fetches"] >= 5 * 5, "each player fetched each new segment"
    assert hls["playlist_fetches"] >= 5 * 4
    assert hls["segments_in_window"] >= 1
    assert hls["client_fetches_per_segment"]["min"] == 5
    assert summary["server_cpu"][str(os.getpid())]["mean_pct"] > 0
    for heading in ("WebSocket 5", "WebRTC 2", "HLS 5", "event latency", "mouth-to-ear"):
        assert heading in output


def test_an_existing_space_is_listened_to_without_a_speaker_of_our_own(
    server: LiveServer, tmp_path: Path
) -> None:
    host = server.signup()
    space = open_space(host)
    code, output, summary = loadtest(
        server,
        tmp_path,
        *("--space", space["id"], "--ws", "3", "--webrtc", "0", "--hls", "0"),
        *("--reactions", "4", "--duration", "2"),
    )
    assert code == 0, output
    assert summary["space_id"] == space["id"]
    assert summary["ws"]["connected"] == 3
    assert summary["reactions"]["latency_ms"]["count"] == 3 * summary["reactions"]["accepted"]
    assert summary["webrtc"]["mouth_to_ear_ms"] is None
    assert get_space(host, space["id"])["state"] == "live", "not ours to end"


def test_an_accounts_file_saves_listener_accounts_for_the_next_run(
    server: LiveServer, tmp_path: Path
) -> None:
    saved = tmp_path / "accounts.jsonl"
    options = ("--ws", "2", "--webrtc", "0", "--hls", "0", "--reactions", "0", "--duration", "1")
    first_code, first, _ = loadtest(server, tmp_path, *options, "--accounts-file", str(saved))
    assert first_code == 0, first
    assert len(saved.read_text().splitlines()) == 2, "the listeners, not the host or speaker"
    code, second, summary = loadtest(server, tmp_path, *options, "--accounts-file", str(saved))
    assert code == 0, second
    assert "2 accounts from" in second
    assert "accounts signed up" in second and "2/2 accounts signed up" in second, "host, speaker"
    assert len(saved.read_text().splitlines()) == 2
    assert summary["ws"]["connected"] == 2


def test_a_deployment_that_is_not_there_fails_the_set_up(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "townhall", "loadtest", "--url", "http://127.0.0.1:9", "--ws", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert result.returncode == 2
    assert "set-up failed" in result.stderr
