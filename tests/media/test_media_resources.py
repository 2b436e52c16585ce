"""Joining and leaving over and over frees what each session took: tasks, sockets, tracks."""

import asyncio
import os

import httpx

from tests.harness import LiveServer
from tests.integration.spaces.space_helpers import join, open_space
from tests.media.peers import connect, wait_until

CYCLES = 40


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_listening_and_hanging_up_repeatedly_leaves_open_files_and_tasks_flat(
    sqlite_server: LiveServer,
) -> None:
    host, listener = sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    join(listener, space["id"])

    async def cycle() -> None:
        peer = await connect(sqlite_server.url, listener.token, space["id"], "listen", None)
        await wait_until(lambda: peer.pc.connectionState == "connected")
        async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
            response = await client.delete(
                f"/api/v1/spaces/{space['id']}/rtc/sessions/{peer.session_id}",
                headers={"Authorization": f"Bearer {listener.token}"},
            )
        assert response.status_code == 204
        await peer.close()

    async def scenario() -> tuple[int, int]:
        for _ in range(5):  # warm up: the room, thread pools, codec libraries
            await cycle()
        await asyncio.sleep(0.5)
        before = open_files()
        for _ in range(CYCLES):
            await cycle()
        await asyncio.sleep(1.0)
        return before, open_files()

    before, after = asyncio.run(scenario())
    assert after - before <= 3, (before, after)
    container = sqlite_server.container
    # The server is shared with other tests: only this Space's sessions are this test's.
    assert container.media.session_count(int(space["id"])) == 0
    room = container.media.room(int(space["id"]))
    assert room is not None and room.listener_count == 0


def test_a_room_nobody_is_connected_to_closes_and_reopens_on_demand(
    sqlite_server: LiveServer,
) -> None:
    host, listener = sqlite_server.signup(), sqlite_server.signup()
    space = open_space(host)
    join(listener, space["id"])
    media = sqlite_server.container.media
    space_id = int(space["id"])

    async def scenario() -> None:
        media.room_idle_s = 0.3
        try:
            peer = await connect(sqlite_server.url, listener.token, space["id"], "listen", None)
            assert media.room(space_id) is not None
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                await client.delete(
                    f"/api/v1/spaces/{space['id']}/rtc/sessions/{peer.session_id}",
                    headers={"Authorization": f"Bearer {listener.token}"},
                )
            await peer.close()
            await wait_until(lambda: media.room(space_id) is None, 10)
            again = await connect(sqlite_server.url, listener.token, space["id"], "listen", None)
            assert media.room(space_id) is not None
            await again.close()
        finally:
            media.room_idle_s = 30.0

    asyncio.run(scenario())
