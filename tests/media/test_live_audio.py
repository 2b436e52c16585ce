"""Live audio between real aiortc peers on this machine: speakers are heard, muted ones not."""

import asyncio
import time

import httpx

from tests.harness import LiveServer
from tests.integration.spaces.space_helpers import bring_on_stage, call, join, open_space
from tests.media.peers import ToneTrack, connect, wait_until


def test_a_speaker_is_heard_by_a_listener_and_a_mute_silences_them_at_once(
    sqlite_server: LiveServer,
) -> None:
    host, listener = sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    join(listener, space["id"])
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")

    async def scenario() -> None:
        speaker = await connect(sqlite_server.url, host.token, space["id"], "publish", ToneTrack())
        ear = await connect(sqlite_server.url, listener.token, space["id"], "listen", None)
        try:
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started))
            await asyncio.sleep(0.5)
            loud = ear.ear.rms_between(time.monotonic() - 0.4, time.monotonic())
            assert loud > 1000, loud
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                muted = await client.post(
                    f"/api/v1/spaces/{space['id']}/participants/me/mute",
                    headers={"Authorization": f"Bearer {host.token}"},
                )
            assert muted.status_code == 200
            muted_at = time.monotonic()
            await asyncio.sleep(0.6)
            # Frames already in flight drain within the listener's jitter buffer; after
            # that the mix carries silence whatever the speaker's browser keeps sending.
            quiet = ear.ear.rms_between(muted_at + 0.3, muted_at + 0.6)
            assert quiet < 50, quiet
        finally:
            await speaker.close()
            await ear.close()

    asyncio.run(scenario())


def test_only_people_on_stage_may_publish(sqlite_server: LiveServer) -> None:
    host, listener = sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    join(listener, space["id"])

    async def scenario() -> int:
        try:
            await connect(sqlite_server.url, listener.token, space["id"], "publish", ToneTrack())
        except httpx.HTTPStatusError as error:
            return error.response.status_code
        return 200

    assert asyncio.run(scenario()) == 403


def test_malformed_offers_are_400(
    sqlite_server: LiveServer,
) -> None:
    host = sqlite_server.signup()
    space = open_space(host)
    for sdp in (
        "",
        "hello",
        "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n",
        "v=0\r\n" + "a=x\r\n" * 9000,
    ):
        response = call(
            host,
            "POST",
            f"/api/v1/spaces/{space['id']}/rtc/publish",
            json={"sdp": sdp, "type": "offer"},
        )
        assert response.status_code in (400, 413, 422), (sdp[:20], response.status_code)
        assert "error" in response.json()


def test_two_speakers_are_mixed(sqlite_server: LiveServer) -> None:
    host, guest, listener = sqlite_server.signup(), sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    bring_on_stage(host, guest, space["id"])
    join(listener, space["id"])
    for account in (host, guest):
        call(account, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")

    async def scenario() -> tuple[float, float]:
        first = await connect(
            sqlite_server.url, host.token, space["id"], "publish", ToneTrack(440, 6000)
        )
        ear = await connect(sqlite_server.url, listener.token, space["id"], "listen", None)
        try:
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started))
            await asyncio.sleep(0.6)
            one = ear.ear.rms_between(time.monotonic() - 0.4, time.monotonic())
            second = await connect(
                sqlite_server.url, guest.token, space["id"], "publish", ToneTrack(660, 6000)
            )
            # On a busy machine ICE and DTLS can take a while: wait for the second voice.
            await wait_until(lambda: second.pc.connectionState == "connected", 15)
            deadline = time.monotonic() + 10
            both = 0.0
            while time.monotonic() < deadline and both <= one * 1.25:
                await asyncio.sleep(0.4)
                both = ear.ear.rms_between(time.monotonic() - 0.4, time.monotonic())
            await second.close()
            return one, both
        finally:
            await first.close()
            await ear.close()

    one, both = asyncio.run(scenario())
    # Two uncorrelated tones of equal level: about sqrt(2) times the RMS of one.
    assert both > one * 1.25, (one, both)
