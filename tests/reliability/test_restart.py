"""`kill -9` of a single server (SQLite, no Redis) while a Space is live with a speaker
talking, a listener listening, a co-speaker on stage, an open poll with a vote and a
recording; started again on the same data dir and port: the Space, its roles, the poll and
the recording up to the kill are intact, and clients that retry signalling hear the
speaker again within 10 s of the server being back."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.media.peers import Peer, ToneTrack, connect, wait_until
from tests.nodes import Node, NodeAccount, node_processes
from townhall.media.recording import read_timeline

AUDIO_BACK_LIMIT_S = 10.0
SEGMENT_S = 1.0


@pytest.fixture
def one_node(tmp_path: Path) -> Iterator[Node]:
    # An empty database URL is SQLite in the data dir; an empty Redis URL is one process.
    with node_processes(tmp_path, "", "", 1) as nodes:
        yield nodes[0]


def call(node: Node, account: NodeAccount, method: str, path: str, **kwargs: Any) -> Any:
    with node.client(account) as client:
        response = client.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def signal_until_answered(
    node: Node, account: NodeAccount, space_id: str, route: str, send: ToneTrack | None
) -> Peer:
    """What a client does while its server is away: retry until signalling answers."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return await connect(node.url, account.token, space_id, route, send)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 503 or time.monotonic() > deadline:
                raise
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.3)


def test_kill_9_mid_space_then_restart_keeps_space_roles_poll_and_recording(
    one_node: Node, tmp_path: Path
) -> None:
    node = one_node
    host, speaker, listener = node.signup(), node.signup(), node.signup()
    space = call(node, host, "POST", "/api/v1/spaces", json={"title": "Restart", "recording": True})
    space_id = space["id"]
    call(node, speaker, "POST", f"/api/v1/spaces/{space_id}/join")
    call(node, listener, "POST", f"/api/v1/spaces/{space_id}/join")
    call(
        node,
        host,
        "POST",
        f"/api/v1/spaces/{space_id}/invites",
        json={"user_id": speaker.id, "role": "speaker"},
    )
    call(node, speaker, "POST", f"/api/v1/spaces/{space_id}/invites/accept")
    call(node, host, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")
    poll = call(
        node,
        host,
        "POST",
        f"/api/v1/spaces/{space_id}/polls",
        json={"question": "Survives?", "options": ["yes", "no"], "duration_s": 600},
    )
    call(
        node,
        listener,
        "POST",
        f"/api/v1/spaces/{space_id}/polls/{poll['id']}/votes",
        json={"option": 0},
    )
    roles_before = {
        p["user_id"]: p["role"]
        for p in call(node, host, "GET", f"/api/v1/spaces/{space_id}/participants")["data"]
    }
    assert roles_before == {host.id: "host", speaker.id: "speaker", listener.id: "listener"}

    async def scenario() -> tuple[float, float, float, float]:
        talker = await connect(node.url, host.token, space_id, "publish", ToneTrack())
        ear = await connect(node.url, listener.token, space_id, "listen", None)
        started = time.monotonic()
        await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
        await asyncio.sleep(4)  # a few seconds of recording before the kill
        spoken_s = time.monotonic() - started

        node.kill()
        killed = time.monotonic()
        await talker.close()
        await ear.close()
        await asyncio.to_thread(node.start)  # same data dir, same port
        up = time.monotonic()
        talker = await signal_until_answered(node, host, space_id, "publish", ToneTrack())
        ear = await signal_until_answered(node, listener, space_id, "listen", None)
        await wait_until(lambda: ear.ear.heard_since(up), timeout_s=AUDIO_BACK_LIMIT_S)
        heard = time.monotonic()
        await asyncio.sleep(3)  # a few seconds of recording after the restart
        await talker.close()
        await ear.close()
        return spoken_s, up - killed, heard - up, heard - killed

    spoken_s, restart_s, back_after_up_s, back_after_kill_s = asyncio.run(scenario())
    print(
        f"\nrestart: server up {restart_s:.1f} s after kill -9, audio back "
        f"{back_after_up_s:.1f} s after it was up ({back_after_kill_s:.1f} s after the kill)"
    )
    assert back_after_up_s < AUDIO_BACK_LIMIT_S

    after = call(node, listener, "GET", f"/api/v1/spaces/{space_id}")
    assert after["state"] == "live"
    roles_after = {
        p["user_id"]: p["role"]
        for p in call(node, host, "GET", f"/api/v1/spaces/{space_id}/participants")["data"]
    }
    assert roles_after == roles_before
    poll_after = call(node, listener, "GET", f"/api/v1/spaces/{space_id}/polls/{poll['id']}")
    assert poll_after["state"] == "open"
    assert [o["votes"] for o in poll_after["options"]] == [1, 0]
    assert poll_after["my_vote"] == 0

    call(node, host, "POST", f"/api/v1/spaces/{space_id}/end")
    deadline = time.monotonic() + 30
    while True:
        with node.client(listener) as client:
            recording = client.get(f"/api/v1/spaces/{space_id}/recording")
        if recording.status_code == 200 and recording.json().get("state") == "ready":
            break
        assert time.monotonic() < deadline, recording.text
        time.sleep(0.5)
    timeline = read_timeline(tmp_path / "hls" / space_id)
    assert len(timeline.epochs) == 2, timeline.epochs
    first, second = timeline.epochs
    assert first.started_at is not None and second.started_at is not None
    # The first room's recording reaches the kill, short of at most the segment being written.
    assert first.duration_s >= spoken_s - SEGMENT_S - 0.3, (first.duration_s, spoken_s)
    assert second.duration_s > 2.5
    gap_s = (second.started_at - first.started_at).total_seconds() - first.duration_s
    print(
        f"restart: recording epochs {first.duration_s:.1f} s + {second.duration_s:.1f} s, "
        f"gap {gap_s:.1f} s, spoken before the kill {spoken_s:.1f} s"
    )
    assert 0 <= gap_s < restart_s + AUDIO_BACK_LIMIT_S, gap_s
