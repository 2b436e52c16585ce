"""Live captions end to end: aiortc speakers send espeak-ng speech into a live Space with
captions on; a listener's WebSocket gets interim and final captions naming who spoke."""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.harness import LiveServer, make_settings, serve_in_thread
from tests.integration.spaces.space_helpers import bring_on_stage, call, join, open_space
from tests.media.peers import ToneTrack, WavTrack, connect, wait_until
from tests.media.speech import make_speech, read_wav
from tests.media.transcripts import word_error_rate

HOST_SAYS = "Welcome to the garden club. Tomatoes need sun and water every morning."
# Four of bench/captions.py's 20 fixed sentences, one of them among tiny.en's worst there
# ("The library opens at nine..."): a mixed set, not the easy ones.
HOST_SENTENCES = (
    "Please remember the meeting on Friday evening.",
    "The library opens at nine in the morning.",
)
GUEST_SENTENCES = (
    "The coffee shop on the corner sells fresh bread.",
    "Turn left at the bridge and follow the river.",
)
HOST_VOICE, GUEST_VOICE = None, "en-gb-x-rp"
"""Two espeak-ng voices: the default (en) and Received Pronunciation."""
CAPTION_WITHIN_S = 2.0
"""The issue's target: a final caption within 2 s of the end of each utterance."""
MAX_CORPUS_WER = 0.15
"""The issue's bound, over all the finals of both speakers. Decoding each utterance alone,
as captions did before, tiny.en got 0.15-0.18 on bench/captions.py's 20 sentences (the
raw espeak-ng files decoded directly as well); with the speaker's last finals as context
and the audio around the Endpointer's cut it gets 0.07-0.10 (bench/results/captions.md)."""
RATE = 48_000


def lead_in(samples: np.ndarray, seconds: float) -> np.ndarray:
    return np.concatenate([np.zeros(int(RATE * seconds), np.int16), samples])


@dataclass
class Utterance:
    text: str
    first_sample: int
    end_sample: int


def said_in_turn(
    folder: Path, name: str, voice: str | None, parts: list[tuple[float, str]]
) -> tuple[np.ndarray, list[Utterance]]:
    """Each sentence after its (seconds of silence); where each one starts and ends."""
    pieces: list[np.ndarray] = []
    utterances = []
    at = 0
    for n, (silence_s, text) in enumerate(parts):
        samples = read_wav(make_speech(folder, text, f"{name}{n}", voice))
        at += int(RATE * silence_s)
        pieces += [np.zeros(int(RATE * silence_s), np.int16), samples]
        utterances.append(Utterance(text, at, at + len(samples)))
        at += len(samples)
    return np.concatenate(pieces), utterances


async def collect_captions(
    server: LiveServer,
    token: str,
    space_id: str,
    into: list[Any],
    arrived: list[float] | None = None,
) -> None:
    url = server.url.replace("http://", "ws://") + f"/api/v1/spaces/{space_id}/events"
    async with ws_connect(f"{url}?token={token}") as ws:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "caption":
                into.append(frame)
                if arrived is not None:
                    arrived.append(time.time())


def test_two_voices_one_after_the_other_and_overlapping_get_accurate_captions_in_time(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    pool = sqlite_server.container.caption_pool
    assert pool is not None
    asyncio.run(pool.warm_up())  # the workers start in seconds; the speech should not wait
    host, guest, listener = sqlite_server.signup(), sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host, captions=True)
    space_id = space["id"]
    bring_on_stage(host, guest, space_id)
    join(listener, space_id)
    for account in (host, guest):
        call(account, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")
    host_speech, host_utterances = said_in_turn(
        tmp_path, "host", HOST_VOICE, [(1.0, HOST_SENTENCES[0]), (1.5, HOST_SENTENCES[1])]
    )
    # The guest's first sentence overlaps the host's first; their second comes after the
    # host has finished, alone.
    guest_first = read_wav(make_speech(tmp_path, GUEST_SENTENCES[0], "probe", GUEST_VOICE))
    gap_s = max(1.5, (len(host_speech) - int(RATE * 2.0) - len(guest_first)) / RATE + 1.0)
    guest_speech, guest_utterances = said_in_turn(
        tmp_path, "guest", GUEST_VOICE, [(2.0, GUEST_SENTENCES[0]), (gap_s, GUEST_SENTENCES[1])]
    )
    assert guest_utterances[0].first_sample < host_utterances[0].end_sample
    assert guest_utterances[1].first_sample > host_utterances[1].end_sample
    frames: list[dict[str, Any]] = []
    arrived: list[float] = []
    tracks = {host.id: WavTrack(host_speech), guest.id: WavTrack(guest_speech)}

    def finals_of(user_id: str) -> list[dict[str, Any]]:
        return [f for f in frames if f["data"]["final"] and f["data"]["user_id"] == user_id]

    async def scenario() -> None:
        watcher = asyncio.create_task(
            collect_captions(sqlite_server, listener.token, space_id, frames, arrived)
        )
        await asyncio.sleep(0.5)
        peers = [
            await connect(sqlite_server.url, account.token, space_id, "publish", tracks[account.id])
            for account in (host, guest)
        ]
        try:
            await wait_until(lambda: len(finals_of(guest.id)) >= 2, 60)
            await asyncio.sleep(1.5)  # any later piece of the same speech
        finally:
            for peer in peers:
                await peer.close()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    asyncio.run(scenario())
    started_at = call(listener, "GET", f"/api/v1/spaces/{space_id}").json()["started_at"]
    origin_s = datetime.fromisoformat(started_at).timestamp()  # captions' offsets count from it
    references, heard = [], []
    for account, utterances in ((host, host_utterances), (guest, guest_utterances)):
        mine = [
            (at, f)
            for at, f in zip(arrived, frames, strict=True)
            if f["data"]["user_id"] == account.id
        ]
        finals = [(at, f) for at, f in mine if f["data"]["final"]]
        references += [u.text for u in utterances]
        heard += [f["data"]["text"] for _, f in finals]
        # Final captions are state events (stored, with a seq); interims are ephemeral.
        assert all(isinstance(f["seq"], int) for _, f in finals)
        interims = [f for _, f in mine if not f["data"]["final"]]
        assert interims, mine
        assert all(f["seq"] is None for f in interims)
        start_wall = tracks[account.id].start_wall
        assert start_wall is not None
        for utterance in utterances:
            begins = start_wall + utterance.first_sample / RATE
            ends = start_wall + utterance.end_sample / RATE
            inside = [
                at
                for at, f in finals
                if begins - 0.5 <= origin_s + f["data"]["offset_ms"] / 1000 <= ends
            ]
            assert inside, (utterance, finals)
            assert max(inside) - ends < CAPTION_WITHIN_S, (utterance.text, max(inside) - ends)
    wer = word_error_rate(" ".join(references), " ".join(heard))
    assert wer < MAX_CORPUS_WER, (wer, references, heard)
    host_offset = finals_of(host.id)[0]["data"]["offset_ms"]
    guest_offset = finals_of(guest.id)[0]["data"]["offset_ms"]
    assert guest_offset - host_offset > 700, (host_offset, guest_offset)

    # The transcript keeps the finals, in order of when they were said.
    transcript = call(listener, "GET", f"/api/v1/spaces/{space_id}/transcript").json()["data"]
    assert [line["user_id"] for line in transcript][:2] == [host.id, guest.id]
    assert {"user_id", "text", "offset_ms", "duration_ms"} <= set(transcript[0])
    vtt = call(listener, "GET", f"/api/v1/spaces/{space_id}/transcript?format=vtt")
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT")
    assert f"<v {host.username}>" in vtt.text
    # Search finds a spoken phrase and points at the moment the guest said it.
    hits = call(listener, "GET", "/api/v1/search/transcripts", params={"q": "coffee shop"}).json()[
        "data"
    ]
    assert [(h["space_id"], h["user_id"]) for h in hits] == [(space_id, guest.id)], hits
    assert "coffee" in hits[0]["text"].lower()
    assert abs(hits[0]["offset_ms"] - guest_offset) < 1000


@pytest.fixture
def server_without_model(tmp_path: Path) -> Iterator[tuple[LiveServer, list[str]]]:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep(logging.ERROR)
    logger = logging.getLogger("townhall")
    logger.addHandler(handler)
    try:
        settings = make_settings(tmp_path / "data").with_overrides(
            captions_model=tmp_path / "no-such-model"
        )
        yield from ((server, records) for server in serve_in_thread(settings))
    finally:
        logger.removeHandler(handler)


def test_a_missing_model_is_said_at_start_and_the_space_works_without_captions(
    server_without_model: tuple[LiveServer, list[str]],
) -> None:
    server, records = server_without_model
    assert any("captions are off" in r and "no-such-model" in r for r in records), records
    assert server.container.caption_pool is None
    host, listener = server.signup(), server.signup()
    space = open_space(host, captions=True)
    assert space["captions"] is True
    join(listener, space["id"])
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")

    async def scenario() -> None:
        speaker = await connect(server.url, host.token, space["id"], "publish", ToneTrack())
        ear = await connect(server.url, listener.token, space["id"], "listen", None)
        try:
            await wait_until(lambda: ear.ear.heard_since(0.0), 15)
        finally:
            await speaker.close()
            await ear.close()

    asyncio.run(scenario())
    transcript = call(host, "GET", f"/api/v1/spaces/{space['id']}/transcript")
    assert transcript.status_code == 200
    assert transcript.json() == {"data": []}


def test_captions_start_when_the_host_turns_them_on_mid_space(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    pool = sqlite_server.container.caption_pool
    assert pool is not None
    asyncio.run(pool.warm_up())
    host, listener = sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    space_id = space["id"]
    assert space["captions"] is False
    join(listener, space_id)
    call(host, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")
    before = read_wav(make_speech(tmp_path, "Nobody should read these private words.", "off"))
    after = read_wav(make_speech(tmp_path, HOST_SAYS, "on"))
    gap_s = 4.0
    speech = np.concatenate(
        [lead_in(before, 1.0), lead_in(after, gap_s), np.zeros(48_000, np.int16)]
    )
    frames: list[dict[str, Any]] = []

    async def scenario() -> None:
        watcher = asyncio.create_task(
            collect_captions(sqlite_server, listener.token, space_id, frames)
        )
        await asyncio.sleep(0.5)
        speaker = await connect(
            sqlite_server.url, host.token, space_id, "publish", WavTrack(speech)
        )
        try:
            await wait_until(lambda: speaker.pc.connectionState == "connected", 15)
            # The first sentence goes by with captions off...
            await asyncio.sleep(1.0 + len(before) / 48_000 + 1.0)
            assert frames == []
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                patched = await client.patch(
                    f"/api/v1/spaces/{space_id}",
                    json={"captions": True},
                    headers={"Authorization": f"Bearer {host.token}"},
                )
            assert patched.status_code == 200, patched.text
            # ...the second, said after the host turned them on, is captioned.
            await wait_until(lambda: any(f["data"]["final"] for f in frames), 40)
        finally:
            await speaker.close()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    asyncio.run(scenario())
    heard = " ".join(f["data"]["text"] for f in frames if f["data"]["final"])
    assert word_error_rate(HOST_SAYS, heard) < 0.3, heard
    assert "private" not in " ".join(f["data"]["text"] for f in frames).lower()


@pytest.fixture
def server_with_broken_model(tmp_path: Path) -> Iterator[LiveServer]:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (broken / name).write_text("{}")
    (broken / "model.bin").write_bytes(b"\x00" * 64)
    settings = make_settings(tmp_path / "data").with_overrides(
        captions_model=broken, captions_preload=True
    )
    yield from serve_in_thread(settings)


def test_a_broken_model_is_reported_at_start_and_spaces_go_on_without_captions(
    server_with_broken_model: LiveServer,
) -> None:
    server = server_with_broken_model
    pool = server.container.caption_pool
    assert pool is not None
    # The model directory looks right, so the workers find out at start, in the background.
    asyncio.run(wait_until(lambda: pool.failure is not None, 60))
    assert "cannot load the model" in (pool.failure or "")
    host = server.signup()
    space = open_space(host, captions=True)
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")

    async def speak() -> None:
        peer = await connect(server.url, host.token, space["id"], "publish", ToneTrack())
        try:
            await wait_until(lambda: peer.pc.connectionState == "connected", 15)
            await asyncio.sleep(0.5)
        finally:
            await peer.close()

    asyncio.run(speak())
    room = server.container.media.room(int(space["id"]))
    assert room is not None and room.ticks > 0
