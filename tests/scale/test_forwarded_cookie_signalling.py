"""A browser's signalling (session cookie + X-CSRF-Token) that reaches a node which does not
own the Space's media is forwarded with its CSRF header, so the owner accepts it."""

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from tests.conftest import POSTGRES_ADMIN_URL
from tests.harness import TEST_PASSWORD
from tests.media.peers import ToneTrack, connect
from tests.nodes import Node, fresh_postgres, node_processes

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[list[Node]]:
    with (
        fresh_postgres(POSTGRES_ADMIN_URL) as database_url,
        node_processes(tmp_path, database_url, REDIS_URL, 2) as nodes,
    ):
        yield nodes


def test_a_cookie_listener_signalling_the_other_node_is_answered(two_nodes: list[Node]) -> None:
    owner, other = two_nodes
    host = owner.signup()
    with owner.client(host) as client:
        space = client.post("/api/v1/spaces", json={"title": "Cookies across nodes"}).json()
    listener = other.signup()

    async def scenario() -> int:
        # The host publishing through the first node makes it the media owner.
        speaker = await connect(owner.url, host.token, space["id"], "publish", ToneTrack())
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        try:
            pc.addTransceiver("audio", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            async with httpx.AsyncClient(base_url=other.url, timeout=20) as browser:
                logged_in = await browser.post(
                    "/api/v1/auth/login",
                    json={
                        "username": listener.username,
                        "password": TEST_PASSWORD,
                        "session": "cookie",
                    },
                )
                assert logged_in.status_code == 200, logged_in.text
                csrf = {"X-CSRF-Token": browser.cookies["townhall_csrf"]}
                joined = await browser.post(f"/api/v1/spaces/{space['id']}/join", headers=csrf)
                assert joined.status_code == 200, joined.text
                answer = await browser.post(
                    f"/api/v1/spaces/{space['id']}/rtc/listen",
                    json={"sdp": pc.localDescription.sdp, "type": "offer"},
                    headers=csrf,
                )
            assert answer.status_code == 200, answer.text
            return answer.status_code
        finally:
            await pc.close()
            await speaker.close()

    assert asyncio.run(scenario()) == 200
