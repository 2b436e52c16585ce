"""The user-level WebSocket delivers notifications as they happen, only to their owner."""

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.harness import Account, LiveServer


def ws_url(server: LiveServer, token: str | None) -> str:
    base = server.url.replace("http://", "ws://") + "/api/v1/events"
    return f"{base}?token={token}" if token else base


def next_frame(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=5))
    return frame


def test_a_follow_notification_arrives_live(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    with connect(ws_url(server, alice.token)) as ws:
        ready = next_frame(ws)
        assert ready["type"] == "ready"
        assert ready["data"]["user_id"] == alice.id
        with bob.client() as client:
            client.post(f"/api/v1/users/{alice.username}/follow")
        frame = next_frame(ws)
    assert frame["type"] == "notification"
    assert frame["seq"] is None
    assert frame["data"]["kind"] == "follow"
    assert frame["data"]["actor"]["username"] == bob.username


def test_other_users_do_not_receive_your_notifications(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    carol = server.signup()
    with connect(ws_url(server, carol.token)) as ws:
        assert next_frame(ws)["type"] == "ready"
        with bob.client() as client:
            client.post(f"/api/v1/users/{alice.username}/follow")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)


def test_a_failed_action_sends_nothing(server: LiveServer, alice: Account, bob: Account) -> None:
    with alice.client() as client:
        client.post(f"/api/v1/users/{bob.username}/block")
    with connect(ws_url(server, alice.token)) as ws:
        assert next_frame(ws)["type"] == "ready"
        with bob.client() as client:
            assert client.post(f"/api/v1/users/{alice.username}/follow").status_code == 403
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)


@pytest.mark.parametrize("token", [None, "th_bogus"])
def test_sockets_without_a_valid_token_are_closed_4401(
    server: LiveServer, token: str | None
) -> None:
    with connect(ws_url(server, token)) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


def test_a_cookie_socket_from_another_origin_is_refused(server: LiveServer) -> None:
    account = server.signup()
    with server.client() as browser:
        browser.post(
            "/api/v1/auth/login",
            json={
                "username": account.username,
                "password": "correct horse battery",
                "session": "cookie",
            },
        )
        cookie = browser.cookies["townhall_session"]
    headers = {"Cookie": f"townhall_session={cookie}", "Origin": "https://evil.example"}
    with (
        connect(ws_url(server, None), additional_headers=headers) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    same_origin = {"Cookie": f"townhall_session={cookie}", "Origin": server.url}
    with connect(ws_url(server, None), additional_headers=same_origin) as ws:
        assert next_frame(ws)["type"] == "ready"
