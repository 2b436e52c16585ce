"""Live captions end to end: aiortc speakers send espeak-ng speech into a live Space with
captions on; a listener's WebSocket gets interim and final captions naming who spoke."""

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
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
GUEST_SAYS = "The weather is warm today, so we will walk to the park after lunch."


def lead_in(samples: np.ndarray, seconds: float) -> np.ndarray:
    return np.concatenate([np.zeros(int(48_000 * seconds), np.int16), samples])


async def collect_captions(server: LiveServer, token: str, space_id: str, into: list[Any]) -> None:
    url = server.url.replace("http://", "ws://") + f"/api/v1/spaces/{space_id}/events"
    async with ws_connect(f"{url}?token={token}") as ws:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "caption":
                into.append(frame)


def test_overlapping_speakers_get_their_own_interim_and_final_captions(
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
    host_speech = lead_in(read_wav(make_speech(tmp_path, HOST_SAYS, "host")), 1.0)
    # The guest starts while the host is still talking: their words overlap for seconds.
    guest_speech = lead_in(read_wav(make_speech(tmp_path, GUEST_SAYS, "guest")), 2.5)
    frames: list[dict[str, Any]] = []

    def finals_of(user_id: str) -> list[dict[str, Any]]:
        return [f for f in frames if f["data"]["final"] and f["data"]["user_id"] == user_id]

    async def scenario() -> None:
        watcher = asyncio.create_task(
            collect_captions(sqlite_server, listener.token, space_id, frames)
        )
        await asyncio.sleep(0.5)
        peers = [
            await connect(
                sqlite_server.url, host.token, space_id, "publish", WavTrack(host_speech)
            ),
            await connect(
                sqlite_server.url, guest.token, space_id, "publish", WavTrack(guest_speech)
            ),
        ]
        try:
            await wait_until(lambda: bool(finals_of(host.id) and finals_of(guest.id)), 60)
            await asyncio.sleep(1.5)  # any later piece of the same speech
        finally:
            for peer in peers:
                await peer.close()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    asyncio.run(scenario())
    for account, said in ((host, HOST_SAYS), (guest, GUEST_SAYS)):
        mine = [f for f in frames if f["data"]["user_id"] == account.id]
        finals = [f for f in mine if f["data"]["final"]]
        heard = " ".join(f["data"]["text"] for f in finals)
        assert word_error_rate(said, heard) < 0.3, (said, heard)
        # Final captions are state events (stored, with a seq); interims are ephemeral.
        assert all(isinstance(f["seq"], int) for f in finals)
        interims = [f for f in mine if not f["data"]["final"]]
        assert interims, mine
        assert all(f["seq"] is None for f in interims)
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
