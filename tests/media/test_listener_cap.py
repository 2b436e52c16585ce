"""Past the WebRTC listener cap, listeners are sent to HLS; ICE servers reach peers and clients."""

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aioice import stun

from tests.harness import LiveServer, make_settings, serve_in_thread
from tests.integration.spaces.space_helpers import call, join, open_space
from tests.media.peers import connect, wait_until
from townhall.config import IceServer, parse_ice_servers

CAP = 2


class StunResponder:
    """A STUN server on loopback that answers Binding requests and counts them."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            request = stun.parse_message(data)
            self.requests += 1
            response = stun.Message(
                message_method=stun.Method.BINDING,
                message_class=stun.Class.RESPONSE,
                transaction_id=request.transaction_id,
            )
            response.attributes["XOR-MAPPED-ADDRESS"] = addr
            self.sock.sendto(bytes(response), addr)

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def stun_server() -> Iterator[StunResponder]:
    responder = StunResponder()
    yield responder
    responder.close()


@pytest.fixture(scope="module")
def capped_server(
    tmp_path_factory: pytest.TempPathFactory, stun_server: StunResponder
) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("capped")).with_overrides(
        webrtc_listener_cap=CAP,
        ice_servers=(
            IceServer((f"stun:127.0.0.1:{stun_server.port}",)),
            IceServer(("turn:turn.example.org:3478",), "someone", "secret"),
        ),
    )
    yield from serve_in_thread(settings)


def test_the_listener_past_the_cap_is_sent_to_hls(capped_server: LiveServer) -> None:
    host = capped_server.signup()
    audience = [capped_server.signup() for _ in range(CAP + 2)]
    space = open_space(host)
    for person in audience:
        join(person, space["id"])

    async def scenario() -> None:
        ears = [
            await connect(capped_server.url, p.token, space["id"], "listen", None)
            for p in audience[:CAP]
        ]
        try:
            with pytest.raises(httpx.HTTPStatusError) as refused:
                await connect(capped_server.url, audience[CAP].token, space["id"], "listen", None)
            response = refused.value.response
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "webrtc_full"
            assert error["hls_url"] == f"/spaces/{space['id']}/hls/index.m3u8"
            async with httpx.AsyncClient(base_url=capped_server.url) as client:
                whep = await client.post(
                    f"/api/v1/spaces/{space['id']}/whep",
                    content=ears[0].pc.localDescription.sdp,
                    headers={
                        "Authorization": f"Bearer {audience[CAP + 1].token}",
                        "Content-Type": "application/sdp",
                    },
                )
            assert whep.status_code == 503 and whep.json()["error"]["code"] == "webrtc_full"
            # A seat frees up when someone leaves: the next listener gets WebRTC again.
            await ears.pop(0).close()
            room = capped_server.container.media.room(int(space["id"]))
            assert room is not None
            await wait_until(lambda: room.listener_count < CAP, 10)
            ears.append(
                await connect(capped_server.url, audience[CAP].token, space["id"], "listen", None)
            )
        finally:
            for ear in ears:
                await ear.close()

    asyncio.run(scenario())


def test_people_on_stage_are_not_counted_against_the_cap(capped_server: LiveServer) -> None:
    host = capped_server.signup()
    space = open_space(host)
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")
    audience = [capped_server.signup() for _ in range(CAP)]
    for person in audience:
        join(person, space["id"])

    async def scenario() -> None:
        from tests.media.peers import ToneTrack

        speaker = await connect(capped_server.url, host.token, space["id"], "publish", ToneTrack())
        ears = [
            await connect(capped_server.url, p.token, space["id"], "listen", None) for p in audience
        ]
        for peer in [speaker, *ears]:
            await peer.close()

    asyncio.run(scenario())


def test_ice_servers_are_handed_to_clients(capped_server: LiveServer) -> None:
    host = capped_server.signup()
    space = open_space(host)
    config = call(host, "GET", f"/api/v1/spaces/{space['id']}/rtc/config")
    assert config.status_code == 200
    body = config.json()
    assert body["ice_servers"][0]["urls"][0].startswith("stun:127.0.0.1:")
    assert body["ice_servers"][1] == {
        "urls": ["turn:turn.example.org:3478"],
        "username": "someone",
        "credential": "secret",
    }
    assert body["hls_url"] == f"/spaces/{space['id']}/hls/index.m3u8"
    anonymous = httpx.get(f"{capped_server.url}/api/v1/spaces/{space['id']}/rtc/config")
    assert anonymous.status_code == 401


def test_the_servers_peers_use_the_stun_server(
    capped_server: LiveServer, stun_server: StunResponder
) -> None:
    host, person = capped_server.signup(), capped_server.signup()
    space = open_space(host)
    join(person, space["id"])
    before = stun_server.requests

    async def scenario() -> str:
        # Through WHEP, whose answer also names the ICE servers in Link headers.
        from aiortc import RTCConfiguration, RTCPeerConnection

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        async with httpx.AsyncClient(base_url=capped_server.url, timeout=20) as client:
            answer = await client.post(
                f"/api/v1/spaces/{space['id']}/whep",
                content=pc.localDescription.sdp,
                headers={
                    "Authorization": f"Bearer {person.token}",
                    "Content-Type": "application/sdp",
                },
            )
            assert answer.status_code == 201, answer.text
            await client.delete(
                answer.headers["Location"], headers={"Authorization": f"Bearer {person.token}"}
            )
        await pc.close()
        return str(answer.headers.get("Link", ""))

    link = asyncio.run(scenario())
    assert stun_server.requests > before, "the server's peer asked the STUN server"
    assert f'<stun:127.0.0.1:{stun_server.port}>; rel="ice-server"' in link
    assert 'username="someone"; credential="secret"' in link


def test_ice_server_settings_parse_json_and_url_lists() -> None:
    assert parse_ice_servers("") == ()
    assert parse_ice_servers("stun:a.example:3478, turn:b.example", "u", "p") == (
        IceServer(("stun:a.example:3478",)),
        IceServer(("turn:b.example",), "u", "p"),
    )
    assert parse_ice_servers(
        '[{"urls": ["turns:c.example:443"], "username": "u", "credential": "p"}]'
    ) == (IceServer(("turns:c.example:443",), "u", "p"),)
    for bad in (
        "http://x",
        "turn:no-credentials.example",
        "[1]",
        '{"urls": "stun:x"}',
        "[{}]",
        '[{"urls": "turn:x"}]',
        "[not json",
    ):
        with pytest.raises(ValueError):
            parse_ice_servers(bad)


def test_a_bad_ice_setting_stops_the_server_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from townhall.config import load_settings

    monkeypatch.setenv("TOWNHALL_ICE_SERVERS", "turn:x.example")
    with pytest.raises(SystemExit):
        load_settings()
