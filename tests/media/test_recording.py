"""Recording a live Space: the recording lasts as long as the Space, holds the speech where
it was spoken, lines its replay events up with the audio, and clips the last 30 s."""

import asyncio
import fractions
import time
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
from aiortc.mediastreams import MediaStreamTrack

from tests.harness import LiveServer
from tests.integration.spaces.space_helpers import bring_on_stage, call, open_space
from tests.media.peers import FRAME, SAMPLE_RATE, connect
from tests.media.speech import make_speech, read_wav

WINDOW_S = 0.1
LOUD_RMS = 300.0


def decode(source: str | Path) -> np.ndarray:
    """Any audio PyAV reads, as 48 kHz mono float samples in int16 units."""
    container = av.open(str(source))
    to_s16 = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks = [
        resampled.to_ndarray().reshape(-1)
        for frame in container.decode(audio=0)
        for resampled in to_s16.resample(frame)
    ]
    container.close()
    return np.concatenate(chunks).astype(np.float64)


def rms_windows(samples: np.ndarray) -> np.ndarray:
    size = int(SAMPLE_RATE * WINDOW_S)
    count = len(samples) // size
    frames = samples[: count * size].reshape(count, size)
    return np.asarray(np.sqrt(np.mean(frames**2, axis=1)))


def loud_fraction(rms: np.ndarray, start_s: float, end_s: float) -> float:
    part = rms[int(start_s / WINDOW_S) : int(end_s / WINDOW_S)]
    return float(np.mean(part > LOUD_RMS)) if len(part) else 0.0


def first_loud_s(rms: np.ndarray, after_s: float = 0.0) -> float:
    start = int(after_s / WINDOW_S)
    index = start + int(np.argmax(rms[start:] > LOUD_RMS))
    return index * WINDOW_S


class SpeechAt(MediaStreamTrack):
    """A microphone that says `speech` at `at_s` seconds after the wall-clock time `zero`,
    however long the connection took to come up, and is silent otherwise."""

    kind = "audio"

    def __init__(self, speech: np.ndarray, zero: float, at_s: float) -> None:
        super().__init__()
        self._samples = np.concatenate(
            [np.zeros(int(at_s * SAMPLE_RATE), dtype=np.int16), speech.astype(np.int16)]
        )
        self._zero = zero
        self._first: int | None = None
        self._index = 0
        self._start = 0.0

    async def recv(self) -> av.AudioFrame:
        if self._first is None:
            self._start = time.monotonic()
            self._first = self._index = int((time.time() - self._zero) * SAMPLE_RATE)
        due = self._start + (self._index - self._first) / SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        chunk = self._samples[max(0, self._index) : max(0, self._index + FRAME)]
        if len(chunk) < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), dtype=np.int16)])
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._index - self._first
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._index += FRAME
        return frame


def wait_for_state(server: LiveServer, space_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        body: dict[str, Any] = httpx.get(f"{server.url}/api/v1/spaces/{space_id}/recording").json()
        if body.get("state") == state:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


A_STARTS_S = 1.0
B_STARTS_S = 20.0
CLIP_AT_S = 35.0
REACTION_AT_S = 12.0


def test_a_recorded_space_keeps_its_speech_in_time_with_its_replay_events_and_clips(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    speech_a = read_wav(make_speech(tmp_path, "Good evening and welcome.", "a"))
    speech_b = read_wav(make_speech(tmp_path, "Thank you, glad to be here.", "b"))
    host, guest = sqlite_server.signup(), sqlite_server.signup()
    opened_at = time.time()
    space = open_space(host, recording=True)
    opened_at = (opened_at + time.time()) / 2
    space_id = space["id"]
    bring_on_stage(host, guest, space_id)
    for person in (host, guest):
        call(person, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")
    moments: dict[str, float] = {}

    async def scenario() -> dict[str, Any]:
        # Both connect now; their "microphones" hold silence until their turn to talk.
        a = await connect(
            sqlite_server.url,
            host.token,
            space_id,
            "publish",
            SpeechAt(speech_a, opened_at, A_STARTS_S),
        )
        b = await connect(
            sqlite_server.url,
            guest.token,
            space_id,
            "publish",
            SpeechAt(speech_b, opened_at, B_STARTS_S),
        )
        try:
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                await asyncio.sleep(REACTION_AT_S - (time.time() - opened_at))
                sent = time.time()
                reacted = await client.post(
                    f"/api/v1/spaces/{space_id}/reactions",
                    json={"emoji": "🔥"},
                    headers={"Authorization": f"Bearer {guest.token}"},
                )
                moments["reaction"] = (sent + time.time()) / 2 - opened_at
                assert reacted.status_code == 202
                await asyncio.sleep(CLIP_AT_S - (time.time() - opened_at))
                clipped = await client.post(
                    f"/api/v1/spaces/{space_id}/clips",
                    json={},
                    headers={"Authorization": f"Bearer {guest.token}"},
                )
                assert clipped.status_code == 201, clipped.text
                clip: dict[str, Any] = clipped.json()
                return clip
        finally:
            await a.close()
            await b.close()

    clip = asyncio.run(scenario())
    ended = call(host, "POST", f"/api/v1/spaces/{space_id}/end")
    assert ended.status_code == 200
    wall_s = time.time() - opened_at

    recording = wait_for_state(sqlite_server, space_id, "ready")
    assert abs(recording["duration_s"] - wall_s) < 0.5, (recording["duration_s"], wall_s)

    download = httpx.get(sqlite_server.url + recording["download_url"])
    assert download.status_code == 200 and download.headers["content-type"] == "audio/mp4"
    (tmp_path / "recording.m4a").write_bytes(download.content)
    samples = decode(tmp_path / "recording.m4a")
    assert abs(len(samples) / SAMPLE_RATE - recording["duration_s"]) < 0.2
    rms = rms_windows(samples)
    a_len_s, b_len_s = len(speech_a) / SAMPLE_RATE, len(speech_b) / SAMPLE_RATE
    assert loud_fraction(rms, A_STARTS_S + 0.3, A_STARTS_S + a_len_s - 0.3) > 0.5
    assert loud_fraction(rms, B_STARTS_S + 0.3, B_STARTS_S + b_len_s - 0.3) > 0.5
    assert loud_fraction(rms, A_STARTS_S + a_len_s + 1.5, B_STARTS_S - 1.0) == 0.0
    a_heard_s = first_loud_s(rms)
    b_heard_s = first_loud_s(rms, B_STARTS_S - 1.0)
    assert abs(a_heard_s - A_STARTS_S) < 0.5 and abs(b_heard_s - B_STARTS_S) < 0.5

    events = httpx.get(f"{sqlite_server.url}/api/v1/spaces/{space_id}/replay-events").json()["data"]
    turns = [e for e in events if e["type"] == "speaker"]
    a_turn = next(e for e in turns if e["data"]["user_id"] == host.id)
    b_turn = next(e for e in turns if e["data"]["user_id"] == guest.id)
    assert abs(a_turn["offset_ms"] / 1000 - a_heard_s) < 0.25, (a_turn, a_heard_s)
    assert abs(b_turn["offset_ms"] / 1000 - b_heard_s) < 0.25, (b_turn, b_heard_s)
    reaction = next(e for e in events if e["type"] == "reaction")
    assert reaction["data"] == {"user_id": guest.id, "emoji": "🔥"}
    assert abs(reaction["offset_ms"] / 1000 - moments["reaction"]) < 0.25

    # The clip: the last 30 s before it was asked for, B's words in it and A's not.
    clip_audio = httpx.get(sqlite_server.url + clip["url"])
    assert clip_audio.status_code == 200
    (tmp_path / "clip.m4a").write_bytes(clip_audio.content)
    clip_samples = decode(tmp_path / "clip.m4a")
    assert abs(len(clip_samples) / SAMPLE_RATE - 30.0) < 0.2
    assert abs(clip["start_offset_ms"] / 1000 - (CLIP_AT_S - 30.0)) < 1.5
    clip_rms = rms_windows(clip_samples)
    b_in_clip_s = b_heard_s - clip["start_offset_ms"] / 1000
    assert abs(first_loud_s(clip_rms) - b_in_clip_s) < 0.25
    post = call(guest, "GET", f"/api/v1/posts/{clip['post_id']}").json()
    assert clip["url"] in post["text"] and post["space_id"] == space_id
