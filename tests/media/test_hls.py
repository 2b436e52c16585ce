"""The mix as HLS: a live playlist while speaking, a finished one that decodes after the end."""

import asyncio
import io
import shutil
import subprocess
import time
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from tests.harness import LiveServer
from tests.integration.spaces.space_helpers import call, open_space
from tests.media.peers import WavTrack, connect
from tests.media.speech import make_speech, read_wav
from townhall.media.hls import HlsWriter
from townhall.media.mixer import FRAME_SAMPLES, SAMPLE_RATE_HZ


def decode_with_pyav(playlist_url: str) -> np.ndarray:
    container = av.open(playlist_url)
    to_s16 = av.AudioResampler(format="s16", layout="mono", rate=48_000)
    chunks = [
        resampled.to_ndarray().reshape(-1)
        for frame in container.decode(audio=0)
        for resampled in to_s16.resample(frame)
    ]
    container.close()
    return np.concatenate(chunks).astype(np.float64)


def test_hls_carries_the_speech_and_ends_as_a_playable_playlist(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    speech = read_wav(
        make_speech(tmp_path, "Welcome to the Townhall space. Testing one two three.")
    )
    host = sqlite_server.signup()
    space = open_space(host)
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")
    playlist = f"{sqlite_server.url}/spaces/{space['id']}/hls/index.m3u8"

    async def scenario() -> None:
        speaker = await connect(
            sqlite_server.url, host.token, space["id"], "publish", WavTrack(speech)
        )
        try:
            await asyncio.sleep(len(speech) / 48_000 + 2.0)
            async with httpx.AsyncClient() as client:
                live = await client.get(playlist)
                assert live.status_code == 200
                assert live.headers["cache-control"] == "public, max-age=1"
                assert "#EXT-X-ENDLIST" not in live.text
                segment = next(line for line in live.text.splitlines() if line.endswith(".ts"))
                first = await client.get(f"{sqlite_server.url}/spaces/{space['id']}/hls/{segment}")
                assert first.status_code == 200 and "immutable" in first.headers["cache-control"]
        finally:
            await speaker.close()

    asyncio.run(scenario())
    call(host, "POST", f"/api/v1/spaces/{space['id']}/end")
    deadline = time.monotonic() + 10
    while "#EXT-X-ENDLIST" not in httpx.get(playlist).text:
        assert time.monotonic() < deadline, "the playlist was never finished"
        time.sleep(0.1)
    assert "max-age=3600" in httpx.get(playlist).headers["cache-control"]

    decoded = decode_with_pyav(playlist)
    seconds = len(decoded) / 48_000
    assert seconds >= len(speech) / 48_000
    window = 48_000 // 10
    rms = [
        float(np.sqrt(np.mean(decoded[i : i + window] ** 2)))
        for i in range(0, len(decoded) - window, window)
    ]
    loud = [value for value in rms if value > 500]
    quiet = [value for value in rms if value < 50]
    assert len(loud) >= 10, "the speech is in the stream"
    assert quiet, "and so is the silence around it"

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.fail("ffmpeg is missing: make test installs it (scripts/install-system-deps)")
    result = subprocess.run(
        [ffmpeg, "-v", "error", "-i", playlist, "-f", "s16le", "-ac", "1", "-ar", "48000", "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    from_ffmpeg = np.frombuffer(io.BytesIO(result.stdout).getvalue(), dtype=np.int16)
    assert abs(len(from_ffmpeg) - len(decoded)) < 48_000


def test_hls_files_outside_the_pattern_are_404(sqlite_server: LiveServer) -> None:
    for path in (
        "/spaces/1/hls/index.m3u8",
        "/spaces/1/hls/../../etc/passwd",
        "/spaces/x/hls/index.m3u8",
        "/spaces/1/hls/seg1.ts",
    ):
        assert httpx.get(sqlite_server.url + path).status_code == 404


WINDOW_SEGMENTS = 3
WRITTEN_S = 8
"""400 frames: fewer than the writer's queue holds, so none is dropped however fast."""


def listed_segments(writer: HlsWriter, seconds: int) -> list[str]:
    """Writes `seconds` of a tone through `writer`, closes it, returns the playlist's segments."""
    t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE_HZ
    tone = (3000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    for _ in range(seconds * SAMPLE_RATE_HZ // FRAME_SAMPLES):
        writer.push(tone)
    writer.close()
    assert writer.dropped_frames == 0
    text = writer.playlist.read_text()
    assert "#EXT-X-ENDLIST" in text
    return [line for line in text.splitlines() if line.endswith(".ts")]


def test_a_room_not_recorded_lists_and_keeps_only_its_last_segments(tmp_path: Path) -> None:
    # FFmpeg's muxer keeps memory for every listed segment: an unbounded list grew the
    # server for as long as the room was open (bench/results/soak_memory.md).
    writer = HlsWriter(tmp_path / "1", live_window_segments=WINDOW_SEGMENTS)
    segments = listed_segments(writer, WRITTEN_S)
    assert len(segments) == WINDOW_SEGMENTS
    on_disk = sorted(path.name for path in (tmp_path / "1").glob("seg*.ts"))
    assert segments == on_disk[-WINDOW_SEGMENTS:]
    # and what left the list leaves the disk (FFmpeg keeps one more, in case a player is late)
    assert len(on_disk) <= WINDOW_SEGMENTS + 1


def test_a_recorded_room_lists_every_segment(tmp_path: Path) -> None:
    writer = HlsWriter(tmp_path / "1", record=True, live_window_segments=WINDOW_SEGMENTS)
    segments = listed_segments(writer, WRITTEN_S)
    assert len(segments) >= WRITTEN_S - 1
    assert segments == sorted(path.name for path in (tmp_path / "1").glob("seg*.ts"))
