"""Posts, replies and the home timeline, over HTTP on SQLite and PostgreSQL."""

from typing import Any

from tests.harness import Account, LiveServer


def post(account: Account, text: str, **extra: str) -> dict[str, Any]:
    with account.client() as client:
        response = client.post("/api/v1/posts", json={"text": text, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_post_is_stored_and_readable_by_anyone(server: LiveServer, alice: Account) -> None:
    created = post(alice, "Hello, <Townhall> & friends 👋")
    assert created["author_id"] == alice.id
    assert created["space_id"] is None
    with server.client() as client:
        fetched = client.get(f"/api/v1/posts/{created['id']}").json()
    assert fetched["text"] == "Hello, <Townhall> & friends 👋"
    assert fetched["created_at"].endswith("Z")


def test_posts_count_code_points(alice: Account) -> None:
    post(alice, "🎙️" * 140)  # 280 code points, far more bytes
    with alice.client() as client:
        response = client.post("/api/v1/posts", json={"text": "a" * 281})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "post_too_long"


def test_the_timeline_holds_you_and_people_you_follow_newest_first(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    stranger = server.signup()
    with bob.client() as client:
        client.post(f"/api/v1/users/{alice.username}/follow")
    first = post(alice, "alice one")
    post(stranger, "stranger's post")
    second = post(bob, "bob one")
    third = post(alice, "alice two")
    with bob.client() as client:
        page = client.get("/api/v1/timeline").json()
    assert [p["id"] for p in page["data"]] == [third["id"], second["id"], first["id"]]
    assert page["data"][0]["author"]["username"] == alice.username
    assert page["next_cursor"] is None


def test_the_timeline_paginates_without_gaps_or_repeats(alice: Account) -> None:
    made = [post(alice, f"post {i}")["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    with alice.client() as client:
        while True:
            params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/timeline", params=params).json()
            seen.extend(p["id"] for p in page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == list(reversed(made))


def test_replies_point_at_their_parent(alice: Account, bob: Account) -> None:
    parent = post(alice, "question?")
    reply = post(bob, "answer!", reply_to=parent["id"])
    assert reply["reply_to"] == parent["id"]


def test_replying_to_an_unknown_post_is_404(alice: Account) -> None:
    with alice.client() as client:
        for reply_to in ("999999999999", "abc"):
            response = client.post("/api/v1/posts", json={"text": "hi", "reply_to": reply_to})
            assert response.status_code == 404


def test_replying_to_someone_who_blocked_you_is_403(alice: Account, bob: Account) -> None:
    parent = post(alice, "not for bob")
    with alice.client() as client:
        client.post(f"/api/v1/users/{bob.username}/block")
    with bob.client() as client:
        response = client.post("/api/v1/posts", json={"text": "hey", "reply_to": parent["id"]})
    assert response.status_code == 403


def test_a_post_naming_an_unknown_space_is_404_and_not_stored(alice: Account) -> None:
    with alice.client() as client:
        response = client.post("/api/v1/posts", json={"text": "join me", "space_id": "12345"})
        assert response.status_code == 404
        assert client.get("/api/v1/timeline").json()["data"] == []


def test_unknown_posts_are_404(server: LiveServer) -> None:
    with server.client() as client:
        for post_id in ("1", "nope", "9" * 30):
            response = client.get(f"/api/v1/posts/{post_id}")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "post_not_found"


def test_a_user_profile_lists_their_posts(server: LiveServer, alice: Account) -> None:
    made = post(alice, "on my profile")
    with server.client() as client:
        page = client.get(f"/api/v1/users/{alice.username}/posts").json()
    assert [p["id"] for p in page["data"]] == [made["id"]]
