"""Small helpers for the direct-message API tests: start a conversation, send, list."""

from typing import Any

from tests.harness import Account
from tests.integration.spaces.space_helpers import call


def start(account: Account, other: Account) -> dict[str, Any]:
    response = call(account, "POST", "/api/v1/conversations", json={"username": other.username})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def send(account: Account, conversation_id: str, text: str, **extra: Any) -> dict[str, Any]:
    response = call(
        account,
        "POST",
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text, **extra},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def conversations_of(account: Account) -> dict[str, dict[str, Any]]:
    page = call(account, "GET", "/api/v1/conversations").json()
    return {c["id"]: c for c in page["data"]}
