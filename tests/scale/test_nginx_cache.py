"""The documented nginx config (deploy/nginx/townhall.conf) in front of two nodes: the API,
signalling and event streams pass through it, and a crowd of HLS listeners costs the
origin one request per segment."""

import asyncio
import json
import os
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.conftest import POSTGRES_ADMIN_URL
from tests.media.peers import Peer, ToneTrack, connect, wait_until
from tests.nginx import Deployment, nodes_behind_nginx
from tests.nodes import NodeAccount

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CROWD = 300


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("nginx-two-nodes")
    with nodes_behind_nginx(work, POSTGRES_ADMIN_URL, REDIS_URL) as deployment:
        yield deployment


def _live_space_with_a_speaker(deployment: Deployment) -> tuple[NodeAccount, str]:
    host = deployment.signup()
    with deployment.client(host) as client:
        space = client.post("/api/v1/spaces", json={"title": "Behind nginx"}).json()
        assert client.post(f"/api/v1/spaces/{space['id']}/participants/me/unmute").is_success
    return host, space["id"]


def test_signalling_and_events_pass_through_the_proxy(deployment: Deployment) -> None:
    host, space_id = _live_space_with_a_speaker(deployment)
    listener = deployment.signup()
    with deployment.client(listener) as client:
        assert client.post(f"/api/v1/spaces/{space_id}/join").is_success
    ws_url = deployment.proxy.url.replace("http://", "ws://")

    async def scenario() -> None:
        url = f"{ws_url}/api/v1/spaces/{space_id}/events?token={listener.token}"
        async with ws_connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            url = deployment.proxy.url
            speaker = await connect(url, host.token, space_id, "publish", ToneTrack())
            ear = await connect(url, listener.token, space_id, "listen", None)
            try:
                started = time.monotonic()
                await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
                async with httpx.AsyncClient(base_url=url, headers=host.headers) as client:
                    sent = await client.post(
                        f"/api/v1/spaces/{space_id}/reactions", json={"emoji": "👏"}
                    )
                assert sent.is_success, sent.text
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if frame["type"] in ("reaction", "reactions"):
                        break
            finally:
                await speaker.close()
                await ear.close()

    asyncio.run(scenario())


def test_a_crowd_of_hls_listeners_costs_the_origin_one_request_per_segment(
    deployment: Deployment,
) -> None:
    host, space_id = _live_space_with_a_speaker(deployment)
    base = f"/spaces/{space_id}/hls"

    async def crowd(path: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=deployment.proxy.url, limits=limits) as client:
            return await asyncio.gather(*(client.get(path) for _ in range(CROWD)))

    async def scenario() -> None:
        speaker: Peer = await connect(
            deployment.proxy.url, host.token, space_id, "publish", ToneTrack()
        )
        try:
            segments: list[str] = []
            deadline = time.monotonic() + 15
            while len(segments) < 3:
                assert time.monotonic() < deadline, "no HLS segments"
                await asyncio.sleep(0.5)
                async with httpx.AsyncClient(base_url=deployment.proxy.url) as client:
                    playlist = await client.get(f"{base}/index.m3u8")
                if playlist.status_code == 200:
                    segments = [s for s in playlist.text.splitlines() if s.endswith(".ts")]
            newest = f"{base}/{segments[-1]}"
            answers = await crowd(newest)
            assert all(a.status_code == 200 and a.content for a in answers)
            assert len({a.content for a in answers}) == 1
            assert answers[0].headers["cache-control"] == "public, max-age=31536000, immutable"
            before = deployment.proxy.origin_requests(r"index\.m3u8$")[f"{base}/index.m3u8"]
            playlists = await crowd(f"{base}/index.m3u8")
            assert all(p.status_code == 200 for p in playlists)
            after = deployment.proxy.origin_requests(r"index\.m3u8$")[f"{base}/index.m3u8"]
            # One burst lasts under a second: the 1 s playlist cache lets one or two through.
            assert after - before <= 2, after - before
        finally:
            await speaker.close()
        assert deployment.proxy.origin_requests(r"\.ts$")[newest] == 1

    asyncio.run(scenario())
