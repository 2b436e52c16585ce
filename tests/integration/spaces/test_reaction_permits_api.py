"""Reactions are answered from memory, yet every change of who may react takes effect at once."""

from typing import Any

from tests.harness import Account, LiveServer
from tests.integration.spaces.space_helpers import call, get_space, join, open_space


def _react(account: Account, space_id: str, emoji: str = "🔥") -> Any:
    return call(account, "POST", f"/api/v1/spaces/{space_id}/reactions", json={"emoji": emoji})


def test_leaving_ends_the_right_to_react_at_once(alice: Account, bob: Account) -> None:
    sid = open_space(alice)["id"]
    join(bob, sid)
    assert _react(bob, sid).status_code == 202
    assert _react(bob, sid, "💜").status_code == 202  # now answered without the database
    assert call(bob, "POST", f"/api/v1/spaces/{sid}/leave").status_code == 204
    refused = _react(bob, sid)
    assert refused.status_code == 403, refused.text
    join(bob, sid)
    assert _react(bob, sid).status_code == 202


def test_a_removed_participant_cannot_react(server: LiveServer, alice: Account) -> None:
    sid = open_space(alice)["id"]
    carol = server.signup()
    join(carol, sid)
    assert _react(carol, sid).status_code == 202
    removed = call(alice, "POST", f"/api/v1/spaces/{sid}/participants/{carol.id}/remove")
    assert removed.status_code == 204
    assert _react(carol, sid).status_code == 403


def test_a_block_between_host_and_reactor_hides_the_space_at_once(
    alice: Account, bob: Account
) -> None:
    sid = open_space(alice)["id"]
    join(bob, sid)
    assert _react(bob, sid).status_code == 202
    assert call(alice, "POST", f"/api/v1/users/{bob.username}/block").status_code == 204
    hidden = _react(bob, sid)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "space_not_found"


def test_no_reactions_once_the_space_has_ended(alice: Account, bob: Account) -> None:
    sid = open_space(alice)["id"]
    join(bob, sid)
    assert _react(bob, sid).status_code == 202
    assert call(alice, "POST", f"/api/v1/spaces/{sid}/end").status_code == 200
    assert _react(bob, sid).status_code == 409


def test_the_participant_count_follows_joins_leaves_and_rejoins(server: LiveServer) -> None:
    host = server.signup()
    sid = open_space(host)["id"]
    people = [server.signup() for _ in range(3)]
    for person in people:
        join(person, sid)
    assert get_space(host, sid)["participant_count"] == 4
    first = join(people[0], sid)
    assert join(people[0], sid) == first  # joining twice: the same participant, no recount
    assert get_space(host, sid)["participant_count"] == 4
    assert call(people[1], "POST", f"/api/v1/spaces/{sid}/leave").status_code == 204
    assert call(people[1], "POST", f"/api/v1/spaces/{sid}/leave").status_code == 204
    assert get_space(host, sid)["participant_count"] == 3
    join(people[1], sid)
    assert get_space(host, sid)["participant_count"] == 4
    assert call(host, "POST", f"/api/v1/spaces/{sid}/end").status_code == 200
    assert get_space(host, sid)["participant_count"] == 0


def test_a_cached_session_ends_at_once_on_logout(server: LiveServer) -> None:
    account = server.signup()
    with account.client() as client:
        for _ in range(3):
            assert client.get("/api/v1/me").status_code == 200  # looked up once, then cached
        assert client.post("/api/v1/auth/logout").status_code == 204
        after = client.get("/api/v1/me")
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "invalid_token"
