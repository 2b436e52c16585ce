"""Small helpers for the Spaces API tests: open a Space, join people, read its events."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.harness import Account, LiveServer


def open_space(host: Account, **fields: Any) -> dict[str, Any]:
    with host.client() as client:
        response = client.post("/api/v1/spaces", json={"title": "A live chat", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def call(account: Account, method: str, path: str, **kwargs: Any) -> Any:
    with account.client() as client:
        return client.request(method, path, **kwargs)


def join(account: Account, space_id: str) -> dict[str, Any]:
    response = call(account, "POST", f"/api/v1/spaces/{space_id}/join")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bring_on_stage(host: Account, speaker: Account, space_id: str) -> None:
    join(speaker, space_id)
    assert call(speaker, "POST", f"/api/v1/spaces/{space_id}/speak-requests").status_code == 201
    approved = call(host, "POST", f"/api/v1/spaces/{space_id}/speak-requests/{speaker.id}/approve")
    assert approved.status_code == 200, approved.text


def participants(account: Account, space_id: str) -> dict[str, dict[str, Any]]:
    body = call(account, "GET", f"/api/v1/spaces/{space_id}/participants").json()
    return {p["user_id"]: p for p in body["data"]}


def get_space(account: Account, space_id: str) -> dict[str, Any]:
    body: dict[str, Any] = call(account, "GET", f"/api/v1/spaces/{space_id}").json()
    return body


@contextmanager
def space_events(
    server: LiveServer, account: Account, space_id: str, since: int | None = None
) -> Iterator[ClientConnection]:
    url = server.url.replace("http://", "ws://") + f"/api/v1/spaces/{space_id}/events"
    url += f"?token={account.token}" + (f"&since={since}" if since is not None else "")
    with connect(url) as ws:
        yield ws


def next_frame(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return frame


def frames_until(ws: ClientConnection, kind: str, timeout: float = 5) -> list[dict[str, Any]]:
    seen = []
    while True:
        frame = next_frame(ws, timeout)
        seen.append(frame)
        if frame["type"] == kind:
            return seen
