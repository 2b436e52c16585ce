"""The server follows the Space: removal and demotion cut a speaker off; WHIP/WHEP work."""

import asyncio
import json
import time

import httpx

from tests.harness import LiveServer
from tests.integration.spaces.space_helpers import (
    bring_on_stage,
    call,
    join,
    open_space,
    space_events,
)
from tests.media.peers import ToneTrack, connect, wait_until


def test_a_removed_speaker_is_silenced_and_their_connection_closed(
    sqlite_server: LiveServer,
) -> None:
    host, guest, listener = sqlite_server.signup(), sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    bring_on_stage(host, guest, space["id"])
    join(listener, space["id"])
    call(guest, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")

    async def scenario() -> None:
        speaker = await connect(sqlite_server.url, guest.token, space["id"], "publish", ToneTrack())
        ear = await connect(sqlite_server.url, listener.token, space["id"], "listen", None)
        try:
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started))
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                removed = await client.post(
                    f"/api/v1/spaces/{space['id']}/participants/{guest.id}/remove",
                    headers={"Authorization": f"Bearer {host.token}"},
                )
            assert removed.status_code == 204
            removed_at = time.monotonic()
            await wait_until(lambda: speaker.pc.connectionState in ("closed", "failed"), 10)
            await asyncio.sleep(0.6)
            assert ear.ear.rms_between(removed_at + 0.3, removed_at + 0.6) < 50
        finally:
            await speaker.close()
            await ear.close()

    asyncio.run(scenario())


def test_a_speaker_moved_to_the_audience_stops_publishing(sqlite_server: LiveServer) -> None:
    host, guest = sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    bring_on_stage(host, guest, space["id"])

    async def scenario() -> None:
        speaker = await connect(sqlite_server.url, guest.token, space["id"], "publish", ToneTrack())
        try:
            await wait_until(lambda: speaker.pc.connectionState == "connected")
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                await client.post(
                    f"/api/v1/spaces/{space['id']}/participants/{guest.id}/role",
                    json={"role": "listener"},
                    headers={"Authorization": f"Bearer {host.token}"},
                )
            await wait_until(lambda: speaker.pc.connectionState in ("closed", "failed"), 10)
        finally:
            await speaker.close()

    asyncio.run(scenario())


def test_whip_and_whep_with_a_plain_http_client(sqlite_server: LiveServer) -> None:
    host, listener = sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    join(listener, space["id"])

    async def scenario() -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("audio", direction="recvonly")
        try:
            await pc.setLocalDescription(await pc.createOffer())
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                auth = {"Authorization": f"Bearer {listener.token}"}
                wrong_type = await client.post(
                    f"/api/v1/spaces/{space['id']}/whep",
                    content=pc.localDescription.sdp,
                    headers={**auth, "Content-Type": "application/json"},
                )
                assert wrong_type.status_code == 415
                created = await client.post(
                    f"/api/v1/spaces/{space['id']}/whep",
                    content=pc.localDescription.sdp,
                    headers={**auth, "Content-Type": "application/sdp"},
                )
                assert created.status_code == 201
                assert created.headers["content-type"].startswith("application/sdp")
                location = created.headers["location"]
                assert location.startswith(f"/api/v1/spaces/{space['id']}/whep/")
                await pc.setRemoteDescription(RTCSessionDescription(created.text, "answer"))
                await wait_until(lambda: pc.connectionState == "connected")
                assert (await client.delete(location, headers=auth)).status_code == 200
                assert (await client.delete(location, headers=auth)).status_code == 404
                whip_by_listener = await client.post(
                    f"/api/v1/spaces/{space['id']}/whip",
                    content=pc.localDescription.sdp,
                    headers={**auth, "Content-Type": "application/sdp"},
                )
                assert whip_by_listener.status_code == 403
        finally:
            await pc.close()

    asyncio.run(scenario())


def test_speaking_events_name_who_is_talking(sqlite_server: LiveServer) -> None:
    host = sqlite_server.signup()
    space = open_space(host)
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")
    with space_events(sqlite_server, host, space["id"]) as ws:
        json.loads(ws.recv(timeout=5))

        async def scenario() -> None:
            speaker = await connect(
                sqlite_server.url, host.token, space["id"], "publish", ToneTrack()
            )
            await asyncio.sleep(1.5)
            await speaker.close()

        asyncio.run(scenario())
        frames = []
        try:
            while True:
                frames.append(json.loads(ws.recv(timeout=0.5)))
        except TimeoutError:
            pass
    speaking = [f for f in frames if f["type"] == "speaking"]
    assert speaking and all(f["data"]["user_id"] == host.id and f["seq"] is None for f in speaking)
    # At most five a second.
    assert len(speaking) <= 10


def test_only_people_in_the_space_can_listen_and_leaving_ends_that(
    sqlite_server: LiveServer,
) -> None:
    host, listener = sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    # A reaction makes this node learn the Space's audience in memory: the listen check
    # must then still notice who is not, or no longer, in it.
    reacted = call(host, "POST", f"/api/v1/spaces/{space['id']}/reactions", json={"emoji": "🔥"})
    assert reacted.status_code == 202, reacted.text

    async def whep_status() -> tuple[int, str]:
        from aiortc import RTCConfiguration, RTCPeerConnection

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("audio", direction="recvonly")
        try:
            await pc.setLocalDescription(await pc.createOffer())
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                answer = await client.post(
                    f"/api/v1/spaces/{space['id']}/whep",
                    content=pc.localDescription.sdp,
                    headers={
                        "Authorization": f"Bearer {listener.token}",
                        "Content-Type": "application/sdp",
                    },
                )
                if answer.status_code == 201:
                    await client.delete(
                        answer.headers["location"],
                        headers={"Authorization": f"Bearer {listener.token}"},
                    )
                    return 201, ""
                return answer.status_code, answer.json()["error"]["code"]
        finally:
            await pc.close()

    assert asyncio.run(whep_status()) == (403, "not_a_participant")
    join(listener, space["id"])
    assert asyncio.run(whep_status()) == (201, "")
    assert call(listener, "POST", f"/api/v1/spaces/{space['id']}/leave").status_code == 204
    assert asyncio.run(whep_status()) == (403, "not_a_participant")


def test_ending_a_space_stops_watching_its_events(sqlite_server: LiveServer) -> None:
    """The room's watcher of the Space's events goes with the room, not with the server."""
    host = sqlite_server.signup()
    space = open_space(host)
    media = sqlite_server.container.media

    async def watchers() -> list[str]:
        return [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("media-")]

    async def scenario() -> None:
        speaker = await connect(sqlite_server.url, host.token, space["id"], "publish", ToneTrack())
        try:
            await wait_until(lambda: speaker.pc.connectionState == "connected")
        finally:
            await speaker.close()

    asyncio.run(scenario())
    watcher = f"media-watch-{space['id']}"
    assert watcher in sqlite_server.run_on_loop(watchers())
    assert call(host, "POST", f"/api/v1/spaces/{space['id']}/end").status_code == 200
    deadline = time.monotonic() + 10
    while media.room(int(space["id"])) is not None or watcher in sqlite_server.run_on_loop(
        watchers()
    ):
        assert time.monotonic() < deadline, "the room's watcher outlived the Space"
        time.sleep(0.05)
