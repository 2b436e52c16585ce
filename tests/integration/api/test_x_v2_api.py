"""The X API v2 compatible Spaces lookup, over HTTP on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.harness import Account, LiveServer

INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
UNKNOWN_SPACE_ID = "9" * 18


def create_space(host: Account, title: str, scheduled: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"title": title}
    if scheduled:
        body["scheduled_start"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    with host.client() as client:
        response = client.post("/api/v1/spaces", json=body)
    assert response.status_code == 201, response.text
    space: dict[str, Any] = response.json()
    return space


def live_space(server: LiveServer, title: str) -> tuple[Account, dict[str, Any]]:
    """A fresh host (one live Space per host) and their live Space."""
    host = server.signup()
    return host, create_space(host, title)


def get(client: httpx.Client, path: str, **params: str) -> tuple[int, dict[str, Any]]:
    response = client.get(path, params=params)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def unique_word() -> str:
    return f"w{uuid.uuid4().hex[:10]}"


def test_a_space_has_only_id_and_state_by_default(server: LiveServer) -> None:
    _host, space = live_space(server, "Morning coffee")
    with server.client() as anonymous:
        status, body = get(anonymous, f"/2/spaces/{space['id']}")
    assert status == 200
    assert body == {"data": {"id": space["id"], "state": "live"}}


def test_space_fields_add_the_named_fields_and_leave_out_empty_ones(server: LiveServer) -> None:
    host, space = live_space(server, "Field notes")
    fields = "title,creator_id,host_ids,created_at,started_at,ended_at,updated_at,is_ticketed"
    with server.client() as anonymous:
        status, body = get(
            anonymous, f"/2/spaces/{space['id']}", **{"space.fields": fields + ",participant_count"}
        )
    assert status == 200
    data = body["data"]
    assert data["id"] == space["id"]
    assert data["state"] == "live"
    assert data["title"] == "Field notes"
    assert data["creator_id"] == host.id
    assert data["host_ids"] == [host.id]
    assert data["is_ticketed"] is False
    assert data["participant_count"] == 1  # the host is a participant from the start
    assert data["created_at"].endswith("Z")
    assert data["updated_at"] == data["started_at"]
    assert "ended_at" not in data  # a live Space has not ended: X leaves the field out
    assert "includes" not in body


def test_expansions_put_the_users_in_includes(server: LiveServer) -> None:
    host, space = live_space(server, "Ask me anything")
    speaker, invitee = server.signup(), server.signup()
    with host.client() as client:
        for guest in (speaker, invitee):
            invite = {"user_id": guest.id, "role": "speaker"}
            response = client.post(f"/api/v1/spaces/{space['id']}/invites", json=invite)
            assert response.status_code == 201, response.text
    with speaker.client() as client:
        response = client.post(f"/api/v1/spaces/{space['id']}/invites/accept")
        assert response.status_code == 200, response.text
    with server.client() as anonymous:
        status, body = get(
            anonymous,
            f"/2/spaces/{space['id']}",
            **{
                "space.fields": "host_ids,speaker_ids,invited_user_ids,creator_id",
                "expansions": "creator_id,host_ids,speaker_ids,invited_user_ids",
                "user.fields": "description,created_at,public_metrics,protected",
            },
        )
    assert status == 200
    assert body["data"]["speaker_ids"] == [speaker.id]
    assert body["data"]["invited_user_ids"] == [invitee.id]
    users = {user["id"]: user for user in body["includes"]["users"]}
    assert set(users) == {host.id, speaker.id, invitee.id}  # the host once, not twice
    assert users[host.id]["username"] == host.username
    assert users[host.id]["name"]
    assert users[host.id]["description"] == ""
    assert users[host.id]["protected"] is False
    assert users[host.id]["public_metrics"] == {"followers_count": 0, "following_count": 0}
    assert users[host.id]["created_at"].endswith("Z")


def test_users_have_only_id_name_and_username_without_user_fields(server: LiveServer) -> None:
    host, space = live_space(server, "Plain users")
    with server.client() as anonymous:
        _status, body = get(anonymous, f"/2/spaces/{space['id']}", expansions="creator_id")
    assert body["data"] == {"id": space["id"], "state": "live"}
    assert body["includes"]["users"] == [
        {"id": host.id, "name": host.username, "username": host.username}
    ]


def test_an_unknown_space_is_a_not_found_error_with_200(server: LiveServer) -> None:
    with server.client() as anonymous:
        status, body = get(anonymous, f"/2/spaces/{UNKNOWN_SPACE_ID}")
    assert status == 200
    assert "data" not in body
    assert body["errors"] == [
        {
            "value": UNKNOWN_SPACE_ID,
            "detail": f"Could not find space with id: [{UNKNOWN_SPACE_ID}].",
            "title": "Not Found Error",
            "resource_type": "space",
            "parameter": "id",
            "resource_id": UNKNOWN_SPACE_ID,
            "type": NOT_FOUND,
        }
    ]


def test_looking_up_ids_returns_the_found_and_reports_the_missing(server: LiveServer) -> None:
    _first_host, first = live_space(server, "First")
    second_host = server.signup()
    second = create_space(second_host, "Second", scheduled=True)
    ids = f"{second['id']},{UNKNOWN_SPACE_ID},{first['id']}"
    with server.client() as anonymous:
        status, body = get(anonymous, "/2/spaces", ids=ids, **{"space.fields": "title"})
    assert status == 200
    assert body["data"] == [
        {"id": second["id"], "state": "scheduled", "title": "Second"},
        {"id": first["id"], "state": "live", "title": "First"},
    ]
    assert [(e["parameter"], e["resource_id"], e["type"]) for e in body["errors"]] == [
        ("ids", UNKNOWN_SPACE_ID, NOT_FOUND)
    ]


def test_by_creator_ids_lists_live_and_scheduled_spaces_not_ended_ones(
    server: LiveServer,
) -> None:
    host, other = server.signup(), server.signup()
    ended = create_space(host, "Yesterday")
    with host.client() as client:
        assert client.post(f"/api/v1/spaces/{ended['id']}/end").status_code == 200
    live = create_space(host, "Today")
    scheduled = create_space(host, "Tomorrow", scheduled=True)
    _, elsewhere = live_space(server, "Someone else's")
    with server.client() as anonymous:
        status, body = get(
            anonymous,
            "/2/spaces/by/creator_ids",
            user_ids=f"{host.id},{other.id}",
            **{"space.fields": "creator_id,scheduled_start"},
        )
    assert status == 200
    assert [space["id"] for space in body["data"]] == [live["id"], scheduled["id"]]
    assert {space["creator_id"] for space in body["data"]} == {host.id}
    assert "scheduled_start" in body["data"][1]
    assert body["meta"] == {"result_count": 2}
    assert elsewhere["id"] not in {space["id"] for space in body["data"]}


def test_by_creator_ids_with_nothing_to_show_has_a_zero_count(server: LiveServer) -> None:
    quiet = server.signup()
    with server.client() as anonymous:
        status, body = get(anonymous, "/2/spaces/by/creator_ids", user_ids=quiet.id)
    assert status == 200
    assert body == {"meta": {"result_count": 0}}


def test_search_matches_titles_and_filters_by_state(server: LiveServer) -> None:
    word = unique_word()
    _, live = live_space(server, f"Talking {word} tonight")
    scheduled = create_space(server.signup(), f"More {word.upper()} later", scheduled=True)
    live_space(server, "Something unrelated")

    def search(**params: str) -> list[str]:
        with server.client() as anonymous:
            status, body = get(anonymous, "/2/spaces/search", query=word, **params)
        assert status == 200
        assert body["meta"]["result_count"] == len(body.get("data", []))
        return [space["id"] for space in body.get("data", [])]

    assert search() == [live["id"], scheduled["id"]]  # X's default state is all
    assert search(state="all") == [live["id"], scheduled["id"]]
    assert search(state="live") == [live["id"]]
    assert search(state="scheduled") == [scheduled["id"]]
    assert search(max_results="1") == [live["id"]]


def test_search_leaves_out_ended_spaces(server: LiveServer) -> None:
    word = unique_word()
    host, space = live_space(server, f"Over {word}")
    with host.client() as client:
        assert client.post(f"/api/v1/spaces/{space['id']}/end").status_code == 200
    with server.client() as anonymous:
        status, body = get(anonymous, "/2/spaces/search", query=word)
    assert status == 200
    assert body == {"meta": {"result_count": 0}}


def test_a_token_is_accepted_but_a_bad_one_is_401_in_x_format(
    server: LiveServer, alice: Account
) -> None:
    _host, space = live_space(server, "With a token")
    with alice.client() as client:
        status, body = get(client, f"/2/spaces/{space['id']}")
    assert status == 200
    assert body["data"]["id"] == space["id"]
    with server.client("not-a-real-token") as client:
        status, body = get(client, f"/2/spaces/{space['id']}")
    assert status == 401
    assert body["title"] == "Unauthorized"
    assert "error" not in body


def assert_invalid_request(status: int, body: dict[str, Any], parameter: str) -> None:
    assert status == 400, body
    assert body["title"] == "Invalid Request"
    assert body["detail"] == "One or more parameters to your request was invalid."
    assert body["type"] == INVALID_REQUEST
    assert parameter in body["errors"][0]["parameters"]
    assert body["errors"][0]["message"]


def test_bad_parameters_are_400_in_x_format(server: LiveServer) -> None:
    _host, space = live_space(server, "Strict about parameters")
    one = f"/2/spaces/{space['id']}"
    cases: list[tuple[str, dict[str, str], str]] = [
        (one, {"space.fields": "title,colour"}, "space.fields"),
        (one, {"expansions": "pinned_tweet_id"}, "expansions"),
        (one, {"user.fields": "shoe_size"}, "user.fields"),
        (one, {"topic.fields": "colour"}, "topic.fields"),
        (one, {"pagination_token": "x"}, "pagination_token"),
        ("/2/spaces/not-an-id", {}, "id"),
        ("/2/spaces", {}, "ids"),
        ("/2/spaces", {"ids": ""}, "ids"),
        ("/2/spaces", {"ids": "12,abc"}, "ids"),
        ("/2/spaces", {"ids": ",".join(str(n) for n in range(1, 102))}, "ids"),
        ("/2/spaces/by/creator_ids", {}, "user_ids"),
        ("/2/spaces/by/creator_ids", {"user_ids": "@someone"}, "user_ids"),
        ("/2/spaces/search", {}, "query"),
        ("/2/spaces/search", {"query": "x", "state": "ended"}, "state"),
        ("/2/spaces/search", {"query": "x", "max_results": "0"}, "max_results"),
        ("/2/spaces/search", {"query": "x", "max_results": "101"}, "max_results"),
    ]
    with server.client() as anonymous:
        for path, params, parameter in cases:
            status, body = get(anonymous, path, **params)
            assert_invalid_request(status, body, parameter)


def test_every_bad_parameter_is_reported_at_once(server: LiveServer) -> None:
    with server.client() as anonymous:
        status, body = get(
            anonymous, "/2/spaces", ids="abc", **{"space.fields": "colour", "expansions": "nope"}
        )
    assert_invalid_request(status, body, "ids")
    reported = {name for error in body["errors"] for name in error["parameters"]}
    assert reported == {"ids", "space.fields", "expansions"}
    assert body["errors"][1]["message"] == (
        "The `space.fields` query parameter value [colour] is not one of [created_at,creator_id,"
        "ended_at,host_ids,id,invited_user_ids,is_ticketed,lang,participant_count,"
        "scheduled_start,speaker_ids,started_at,state,subscriber_count,title,topic_ids,updated_at]"
    )


def test_a_block_hides_the_space_from_the_blocked_viewer_only(
    server: LiveServer, alice: Account
) -> None:
    word = unique_word()
    host, space = live_space(server, f"Not for alice {word}")
    with host.client() as client:
        assert client.post(f"/api/v1/users/{alice.username}/block").status_code == 204
    with alice.client() as client:
        status, body = get(client, f"/2/spaces/{space['id']}")
        assert status == 200
        assert "data" not in body
        assert body["errors"][0]["resource_id"] == space["id"]
        _, body = get(client, "/2/spaces", ids=space["id"])
        assert "data" not in body
        assert body["errors"][0]["parameter"] == "ids"
        _, body = get(client, "/2/spaces/by/creator_ids", user_ids=host.id)
        assert body == {"meta": {"result_count": 0}}
        _, body = get(client, "/2/spaces/search", query=word)
        assert body == {"meta": {"result_count": 0}}
    with server.client() as anonymous:
        _, body = get(anonymous, f"/2/spaces/{space['id']}")
        assert body["data"]["id"] == space["id"]
        _, body = get(anonymous, "/2/spaces/search", query=word)
        assert body["meta"] == {"result_count": 1}
