"""Reports, the admins' queue, suspensions, removals and the audit log, over HTTP."""

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.harness import TEST_PASSWORD, Account, LiveServer
from tests.integration.spaces.space_helpers import (
    call,
    frames_until,
    get_space,
    join,
    open_space,
    participants,
    space_events,
)
from townhall import cli
from townhall.services.moderation import do_set_admin

ADMIN = "/api/v1/admin"


@pytest.fixture
def admin(server: LiveServer) -> Account:
    account = server.signup()
    assert do_set_admin(server.container.services, account.username, True)
    return account


def post(account: Account, text: str = "something to report") -> dict[str, Any]:
    response = call(account, "POST", "/api/v1/posts", json={"text": text})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def report(account: Account, target_type: str, target_id: str, **extra: Any) -> Any:
    body = {"target_type": target_type, "target_id": target_id, "reason": "spam", **extra}
    return call(account, "POST", "/api/v1/reports", json=body)


def open_reports(admin: Account) -> list[dict[str, Any]]:
    response = call(admin, "GET", f"{ADMIN}/reports?limit=100")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def log_entries(admin: Account) -> list[dict[str, Any]]:
    response = call(admin, "GET", f"{ADMIN}/log?limit=100")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def login(server: LiveServer, account: Account) -> Any:
    with server.client() as client:
        return client.post(
            "/api/v1/auth/login", json={"username": account.username, "password": TEST_PASSWORD}
        )


# Reports ---------------------------------------------------------------------------------


def test_a_reported_post_waits_in_the_admins_queue_with_what_it_says(
    admin: Account, alice: Account, bob: Account
) -> None:
    bad = post(bob, "buy cheap followers")
    response = report(alice, "post", bad["id"], note="third time today")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["state"] == "open" and created["reason"] == "spam"
    queued = next(r for r in open_reports(admin) if r["id"] == created["id"])
    assert queued["reporter_id"] == alice.id
    assert queued["note"] == "third time today"
    assert queued["target"] == {
        "type": "post",
        "id": bad["id"],
        "owner_id": bob.id,
        "label": "buy cheap followers",
        "exists": True,
    }


@pytest.mark.parametrize("target_type", ["user", "space"])
def test_users_and_spaces_can_be_reported(
    target_type: str, admin: Account, alice: Account, bob: Account
) -> None:
    target_id = bob.id if target_type == "user" else open_space(bob)["id"]
    response = report(alice, target_type, target_id, reason="harassment")
    assert response.status_code == 201, response.text
    assert response.json()["target"]["owner_id"] == bob.id


def test_a_report_is_checked_before_it_is_queued(alice: Account, bob: Account) -> None:
    assert report(alice, "post", "123456789").status_code == 404
    assert report(alice, "user", "not-an-id").status_code == 404
    unknown_reason = report(alice, "user", bob.id, reason="boring")
    assert unknown_reason.status_code == 422
    assert report(alice, "planet", bob.id).status_code == 422
    assert report(alice, "user", bob.id, note="x" * 1001).status_code == 422
    own = report(alice, "user", alice.id)
    assert own.status_code == 422 and own.json()["error"]["code"] == "own_content"


def test_reporting_the_same_thing_twice_while_it_is_open_is_a_conflict(
    alice: Account, bob: Account
) -> None:
    assert report(alice, "user", bob.id).status_code == 201
    again = report(alice, "user", bob.id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"


# Who may moderate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{ADMIN}/reports"),
        ("GET", f"{ADMIN}/log"),
        ("POST", f"{ADMIN}/reports/1/resolve"),
        ("POST", f"{ADMIN}/reports/1/dismiss"),
        ("POST", f"{ADMIN}/users/1/suspend"),
        ("POST", f"{ADMIN}/users/1/unsuspend"),
        ("POST", f"{ADMIN}/posts/1/remove"),
        ("POST", f"{ADMIN}/spaces/1/end"),
    ],
)
def test_everything_under_admin_is_forbidden_to_non_admins(
    server: LiveServer, alice: Account, method: str, path: str
) -> None:
    response = call(alice, method, path)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "admin_only"
    with server.client() as anonymous:
        assert anonymous.request(method, path).status_code == 401


def test_admin_status_tells_the_web_client_whether_to_show_moderation(
    admin: Account, alice: Account
) -> None:
    assert call(admin, "GET", f"{ADMIN}/status").json() == {"is_admin": True}
    assert call(alice, "GET", f"{ADMIN}/status").json() == {"is_admin": False}


# Acting on reports -----------------------------------------------------------------------


def test_removing_a_reported_post_deletes_it_resolves_the_report_and_logs_it(
    admin: Account, alice: Account, bob: Account
) -> None:
    bad = post(bob, "a post against the rules")
    created = report(alice, "post", bad["id"]).json()
    removed = call(
        admin, "POST", f"{ADMIN}/posts/{bad['id']}/remove", json={"report_id": created["id"]}
    )
    assert removed.status_code == 204, removed.text
    assert call(alice, "GET", f"/api/v1/posts/{bad['id']}").status_code == 404
    assert all(r["id"] != created["id"] for r in open_reports(admin))
    entry = next(e for e in log_entries(admin) if e["target_id"] == bad["id"])
    assert entry["action"] == "post.removed"
    assert entry["actor_id"] == admin.id and entry["report_id"] == created["id"]
    assert entry["detail"]["text"] == "a post against the rules"
    assert call(admin, "POST", f"{ADMIN}/posts/{bad['id']}/remove").status_code == 404


def test_removing_a_pinned_post_unpins_it_in_the_room(
    server: LiveServer, admin: Account, alice: Account
) -> None:
    space = open_space(alice)
    pinned = post(alice, "pinned, then removed")
    assert (
        call(alice, "POST", f"/api/v1/spaces/{space['id']}/pins", json={"post_id": pinned["id"]})
    ).status_code == 201
    with space_events(server, alice, space["id"]) as ws:
        assert call(admin, "POST", f"{ADMIN}/posts/{pinned['id']}/remove").status_code == 204
        frame = frames_until(ws, "pin.removed")[-1]
    assert frame["data"]["post_id"] == pinned["id"]
    assert get_space(alice, space["id"])["pinned_post_ids"] == []


def test_dismissing_a_report_closes_it_once_and_is_logged(
    admin: Account, alice: Account, bob: Account
) -> None:
    created = report(alice, "user", bob.id).json()
    dismissed = call(admin, "POST", f"{ADMIN}/reports/{created['id']}/dismiss")
    assert dismissed.status_code == 200
    assert dismissed.json()["state"] == "dismissed"
    assert dismissed.json()["handled_by_id"] == admin.id
    again = call(admin, "POST", f"{ADMIN}/reports/{created['id']}/resolve")
    assert again.status_code == 409 and again.json()["error"]["code"] == "report_closed"
    assert any(
        e["action"] == "report.dismissed" and e["report_id"] == created["id"]
        for e in log_entries(admin)
    )
    closed = call(admin, "GET", f"{ADMIN}/reports?state=dismissed&limit=100").json()["data"]
    assert any(r["id"] == created["id"] for r in closed)


def test_the_queue_pages_newest_first_with_a_cursor(
    server: LiveServer, admin: Account, alice: Account
) -> None:
    targets = [server.signup() for _ in range(3)]
    ids = [report(alice, "user", target.id).json()["id"] for target in targets]
    first = call(admin, "GET", f"{ADMIN}/reports?limit=2").json()
    assert [r["id"] for r in first["data"]] == ids[::-1][:2]
    assert first["next_cursor"] is not None
    second = call(admin, "GET", f"{ADMIN}/reports?limit=1&cursor={first['next_cursor']}").json()
    assert second["data"][0]["id"] == ids[0]
    bad_cursor = call(admin, "GET", f"{ADMIN}/reports?cursor=xyz")
    assert bad_cursor.status_code == 422


def test_an_admin_ends_any_live_space_and_it_is_logged(
    server: LiveServer, admin: Account, alice: Account
) -> None:
    space = open_space(alice)
    ended = call(admin, "POST", f"{ADMIN}/spaces/{space['id']}/end")
    assert ended.status_code == 204, ended.text
    assert get_space(alice, space["id"])["state"] == "ended"
    assert any(
        e["action"] == "space.ended" and e["target_id"] == space["id"] for e in log_entries(admin)
    )
    again = call(admin, "POST", f"{ADMIN}/spaces/{space['id']}/end")
    assert again.status_code == 409


# Suspension ------------------------------------------------------------------------------


def test_a_suspended_user_is_logged_out_everywhere_cannot_log_in_and_their_space_ends(
    server: LiveServer, admin: Account, alice: Account, bob: Account
) -> None:
    second_session = login(server, bob).json()["token"]
    space = open_space(bob)
    join(alice, space["id"])
    elsewhere = open_space(server.signup())
    join(bob, elsewhere["id"])
    reported = report(alice, "user", bob.id).json()

    suspended = call(
        admin,
        "POST",
        f"{ADMIN}/users/{bob.id}/suspend",
        json={"reason": "spam wave", "report_id": reported["id"]},
    )
    assert suspended.status_code == 204, suspended.text

    for token in (bob.token, second_session):
        with server.client(token) as client:
            me = client.get("/api/v1/me")
        assert me.status_code == 401, me.text
    refused = login(server, bob)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "account_suspended"
    assert get_space(alice, space["id"])["state"] == "ended"
    assert bob.id not in participants(alice, elsewhere["id"])
    assert all(r["id"] != reported["id"] for r in open_reports(admin))
    entry = next(
        e
        for e in log_entries(admin)
        if e["action"] == "user.suspended" and e["target_id"] == bob.id
    )
    assert entry["detail"]["reason"] == "spam wave"
    assert entry["detail"]["ended_space_ids"] == [space["id"]]

    assert call(admin, "POST", f"{ADMIN}/users/{bob.id}/suspend").status_code == 409
    lifted = call(admin, "POST", f"{ADMIN}/users/{bob.id}/unsuspend")
    assert lifted.status_code == 204
    assert login(server, bob).status_code == 200
    assert any(
        e["action"] == "user.unsuspended" and e["target_id"] == bob.id for e in log_entries(admin)
    )


def test_a_suspension_closes_the_users_open_personal_sockets_with_4401(
    server: LiveServer, admin: Account, bob: Account
) -> None:
    url = server.url.replace("http://", "ws://") + f"/api/v1/events?token={bob.token}"
    with connect(url) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "ready"
        assert call(admin, "POST", f"{ADMIN}/users/{bob.id}/suspend").status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_admins_cannot_suspend_themselves_or_another_admin(
    server: LiveServer, admin: Account
) -> None:
    yourself = call(admin, "POST", f"{ADMIN}/users/{admin.id}/suspend")
    assert yourself.status_code == 422
    other = server.signup()
    do_set_admin(server.container.services, other.username, True)
    assert call(admin, "POST", f"{ADMIN}/users/{other.id}/suspend").status_code == 409
    assert call(admin, "POST", f"{ADMIN}/users/123456789/suspend").status_code == 404


def test_a_report_given_with_an_action_must_be_about_its_target(
    admin: Account, alice: Account, bob: Account
) -> None:
    about_alice = report(bob, "user", alice.id).json()
    bad = post(bob)
    mismatched = call(
        admin, "POST", f"{ADMIN}/posts/{bad['id']}/remove", json={"report_id": about_alice["id"]}
    )
    assert mismatched.status_code == 409
    assert call(alice, "GET", f"/api/v1/posts/{bad['id']}").status_code == 200


# The command line ------------------------------------------------------------------------


def test_townhall_admin_grant_and_revoke_change_the_role_and_are_logged(
    server: LiveServer, admin: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    someone = server.signup()
    storage = ["--data-dir", str(server.settings.data_dir)]
    if server.settings.database_url:
        storage += ["--db", server.settings.database_url]
    assert cli.main(["admin", "grant", someone.username, *storage]) == 0
    assert "is now an admin" in capsys.readouterr().out
    assert call(someone, "GET", f"{ADMIN}/status").json() == {"is_admin": True}
    assert cli.main(["admin", "grant", someone.username, *storage]) == 0
    assert "already" in capsys.readouterr().out
    assert cli.main(["admin", "revoke", someone.username, *storage]) == 0
    assert call(someone, "GET", f"{ADMIN}/reports").status_code == 403
    assert cli.main(["admin", "grant", "nobody_here_1", *storage]) == 1
    assert "no user named" in capsys.readouterr().err
    actions = [e["action"] for e in log_entries(admin) if e["target_id"] == someone.id]
    assert actions[:2] == ["admin.revoked", "admin.granted"]
