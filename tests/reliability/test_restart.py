"""`kill -9` of a single server (SQLite, no Redis) while a Space is live with a speaker
talking, a listener listening, a co-speaker on stage, an open poll with a vote and a
recording; started again on the same data dir and port: the Space, its roles, the poll and
the recording up to the kill are intact, and clients that retry signalling hear the
speaker again within 10 s of the server being back."""

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from tests.media.peers import ToneTrack, connect, wait_until
from tests.nodes import Node, NodeAccount, call, node_processes, signal_until_answered
from townhall.media.recording import read_timeline

AUDIO_BACK_LIMIT_S = 10.0
SEGMENT_S = 1.0
GRACE_S = 5
"""Whoever has not reconnected their event stream this long after the restart is gone."""


@pytest.fixture
def one_node(tmp_path: Path) -> Iterator[Node]:
    # An empty database URL is SQLite in the data dir; an empty Redis URL is one process.
    grace = str(GRACE_S)
    with node_processes(
        tmp_path, "", "", 1, participant_grace_s=grace, host_grace_s=grace
    ) as nodes:
        yield nodes[0]


class EventStream:
    """A client's event WebSocket: presence in the Space, and the last seq it saw."""

    def __init__(self, node: Node, account: NodeAccount, space_id: str) -> None:
        self.url = f"{node.ws_url}/api/v1/spaces/{space_id}/events?token={account.token}"
        self.last_seq: int | None = None
        self.resyncs = 0
        self._task: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None

    async def open(self) -> None:
        """Connects (resuming from the last seq seen, if any) and reads in the background."""
        since = "" if self.last_seq is None else f"&since={self.last_seq}"
        ws = self._ws = await ws_connect(self.url + since)
        ready = json.loads(await ws.recv())
        assert ready["type"] == "ready", ready
        if self.last_seq is None:
            self.last_seq = ready["data"]["seq"]
        self._task = asyncio.ensure_future(self._read(ws))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "resync":
                    self.resyncs += 1
                if frame.get("seq") is not None:
                    self.last_seq = frame["seq"]
        await ws.close()

    async def closed(self) -> None:
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._ws is not None:
            await self._ws.close()


async def open_until_answered(stream: EventStream) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            await stream.open()
            return
        except (OSError, ConnectionClosed):
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
        streams = [EventStream(node, who, space_id) for who in (host, speaker, listener)]
        for stream in streams:
            await stream.open()
        talker = await connect(node.url, host.token, space_id, "publish", ToneTrack())
        ear = await connect(node.url, listener.token, space_id, "listen", None)
        started = time.monotonic()
        await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
        await asyncio.sleep(4)  # a few seconds of recording before the kill
        spoken_s = time.monotonic() - started

        node.kill()
        killed = time.monotonic()
        for stream in streams:
            await stream.closed()  # each client sees its event stream drop
        await talker.close()
        await ear.close()
        await asyncio.to_thread(node.start)  # same data dir, same port
        up = time.monotonic()
        # Each client reconnects by itself: events resumed from the last seq, media renegotiated.
        for stream in streams:
            await open_until_answered(stream)
        talker = await signal_until_answered(node, host, space_id, "publish", ToneTrack())
        ear = await signal_until_answered(node, listener, space_id, "listen", None)
        await wait_until(lambda: ear.ear.heard_since(up), timeout_s=AUDIO_BACK_LIMIT_S)
        heard = time.monotonic()
        # Past the grace period: everyone who came back is still in, with their role.
        await asyncio.sleep(max(3.0, GRACE_S + 1 - (time.monotonic() - up)))
        await talker.close()
        await ear.close()
        for stream in streams:
            assert stream.resyncs == 0
            await stream.close()
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
