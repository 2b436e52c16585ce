"""PostgreSQL unreachable for 10 s under a real server process: this server's database
refuses connections (`ALLOW_CONNECTIONS false`, its sessions terminated) while the shared
PostgreSQL server keeps serving everyone else. Requests get 503 with Retry-After (never a
500), the live audio between peers already connected goes on, and afterwards everything
works and nothing is half-written: what was accepted is there, what was refused is not."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import POSTGRES_ADMIN_URL
from tests.media.peers import ToneTrack, connect, wait_until
from tests.nodes import Node, call, fresh_postgres, node_processes
from townhall.media.recording import read_timeline

OUTAGE_S = 10.0
RECOVERY_LIMIT_S = 10.0
GRACE_S = 2
LEFT_LIMIT_S = 15.0
"""A participant whose grace ran out while the database was down has left by then."""


@pytest.fixture
def pg_node(tmp_path: Path) -> Iterator[tuple[Node, str]]:
    with (
        fresh_postgres(POSTGRES_ADMIN_URL) as database_url,
        node_processes(tmp_path, database_url, "", 1, participant_grace_s=str(GRACE_S)) as nodes,
    ):
        yield nodes[0], database_url.rsplit("/", 1)[1]


def set_reachable(database: str, reachable: bool) -> None:
    """Only this test's database goes away: the shared server stays up for other suites."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            allow = "true" if reachable else "false"
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {allow}'))
            if not reachable:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": database},
                )
    finally:
        admin.dispose()


def test_database_down_10_s_gives_503_keeps_audio_and_writes_nothing_half(
    pg_node: tuple[Node, str], tmp_path: Path
) -> None:
    node, database = pg_node
    host, listener, leaver = node.signup(), node.signup(), node.signup()
    space = call(
        node, host, "POST", "/api/v1/spaces", json={"title": "No database", "recording": True}
    )
    space_id = space["id"]
    opened = time.monotonic()
    call(node, listener, "POST", f"/api/v1/spaces/{space_id}/join")
    call(node, leaver, "POST", f"/api/v1/spaces/{space_id}/join")
    leaver_url = f"{node.ws_url}/api/v1/spaces/{space_id}/events?token={leaver.token}"
    call(node, host, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")
    before = call(
        node, host, "POST", "/api/v1/posts", json={"text": "before", "space_id": space_id}
    )

    async def scenario() -> tuple[
        list[tuple[int, str | None]], float, float, float, float, int, str
    ]:
        talker = await connect(node.url, host.token, space_id, "publish", ToneTrack())
        ear = await connect(node.url, listener.token, space_id, "listen", None)
        try:
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
            leaver_ws = await ws_connect(leaver_url)
            await leaver_ws.recv()  # ready: present
            await asyncio.to_thread(set_reachable, database, False)
            down = time.monotonic()
            await leaver_ws.close()  # gone for good; the grace runs out mid-outage
            # A client (re)connecting its event stream meanwhile is told to try again later.
            async with ws_connect(leaver_url) as refused:
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(refused.recv(), 10)
            assert closed.value.rcvd is not None
            ws_close_code = closed.value.rcvd.code
            # One renegotiating its audio is answered from what the server holds in memory
            # (and hears the Space), or told to try again: never a failure.
            try:
                late = await connect(node.url, leaver.token, space_id, "listen", None)
            except httpx.HTTPStatusError as exc:
                assert exc.response.status_code == 503, exc.response.text
                assert exc.response.headers.get("retry-after") == "1"
                late_listener = "503"
            else:
                asked = time.monotonic()
                await wait_until(lambda: late.ear.heard_since(asked), timeout_s=5)
                late_listener = f"heard after {time.monotonic() - asked:.1f} s"
                await late.close()
            answers: list[tuple[int, str | None]] = []
            async with httpx.AsyncClient(base_url=node.url, timeout=20) as client:
                attempt = 0
                while time.monotonic() - down < OUTAGE_S:
                    attempt += 1
                    write = await client.post(
                        "/api/v1/posts",
                        json={"text": f"during {attempt}", "space_id": space_id},
                        headers=host.headers,
                    )
                    read = await client.get(f"/api/v1/spaces/{space_id}", headers=listener.headers)
                    for response in (write, read):
                        answers.append((response.status_code, response.headers.get("retry-after")))
                    await asyncio.sleep(0.5)
            await asyncio.to_thread(set_reachable, database, True)
            up = time.monotonic()
            # The first write after the outage: how long until the server serves again.
            async with httpx.AsyncClient(base_url=node.url, timeout=20) as client:
                while True:
                    after = await client.post(
                        "/api/v1/posts",
                        json={"text": "after", "space_id": space_id},
                        headers=host.headers,
                    )
                    if after.status_code == 201:
                        break
                    assert after.status_code == 503, after.text
                    assert time.monotonic() - up < RECOVERY_LIMIT_S, after.text
                    await asyncio.sleep(0.2)
            served_again_s = time.monotonic() - up
            # Audio: every second of the outage was heard.
            quiet = [
                round(second, 1)
                for second in range(int(OUTAGE_S))
                if ear.ear.rms_between(down + second, down + second + 1) < 300
            ]
            assert not quiet, f"silent seconds during the outage: {quiet}"
            loudness = ear.ear.rms_between(down, up)
            times = (down - opened, up - opened)
            return answers, served_again_s, loudness, *times, ws_close_code, late_listener
        finally:
            await talker.close()
            await ear.close()

    outcome = asyncio.run(scenario())
    answers, served_again_s, loudness, down_at_s, up_at_s, ws_close_code, late_listener = outcome
    outage_s = up_at_s - down_at_s
    statuses = [status for status, _ in answers]
    print(
        f"\ndatabase down {outage_s:.1f} s: {len(answers)} requests, statuses "
        f"{sorted(set(statuses))}, audio RMS {loudness:.0f} throughout, "
        f"served again {served_again_s:.1f} s after the database came back"
    )
    print(f"database down: an event stream opened meanwhile was closed with {ws_close_code}")
    print(f"database down: a listener connecting audio meanwhile: {late_listener}")
    assert ws_close_code == 1013  # try again later
    assert all(status == 503 for status in statuses), answers
    assert all(retry_after is not None and int(retry_after) > 0 for _, retry_after in answers)

    shared = call(node, host, "GET", f"/api/v1/spaces/{space_id}/shared-posts")["data"]
    assert [post["text"] for post in shared] == ["after", "before"]
    assert shared[1]["id"] == before["id"]
    assert call(node, listener, "GET", f"/api/v1/spaces/{space_id}")["state"] == "live"
    # The participant whose grace ran out during the outage leaves once the database is
    # back (the departure is retried), and nobody else does.
    up = opened + up_at_s
    while True:
        people = call(node, host, "GET", f"/api/v1/spaces/{space_id}/participants")["data"]
        roles = {p["user_id"]: p["role"] for p in people}
        if leaver.id not in roles:
            break
        assert time.monotonic() - up < LEFT_LIMIT_S, roles
        time.sleep(0.5)
    left_after_s = time.monotonic() - up
    print(f"database down: the participant gone mid-outage left {left_after_s:.1f} s after")
    assert roles == {host.id: "host", listener.id: "listener"}

    # The recording went on through the outage: one room, no restart, no gap.
    live_s = time.monotonic() - opened
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
    assert len(timeline.epochs) == 1, timeline.epochs
    # Who was speaking when, for the replay: kept while the database was down, saved after.
    events = call(node, listener, "GET", f"/api/v1/spaces/{space_id}/replay-events")["data"]
    speaking_s = {
        second
        for event in events
        if event["type"] == "speaker" and event["data"]["user_id"] == host.id
        for second in range(
            int(event["offset_ms"] // 1000),
            int((event["offset_ms"] + event["data"]["duration_ms"]) // 1000),
        )
    }
    missing = [s for s in range(int(down_at_s) + 1, int(up_at_s) - 1) if s not in speaking_s]
    print(f"database down: speaking moments in {len(speaking_s)} seconds of the replay")
    assert not missing, f"no speaking moments at {missing} s (outage {down_at_s:.1f}-{up_at_s:.1f})"
    print(f"database down: recording {timeline.duration_s:.1f} s in one piece, live {live_s:.1f} s")
    assert timeline.duration_s >= live_s - 1.5, (timeline.duration_s, live_s)
