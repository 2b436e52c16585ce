"""Direct messages over HTTP and the user event stream, on SQLite and PostgreSQL."""

import json
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.harness import Account, LiveServer
from tests.integration.api.dm_helpers import conversations_of, send, start
from tests.integration.spaces.space_helpers import call, open_space


def events_socket(server: LiveServer, account: Account) -> ClientConnection:
    url = server.url.replace("http://", "ws://") + f"/api/v1/events?token={account.token}"
    return connect(url)


def next_frame(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=5))
    return frame


def test_starting_a_conversation_twice_from_either_side_gives_the_same_one(
    alice: Account, bob: Account
) -> None:
    first = call(alice, "POST", "/api/v1/conversations", json={"user_ids": [bob.id]})
    assert first.status_code == 201
    again = call(bob, "POST", "/api/v1/conversations", json={"username": alice.username})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert sorted(first.json()["participant_ids"]) == sorted([alice.id, bob.id])
    assert first.json()["last_message"] is None
    assert first.json()["unread_count"] == 0


def test_a_message_is_stored_as_given_and_read_back(alice: Account, bob: Account) -> None:
    conversation = start(alice, bob)
    text = "<script>alert('hi')</script> & 🎙️ ok"
    sent = send(alice, conversation["id"], text)
    assert sent["text"] == text
    assert sent["sender"]["username"] == alice.username
    page = call(bob, "GET", f"/api/v1/conversations/{conversation['id']}/messages").json()
    assert [m["text"] for m in page["data"]] == [text]


def test_unread_counts_count_the_others_messages_until_marked_read(
    alice: Account, bob: Account
) -> None:
    conversation = start(alice, bob)
    for i in range(3):
        send(alice, conversation["id"], f"ping {i}")
    assert conversations_of(alice)[conversation["id"]]["unread_count"] == 0
    listed = conversations_of(bob)[conversation["id"]]
    assert listed["unread_count"] == 3
    assert listed["last_message"]["text"] == "ping 2"
    read = call(bob, "POST", f"/api/v1/conversations/{conversation['id']}/read")
    assert read.status_code == 204
    assert conversations_of(bob)[conversation["id"]]["unread_count"] == 0
    send(alice, conversation["id"], "one more")
    assert conversations_of(bob)[conversation["id"]]["unread_count"] == 1


def test_replying_reads_what_came_before(alice: Account, bob: Account) -> None:
    conversation = start(alice, bob)
    send(alice, conversation["id"], "ping")
    send(bob, conversation["id"], "pong")
    assert conversations_of(bob)[conversation["id"]]["unread_count"] == 0
    assert conversations_of(alice)[conversation["id"]]["unread_count"] == 1


def test_marking_read_up_to_a_message_leaves_the_newer_ones_unread(
    alice: Account, bob: Account
) -> None:
    conversation = start(alice, bob)
    first = send(alice, conversation["id"], "one")
    send(alice, conversation["id"], "two")
    call(
        bob,
        "POST",
        f"/api/v1/conversations/{conversation['id']}/read",
        json={"up_to_id": first["id"]},
    )
    assert conversations_of(bob)[conversation["id"]]["unread_count"] == 1


def test_the_conversation_list_puts_the_latest_activity_first(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    carol = server.signup()
    with_bob = start(alice, bob)
    with_carol = start(alice, carol)
    send(bob, with_bob["id"], "newer")
    page = call(alice, "GET", "/api/v1/conversations").json()
    assert [c["id"] for c in page["data"]] == [with_bob["id"], with_carol["id"]]


def test_messages_paginate_newest_first_without_gaps_or_repeats(
    alice: Account, bob: Account
) -> None:
    conversation = start(alice, bob)
    made = [send(alice, conversation["id"], f"m{i}")["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = call(
            bob, "GET", f"/api/v1/conversations/{conversation['id']}/messages", params=params
        ).json()
        assert len(page["data"]) <= 3
        seen.extend(m["id"] for m in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))


def test_conversations_paginate_too(server: LiveServer, alice: Account) -> None:
    others = [server.signup() for _ in range(3)]
    for other in others:
        start(alice, other)
    first = call(alice, "GET", "/api/v1/conversations", params={"limit": "2"}).json()
    assert len(first["data"]) == 2
    rest = call(
        alice, "GET", "/api/v1/conversations", params={"cursor": first["next_cursor"]}
    ).json()
    assert len(rest["data"]) == 1
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty_message"), ("   \n ", "empty_message"), ("a" * 1001, "message_too_long")],
)
def test_bad_message_text_is_422(alice: Account, bob: Account, text: str, code: str) -> None:
    conversation = start(alice, bob)
    response = call(
        alice, "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": text}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_a_message_of_1000_code_points_is_fine(alice: Account, bob: Account) -> None:
    conversation = start(alice, bob)
    assert send(alice, conversation["id"], "🎙" * 1000)["text"] == "🎙" * 1000


def test_a_text_that_is_not_a_string_is_422(alice: Account, bob: Account) -> None:
    conversation = start(alice, bob)
    response = call(
        alice, "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": 5}
    )
    assert response.status_code == 422
    assert "error" in response.json()


def test_malformed_json_is_400(alice: Account, bob: Account) -> None:
    conversation = start(alice, bob)
    response = call(
        alice,
        "POST",
        f"/api/v1/conversations/{conversation['id']}/messages",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_unknown_users_are_404(alice: Account) -> None:
    for body in ({"username": "nobody_here"}, {"user_ids": ["999999999999"]}, {"user_ids": ["x"]}):
        response = call(alice, "POST", "/api/v1/conversations", json=body)
        assert response.status_code == 404, body
        assert response.json()["error"]["code"] == "user_not_found"


@pytest.mark.parametrize("body", [{}, {"user_ids": []}, {"username": "a", "user_ids": ["1"]}])
def test_a_conversation_needs_exactly_one_other_person(
    alice: Account, body: dict[str, Any]
) -> None:
    response = call(alice, "POST", "/api/v1/conversations", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_recipients"


def test_you_cannot_message_yourself(alice: Account) -> None:
    response = call(alice, "POST", "/api/v1/conversations", json={"username": alice.username})
    assert response.status_code == 422


def test_people_outside_a_conversation_see_nothing_of_it(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    conversation = start(alice, bob)
    send(alice, conversation["id"], "just us")
    mallory = server.signup()
    base = f"/api/v1/conversations/{conversation['id']}"
    for method, path, body in (
        ("GET", base, None),
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/messages", {"text": "let me in"}),
        ("POST", f"{base}/read", None),
    ):
        response = call(mallory, method, path, json=body)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "conversation_not_found"
    assert conversations_of(mallory) == {}
    for bogus in ("999999999999", "abc"):
        assert call(alice, "GET", f"/api/v1/conversations/{bogus}/messages").status_code == 404


def test_logged_out_callers_are_401(server: LiveServer) -> None:
    with server.client() as client:
        assert client.get("/api/v1/conversations").status_code == 401


@pytest.mark.parametrize("blocker", ["sender", "recipient"])
def test_blocks_stop_conversations_and_messages_both_ways(
    alice: Account, bob: Account, blocker: str
) -> None:
    conversation = start(alice, bob)
    who, whom = (alice, bob) if blocker == "sender" else (bob, alice)
    assert call(who, "POST", f"/api/v1/users/{whom.username}/block").status_code == 204
    again = call(alice, "POST", "/api/v1/conversations", json={"username": bob.username})
    assert again.status_code == 403
    response = call(
        alice, "POST", f"/api/v1/conversations/{conversation['id']}/messages", json={"text": "hi"}
    )
    assert response.status_code == 403
    assert (
        call(bob, "POST", "/api/v1/conversations", json={"username": alice.username}).status_code
        == 403
    )


def test_sending_is_rate_limited_with_retry_after(alice: Account, bob: Account) -> None:
    conversation = start(alice, bob)
    path = f"/api/v1/conversations/{conversation['id']}/messages"
    with alice.client() as client:
        statuses = [client.post(path, json={"text": f"spam {i}"}) for i in range(31)]
    assert [r.status_code for r in statuses[:30]] == [201] * 30
    assert statuses[30].status_code == 429
    assert int(statuses[30].headers["Retry-After"]) >= 1


def test_a_message_is_delivered_live_to_both_members_only(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    conversation = start(alice, bob)
    carol = server.signup()
    with (
        events_socket(server, bob) as bob_ws,
        events_socket(server, carol) as carol_ws,
        events_socket(server, alice) as alice_ws,
    ):
        for ws in (bob_ws, carol_ws, alice_ws):
            assert next_frame(ws)["type"] == "ready"
        sent = send(alice, conversation["id"], "live?")
        for ws in (bob_ws, alice_ws):
            frame = next_frame(ws)
            assert frame["type"] == "message"
            assert frame["data"] == sent
        with pytest.raises(TimeoutError):
            carol_ws.recv(timeout=0.5)
        call(bob, "POST", f"/api/v1/conversations/{conversation['id']}/read")
        read = next_frame(bob_ws)
    assert read["type"] == "conversation.read"
    assert read["data"] == {
        "conversation_id": conversation["id"],
        "last_read_id": sent["id"],
        "unread_count": 0,
    }


def test_a_message_can_carry_a_space(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    conversation = start(alice, bob)
    sent = send(alice, conversation["id"], "come listen", space_id=space["id"])
    assert sent["space_id"] == space["id"]
    unknown = call(
        alice,
        "POST",
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "x", "space_id": "999999999999"},
    )
    assert unknown.status_code == 404


def test_a_host_invites_someone_to_speak_by_message(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    conversation = start(alice, bob)
    sent = send(
        alice, conversation["id"], "speak with me?", space_id=space["id"], invite_role="speaker"
    )
    assert sent["invite_role"] == "speaker"
    assert bob.id in call(alice, "GET", f"/api/v1/spaces/{space['id']}").json()["invited_user_ids"]
    accepted = call(bob, "POST", f"/api/v1/spaces/{space['id']}/invites/accept")
    assert accepted.status_code == 200
    assert accepted.json()["role"] == "speaker"


def test_only_a_host_can_send_an_invite_to_speak(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    space = open_space(alice)
    conversation = start(bob, server.signup())
    response = call(
        bob,
        "POST",
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "come", "space_id": space["id"], "invite_role": "speaker"},
    )
    assert response.status_code == 403
