"""Creating, scheduling, starting, editing, ending and discovering Spaces over HTTP."""

from datetime import UTC, datetime, timedelta

from tests.harness import Account, LiveServer
from tests.integration.spaces.space_helpers import call, get_space, join, open_space


def soon(hours: float = 1) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def test_a_space_is_live_at_once_with_its_host_on_stage(alice: Account) -> None:
    space = open_space(alice, title="Morning show", topic_ids=["music"])
    assert space["state"] == "live"
    assert space["host_ids"] == [alice.id] and space["creator_id"] == alice.id
    assert space["participant_count"] == 1
    assert space["share_url"] == f"/s/{space['id']}"
    host = call(alice, "GET", f"/api/v1/spaces/{space['id']}/participants").json()["data"][0]
    assert (host["user_id"], host["role"], host["muted"]) == (alice.id, "host", True)


def test_a_host_has_one_live_space_at_a_time(alice: Account) -> None:
    open_space(alice)
    second = call(alice, "POST", "/api/v1/spaces", json={"title": "another"})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "already_live"


def test_scheduled_spaces_start_later_and_at_most_thirty_days_ahead(alice: Account) -> None:
    space = open_space(alice, scheduled_start=soon())
    assert space["state"] == "scheduled" and space["participant_count"] == 0
    too_far = call(
        alice, "POST", "/api/v1/spaces", json={"title": "x", "scheduled_start": soon(24 * 31)}
    )
    assert too_far.status_code == 422
    past = call(alice, "POST", "/api/v1/spaces", json={"title": "x", "scheduled_start": soon(-1)})
    assert past.status_code == 422
    naive = call(
        alice,
        "POST",
        "/api/v1/spaces",
        json={"title": "x", "scheduled_start": "2030-01-01T10:00:00"},
    )
    assert naive.status_code == 422
    started = call(alice, "POST", f"/api/v1/spaces/{space['id']}/start")
    assert started.status_code == 200 and started.json()["state"] == "live"


def test_only_the_host_starts_ends_or_cancels(alice: Account, bob: Account) -> None:
    scheduled = open_space(alice, scheduled_start=soon())
    assert call(bob, "POST", f"/api/v1/spaces/{scheduled['id']}/start").status_code == 403
    assert call(bob, "DELETE", f"/api/v1/spaces/{scheduled['id']}").status_code == 403
    assert call(alice, "DELETE", f"/api/v1/spaces/{scheduled['id']}").status_code == 204
    assert get_space(alice, scheduled["id"])["state"] == "ended"
    live = open_space(alice)
    join(bob, live["id"])
    assert call(bob, "POST", f"/api/v1/spaces/{live['id']}/end").status_code == 403
    assert call(alice, "DELETE", f"/api/v1/spaces/{live['id']}").status_code == 409


def test_an_ended_space_never_reopens(alice: Account) -> None:
    space = open_space(alice)
    assert call(alice, "POST", f"/api/v1/spaces/{space['id']}/end").json()["state"] == "ended"
    assert call(alice, "POST", f"/api/v1/spaces/{space['id']}/end").status_code == 409
    assert call(alice, "POST", f"/api/v1/spaces/{space['id']}/start").status_code == 409
    assert call(alice, "POST", f"/api/v1/spaces/{space['id']}/join").status_code == 409
    assert (
        call(alice, "PATCH", f"/api/v1/spaces/{space['id']}", json={"title": "again"}).status_code
        == 409
    )


def test_the_host_leaving_ends_the_space(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    join(bob, space["id"])
    assert call(alice, "POST", f"/api/v1/spaces/{space['id']}/leave").status_code == 204
    ended = get_space(bob, space["id"])
    assert ended["state"] == "ended" and ended["participant_count"] == 0


def test_host_and_cohost_edit_the_space(server: LiveServer, alice: Account, bob: Account) -> None:
    space = open_space(alice)
    join(bob, space["id"])
    denied = call(bob, "PATCH", f"/api/v1/spaces/{space['id']}", json={"title": "mine now"})
    assert denied.status_code == 403
    call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{bob.id}/role",
        json={"role": "cohost"},
    )
    edited = call(
        bob,
        "PATCH",
        f"/api/v1/spaces/{space['id']}",
        json={"title": "Better title", "who_can_speak": "invited"},
    )
    assert edited.status_code == 200
    assert edited.json()["title"] == "Better title" and edited.json()["who_can_speak"] == "invited"
    assert (
        call(bob, "PATCH", f"/api/v1/spaces/{space['id']}", json={"title": ""}).status_code == 422
    )
    assert (
        call(
            bob, "PATCH", f"/api/v1/spaces/{space['id']}", json={"who_can_speak": "nobody"}
        ).status_code
        == 422
    )


def test_discovery_lists_followed_hosts_first_then_by_audience(server: LiveServer) -> None:
    viewer = server.signup()
    big, followed = server.signup(), server.signup()
    big_space = open_space(big, title="zz-discovery big")
    followed_space = open_space(followed, title="zz-discovery small")
    for _ in range(2):
        join(server.signup(), big_space["id"])
    call(viewer, "POST", f"/api/v1/users/{followed.username}/follow")
    listed = call(viewer, "GET", "/api/v1/spaces", params={"q": "zz-discovery"}).json()["data"]
    assert [s["id"] for s in listed] == [followed_space["id"], big_space["id"]]
    with server.client() as anonymous_client:
        anonymous = anonymous_client.get("/api/v1/spaces", params={"q": "zz-discovery"}).json()
    assert [s["id"] for s in anonymous["data"]] == [big_space["id"], followed_space["id"]]


def test_scheduled_spaces_list_soonest_first_and_search_topics(server: LiveServer) -> None:
    first, second = server.signup(), server.signup()
    later = open_space(
        first, title="later one", scheduled_start=soon(5), topic_ids=["zztopic-gardening"]
    )
    sooner = open_space(
        second, title="sooner one", scheduled_start=soon(2), topic_ids=["zztopic-gardening"]
    )
    listed = call(
        first, "GET", "/api/v1/spaces", params={"state": "scheduled", "q": "zztopic-gardening"}
    ).json()
    assert [s["id"] for s in listed["data"]] == [sooner["id"], later["id"]]
    assert call(first, "GET", "/api/v1/spaces", params={"state": "gone"}).status_code == 422


def test_a_space_of_someone_who_blocked_you_is_hidden(alice: Account, bob: Account) -> None:
    space = open_space(alice, title="zz-hidden from bob")
    call(alice, "POST", f"/api/v1/users/{bob.username}/block")
    assert call(bob, "GET", f"/api/v1/spaces/{space['id']}").status_code == 404
    listed = call(bob, "GET", "/api/v1/spaces", params={"q": "zz-hidden"}).json()["data"]
    assert listed == []
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/join").status_code == 404


def test_followers_hear_when_someone_goes_live_and_subscribers_when_it_starts(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    carol = server.signup()
    call(bob, "POST", f"/api/v1/users/{alice.username}/follow")
    scheduled = open_space(alice, scheduled_start=soon())
    assert call(carol, "POST", f"/api/v1/spaces/{scheduled['id']}/reminders").status_code == 204
    assert call(carol, "POST", f"/api/v1/spaces/{scheduled['id']}/reminders").status_code == 204
    assert get_space(carol, scheduled["id"])["subscriber_count"] == 1
    call(alice, "POST", f"/api/v1/spaces/{scheduled['id']}/start")
    bob_kinds = [
        (n["kind"], n["space_id"]) for n in call(bob, "GET", "/api/v1/notifications").json()["data"]
    ]
    carol_kinds = [
        (n["kind"], n["space_id"])
        for n in call(carol, "GET", "/api/v1/notifications").json()["data"]
    ]
    assert ("space_live", scheduled["id"]) in bob_kinds
    assert carol_kinds == [("space_reminder", scheduled["id"])]


def test_unknown_spaces_are_404(server: LiveServer, alice: Account) -> None:
    for space_id in ("123", "abc", "9" * 25):
        assert call(alice, "GET", f"/api/v1/spaces/{space_id}").status_code == 404
        assert call(alice, "POST", f"/api/v1/spaces/{space_id}/join").status_code == 404


def test_bad_space_bodies_are_422(alice: Account) -> None:
    for body in (
        {},
        {"title": 5},
        {"title": "x" * 71},
        {"title": "ok", "recording": "yes"},
        {"title": "ok", "who_can_speak": "all"},
        {"title": "ok", "scheduled_start": "tomorrow"},
    ):
        response = call(alice, "POST", "/api/v1/spaces", json=body)
        assert response.status_code == 422, body


def test_a_hosts_profile_points_at_their_live_space(server: LiveServer, alice: Account) -> None:
    assert call(alice, "GET", "/api/v1/me").json()["live_space_id"] is None
    space = open_space(alice)
    with server.client() as anonymous:
        profile = anonymous.get(f"/api/v1/users/{alice.username}").json()
    assert profile["live_space_id"] == space["id"]
    assert call(alice, "GET", "/api/v1/me").json()["live_space_id"] == space["id"]
    call(alice, "POST", f"/api/v1/spaces/{space['id']}/end")
    assert call(alice, "GET", "/api/v1/me").json()["live_space_id"] is None
