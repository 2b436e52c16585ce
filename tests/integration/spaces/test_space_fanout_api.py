"""Space events go out through the raw write under `townhall serve`, and read the same
through plain ASGI under any other server."""

import gc
import json
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.harness import Account, LiveServer, make_settings, serve_in_thread
from tests.integration.spaces.space_helpers import (
    call,
    frames_until,
    join,
    next_frame,
    open_space,
    space_events,
)
from townhall.realtime.fanout import FanoutHub, QueueSink, RawSink, Sink
from townhall.realtime.frames import EncodedOnce
from townhall.services.moderation import do_set_admin
from townhall.services.space_log import space_channel


@pytest.fixture(scope="module")
def asgi_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """uvicorn's own WebSocket protocol: no raw write in the scope, as under other servers."""
    settings = make_settings(tmp_path_factory.mktemp("asgi-only"))
    yield from serve_in_thread(settings, ws="websockets-sansio")


def sinks_of(server: LiveServer, space_id: str) -> list[Sink]:
    hub: FanoutHub = server.app.state.space_fanout
    broadcaster = hub.broadcaster(space_channel(int(space_id)))
    assert broadcaster is not None
    return [member.sink for member in broadcaster._members]


def a_short_session(server: LiveServer) -> list[dict[str, Any]]:
    """Host listens while a listener joins, reacts and the host renames the Space."""
    host, listener = server.signup(), server.signup()
    space = open_space(host)
    sid = space["id"]
    with space_events(server, host, sid) as ws:
        assert next_frame(ws)["type"] == "ready"
        join(listener, sid)
        reacted = call(listener, "POST", f"/api/v1/spaces/{sid}/reactions", json={"emoji": "🔥"})
        assert reacted.status_code == 202, reacted.text
        seen = frames_until(ws, "reaction")
        call(host, "PATCH", f"/api/v1/spaces/{sid}", json={"title": "Renamed"})
        seen += frames_until(ws, "space.updated")
        sinks = sinks_of(server, sid)
    return [{"sink": type(s).__name__} for s in sinks] + seen


def shape(frames: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (f["type"], f["seq"] is not None, sorted(f["data"])) if "type" in f else (f["sink"],)
        for f in frames
    ]


def test_the_raw_write_and_the_asgi_fallback_send_the_same_events(
    server: LiveServer, asgi_only_server: LiveServer
) -> None:
    raw = a_short_session(server)
    plain = a_short_session(asgi_only_server)
    assert raw[0] == {"sink": RawSink.__name__}
    assert plain[0] == {"sink": QueueSink.__name__}
    assert shape(raw[1:]) == shape(plain[1:])
    assert [f["type"] for f in raw[1:]] == [
        "participant.joined",
        "listeners.count",
        "reaction",
        "space.updated",
    ]


def test_a_burst_sent_in_one_write_reaches_a_real_client_as_separate_messages(
    server: LiveServer, alice: Account
) -> None:
    space = open_space(alice)
    sid = space["id"]
    channel = space_channel(int(sid))
    with space_events(server, alice, sid) as ws:
        assert next_frame(ws)["type"] == "ready"
        assert [type(s) for s in sinks_of(server, sid)] == [RawSink]
        for n in range(40):
            server.container.bus.publish_threadsafe(
                channel,
                EncodedOnce(
                    type="burst", space_id=sid, seq=None, at="t", data={"n": n, "pad": "é" * n * 5}
                ),
            )
        received = [next_frame(ws) for _ in range(40)]
    assert [f["data"]["n"] for f in received] == list(range(40))
    assert all(f["data"]["pad"] == "é" * f["data"]["n"] * 5 for f in received)


@pytest.mark.parametrize("which", ["raw", "asgi_only"])
def test_your_own_event_stream_works_with_and_without_the_raw_write(
    which: str, server: LiveServer, asgi_only_server: LiveServer
) -> None:
    live = server if which == "raw" else asgi_only_server
    alice, bob = live.signup(), live.signup()
    url = live.url.replace("http://", "ws://") + f"/api/v1/events?token={alice.token}"
    with connect(url) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "ready"
        with bob.client() as client:
            client.post(f"/api/v1/users/{alice.username}/follow")
        frame = json.loads(ws.recv(timeout=5))
    assert (frame["type"], frame["data"]["kind"]) == ("notification", "follow")
    assert frame["data"]["actor"]["username"] == bob.username


def coroutines_serving_space_events() -> int:
    return sum(
        1
        for o in gc.get_objects()
        if type(o) is types.CoroutineType and o.__qualname__ == "space_events"
    )


def test_a_live_event_socket_holds_no_handler_and_is_let_go_when_it_closes(
    server: LiveServer,
) -> None:
    host, listener = server.signup(), server.signup()
    sid = open_space(host)["id"]
    join(listener, sid)
    with space_events(server, host, sid) as host_ws, space_events(server, listener, sid) as ws:
        assert next_frame(host_ws)["type"] == "ready"
        assert next_frame(ws)["type"] == "ready"
        # Both sockets are live with no request handler suspended on them.
        assert coroutines_serving_space_events() == 0
        assert len(sinks_of(server, sid)) == 2
        ws.close()
        assert wait_until(lambda: len(sinks_of(server, sid)) == 1)
        call(host, "PATCH", f"/api/v1/spaces/{sid}", json={"title": "Still here"})
        assert "Still here" in json.dumps(frames_until(host_ws, "space.updated")[-1]["data"])


def wait_until(condition: Callable[[], bool], timeout_s: float = 5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.mark.parametrize("which", ["raw write", "asgi fallback"])
def test_a_suspension_closes_the_users_space_sockets_with_4401_either_way(
    server: LiveServer, asgi_only_server: LiveServer, which: str
) -> None:
    """Their personal socket is not all: the Space they are listening to lets go too."""
    chosen = server if which == "raw write" else asgi_only_server
    admin, host, bob = chosen.signup(), chosen.signup(), chosen.signup()
    assert do_set_admin(chosen.container.services, admin.username, True)
    space_id = open_space(host)["id"]
    join(bob, space_id)
    with space_events(chosen, bob, space_id) as ws:
        assert next_frame(ws)["type"] == "ready"
        suspended = call(admin, "POST", f"/api/v1/admin/users/{bob.id}/suspend")
        assert suspended.status_code == 204, suspended.text
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    assert chosen.container.user_sockets.count(int(bob.id)) == 0
