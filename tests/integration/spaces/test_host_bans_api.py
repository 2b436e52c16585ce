"""A host keeps someone out of all their Spaces ahead of time, sees the list, lifts bans."""

from tests.harness import Account, LiveServer
from tests.integration.spaces.space_helpers import call, open_space, participants

BANS = "/api/v1/me/bans"


def test_a_user_banned_before_joining_cannot_join_any_of_the_hosts_spaces(
    alice: Account, bob: Account
) -> None:
    banned = call(alice, "POST", BANS, json={"username": bob.username})
    assert banned.status_code == 201, banned.text
    assert banned.json()["user_id"] == bob.id
    space = open_space(alice)
    refused = call(bob, "POST", f"/api/v1/spaces/{space['id']}/join")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "banned"


def test_lifting_a_ban_lets_them_join(alice: Account, bob: Account) -> None:
    assert call(alice, "POST", BANS, json={"user_id": bob.id}).status_code == 201
    listed = call(alice, "GET", BANS).json()["data"]
    assert [(b["user_id"], b["user"]["username"]) for b in listed] == [(bob.id, bob.username)]
    assert call(alice, "DELETE", f"{BANS}/{bob.id}").status_code == 204
    assert call(alice, "GET", BANS).json()["data"] == []
    space = open_space(alice)
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/join").status_code == 200


def test_a_ban_keeps_out_of_that_hosts_spaces_only(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    carol = server.signup()
    assert call(alice, "POST", BANS, json={"username": bob.username}).status_code == 201
    space = open_space(carol)
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/join").status_code == 200


def test_a_removal_with_block_shows_in_the_ban_list(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/join").status_code == 200
    removed = call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{bob.id}/remove",
        json={"block": True},
    )
    assert removed.status_code == 204
    listed = call(alice, "GET", BANS).json()["data"]
    assert [(b["user_id"], b["space_id"]) for b in listed] == [(bob.id, space["id"])]


def test_banning_someone_already_in_the_hosts_live_space_removes_them(
    alice: Account, bob: Account
) -> None:
    space = open_space(alice)
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/join").status_code == 200
    assert call(alice, "POST", BANS, json={"username": bob.username}).status_code == 201
    assert bob.id not in participants(alice, space["id"])
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/join").status_code == 403


def test_bans_are_checked(alice: Account) -> None:
    assert call(alice, "POST", BANS, json={"username": "nobody_at_all"}).status_code == 404
    assert call(alice, "POST", BANS, json={"user_id": "nope"}).status_code == 404
    assert call(alice, "POST", BANS, json={}).status_code == 422
    yourself = call(alice, "POST", BANS, json={"username": alice.username})
    assert yourself.status_code == 422
    assert call(alice, "DELETE", f"{BANS}/123").status_code == 404


def test_banning_twice_keeps_one_ban(alice: Account, bob: Account) -> None:
    for _ in range(2):
        assert call(alice, "POST", BANS, json={"username": bob.username}).status_code == 201
    assert len(call(alice, "GET", BANS).json()["data"]) == 1
