"""Follows, follower lists, counts and blocks, over HTTP on SQLite and PostgreSQL."""

from tests.harness import Account, LiveServer


def profile(viewer: Account, username: str) -> dict[str, object]:
    with viewer.client() as client:
        response = client.get(f"/api/v1/users/{username}")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def test_following_counts_once_however_often_it_is_asked(alice: Account, bob: Account) -> None:
    with bob.client() as client:
        for _ in range(3):
            assert client.post(f"/api/v1/users/{alice.username}/follow").status_code == 204
    seen = profile(bob, alice.username)
    assert seen["followers_count"] == 1
    assert seen["relationship"] == {
        "following": True,
        "followed_by": False,
        "blocking": False,
        "blocked_by": False,
    }
    assert profile(alice, bob.username)["following_count"] == 1


def test_unfollowing_is_idempotent_and_updates_counts(alice: Account, bob: Account) -> None:
    with bob.client() as client:
        client.post(f"/api/v1/users/{alice.username}/follow")
        for _ in range(2):
            assert client.delete(f"/api/v1/users/{alice.username}/follow").status_code == 204
    assert profile(bob, alice.username)["followers_count"] == 0
    assert profile(alice, bob.username)["following_count"] == 0


def test_following_yourself_is_422(alice: Account) -> None:
    with alice.client() as client:
        response = client.post(f"/api/v1/users/{alice.username}/follow")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "cannot_follow_self"


def test_following_an_unknown_user_is_404(alice: Account) -> None:
    with alice.client() as client:
        assert client.post("/api/v1/users/nobody_here_x/follow").status_code == 404
        assert client.post("/api/v1/users/bad%20name!/follow").status_code == 404


def test_following_needs_a_login(server: LiveServer, alice: Account) -> None:
    with server.client() as client:
        assert client.post(f"/api/v1/users/{alice.username}/follow").status_code == 401


def test_followers_and_following_paginate_newest_first(server: LiveServer) -> None:
    star = server.signup()
    fans = [server.signup() for _ in range(5)]
    for fan in fans:
        with fan.client() as client:
            client.post(f"/api/v1/users/{star.username}/follow")
    seen: list[str] = []
    cursor: str | None = None
    with server.client() as client:
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = client.get(f"/api/v1/users/{star.username}/followers", params=params).json()
            seen.extend(user["username"] for user in page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [fan.username for fan in reversed(fans)]
        following = client.get(f"/api/v1/users/{fans[0].username}/following").json()
    assert [u["username"] for u in following["data"]] == [star.username]


def test_a_blocked_user_cannot_follow_the_blocker(alice: Account, bob: Account) -> None:
    with alice.client() as client:
        assert client.post(f"/api/v1/users/{bob.username}/block").status_code == 204
    with bob.client() as client:
        response = client.post(f"/api/v1/users/{alice.username}/follow")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "blocked"


def test_blocking_ends_follows_both_ways(alice: Account, bob: Account) -> None:
    with bob.client() as client:
        client.post(f"/api/v1/users/{alice.username}/follow")
    with alice.client() as client:
        client.post(f"/api/v1/users/{bob.username}/follow")
        client.post(f"/api/v1/users/{bob.username}/block")
    seen = profile(alice, bob.username)
    assert seen["followers_count"] == 0 and seen["following_count"] == 0
    assert seen["relationship"] == {
        "following": False,
        "followed_by": False,
        "blocking": True,
        "blocked_by": False,
    }


def test_unblocking_lets_them_follow_again(alice: Account, bob: Account) -> None:
    with alice.client() as client:
        client.post(f"/api/v1/users/{bob.username}/block")
        assert client.delete(f"/api/v1/users/{bob.username}/block").status_code == 204
    with bob.client() as client:
        assert client.post(f"/api/v1/users/{alice.username}/follow").status_code == 204


def test_a_follow_notifies_the_followed(alice: Account, bob: Account) -> None:
    with bob.client() as client:
        client.post(f"/api/v1/users/{alice.username}/follow")
    with alice.client() as client:
        notifications = client.get("/api/v1/notifications").json()["data"]
        assert [(n["kind"], n["actor_id"], n["read"]) for n in notifications] == [
            ("follow", bob.id, False)
        ]
        assert notifications[0]["actor"]["username"] == bob.username
        assert client.post("/api/v1/notifications/read").status_code == 204
        assert client.get("/api/v1/notifications").json()["data"][0]["read"] is True
