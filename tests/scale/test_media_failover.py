"""Several nodes (real processes) on PostgreSQL and Redis: one node owns each live Space's
media, signalling that reaches another node is forwarded to it, and when the owner is
killed another node takes the Space over within 10 s, recording included."""

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from tests.conftest import POSTGRES_ADMIN_URL
from tests.media.peers import ToneTrack, connect, wait_until
from tests.nodes import Node, call, fresh_postgres, node_processes, signal_until_answered
from townhall.media.recording import read_timeline

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FAILOVER_LIMIT_S = 10.0


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[list[Node]]:
    with (
        fresh_postgres(POSTGRES_ADMIN_URL) as database_url,
        node_processes(tmp_path, database_url, REDIS_URL, 2) as nodes,
    ):
        yield nodes


def test_a_speaker_on_one_node_is_heard_by_a_listener_who_signalled_another(
    two_nodes: list[Node],
) -> None:
    node_a, node_b = two_nodes
    host, listener = node_a.signup(), node_b.signup()
    space = call(node_a, host, "POST", "/api/v1/spaces", json={"title": "Across nodes"})
    call(node_b, listener, "POST", f"/api/v1/spaces/{space['id']}/join")
    call(node_a, host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")

    async def scenario() -> None:
        speaker = await connect(node_a.url, host.token, space["id"], "publish", ToneTrack())
        ear = await connect(node_b.url, listener.token, space["id"], "listen", None)
        try:
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
            # The listener's session lives on the owner; hanging up through B reaches it.
            async with httpx.AsyncClient(base_url=node_b.url) as client:
                hung_up = await client.delete(
                    f"/api/v1/spaces/{space['id']}/rtc/sessions/{ear.session_id}",
                    headers=listener.headers,
                )
            assert hung_up.status_code == 204, hung_up.text
        finally:
            await speaker.close()
            await ear.close()

    asyncio.run(scenario())


def test_a_reaction_posted_on_one_node_reaches_a_listener_on_the_other(
    two_nodes: list[Node],
) -> None:
    node_a, node_b = two_nodes
    host, listener = node_a.signup(), node_b.signup()
    space = call(node_a, host, "POST", "/api/v1/spaces", json={"title": "Reactions"})
    call(node_b, listener, "POST", f"/api/v1/spaces/{space['id']}/join")

    async def scenario() -> None:
        url = f"{node_b.ws_url}/api/v1/spaces/{space['id']}/events?token={listener.token}"
        async with ws_connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            async with httpx.AsyncClient(base_url=node_a.url) as client:
                sent = await client.post(
                    f"/api/v1/spaces/{space['id']}/reactions",
                    json={"emoji": "🔥"},
                    headers=host.headers,
                )
            assert sent.status_code < 300, sent.text
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if frame["type"] in ("reaction", "reactions"):
                    break
            assert "🔥" in json.dumps(frame, ensure_ascii=False)

    asyncio.run(scenario())


def test_killing_the_media_owner_moves_the_space_to_the_other_node_within_10_s(
    two_nodes: list[Node], tmp_path: Path
) -> None:
    node_a, node_b = two_nodes
    host, listener = node_a.signup(), node_b.signup()
    space = call(
        node_a, host, "POST", "/api/v1/spaces", json={"title": "Failover", "recording": True}
    )
    space_id = space["id"]
    call(node_b, listener, "POST", f"/api/v1/spaces/{space_id}/join")
    call(node_a, host, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")

    async def scenario() -> tuple[float, float, list[str]]:
        url = f"{node_b.ws_url}/api/v1/spaces/{space_id}/events?token={listener.token}"
        async with ws_connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            speaker = await connect(node_a.url, host.token, space_id, "publish", ToneTrack())
            ear = await connect(node_b.url, listener.token, space_id, "listen", None)
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
            await asyncio.sleep(3)  # a few seconds of recording on A

            node_a.kill()
            killed = time.monotonic()
            moved: list[str] = []

            async def watch() -> None:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] == "media.moved":
                        moved.append(frame["data"]["node_id"] if frame.get("data") else "")
                        return

            watcher = asyncio.ensure_future(watch())
            await speaker.close()
            await ear.close()
            # Clients reconnect through the node they can reach; B answers 503 until the
            # dead node's lease lapses and B owns the Space.
            speaker = await signal_until_answered(node_b, host, space_id, "publish", ToneTrack())
            ear = await signal_until_answered(node_b, listener, space_id, "listen", None)
            heard_again = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(heard_again), timeout_s=10)
            audio_back_s = time.monotonic() - killed
            await asyncio.wait_for(watcher, 10)
            await asyncio.sleep(3)  # and a few seconds on B
            await speaker.close()
            await ear.close()
            return audio_back_s, killed, [str(m) for m in moved]

    audio_back_s, _, moved = asyncio.run(scenario())
    assert audio_back_s < FAILOVER_LIMIT_S, audio_back_s
    assert moved == [str(node_b.node_id)]

    after = call(node_b, listener, "GET", f"/api/v1/spaces/{space_id}")
    assert after["state"] == "live"
    people = call(node_b, host, "GET", f"/api/v1/spaces/{space_id}/participants")["data"]
    roles = {person["user_id"]: person["role"] for person in people}
    assert roles[host.id] == "host"

    call(node_b, host, "POST", f"/api/v1/spaces/{space_id}/end")
    deadline = time.monotonic() + 30
    while True:
        with node_b.client(listener) as client:
            recording = client.get(f"/api/v1/spaces/{space_id}/recording")
        if recording.status_code == 200 and recording.json().get("state") == "ready":
            break
        assert time.monotonic() < deadline, recording.text
        time.sleep(0.5)
    timeline = read_timeline(tmp_path / "hls" / space_id)
    assert len(timeline.epochs) == 2, timeline.epochs
    first, second = timeline.epochs
    assert first.started_at is not None and second.started_at is not None
    assert first.duration_s > 2.5 and second.duration_s > 2.5
    gap_s = (second.started_at - first.started_at).total_seconds() - first.duration_s
    assert 0 <= gap_s < FAILOVER_LIMIT_S, gap_s
    print(f"failover: audio back after {audio_back_s:.1f} s, recording gap {gap_s:.1f} s")
