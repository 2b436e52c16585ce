"""Joining, asking to speak, invites, roles, muting and removal over HTTP."""

from tests.harness import Account, LiveServer
from tests.integration.spaces.space_helpers import (
    bring_on_stage,
    call,
    get_space,
    join,
    open_space,
    participants,
)


def test_joining_twice_returns_the_same_participant(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    first = join(bob, space["id"])
    second = join(bob, space["id"])
    assert first == second
    assert (first["role"], first["muted"], first["hand_raised"]) == ("listener", True, False)
    assert first["user"]["username"] == bob.username
    assert participants(alice, space["id"])[alice.id]["user"]["username"] == alice.username
    assert get_space(alice, space["id"])["participant_count"] == 2


def test_an_approved_request_puts_the_listener_on_stage_muted(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    join(bob, space["id"])
    call(bob, "POST", f"/api/v1/spaces/{space['id']}/speak-requests")
    assert participants(alice, space["id"])[bob.id]["hand_raised"] is True
    approved = call(alice, "POST", f"/api/v1/spaces/{space['id']}/speak-requests/{bob.id}/approve")
    assert approved.json()["role"] == "speaker" and approved.json()["muted"] is True
    assert get_space(alice, space["id"])["speaker_ids"] == [bob.id]
    unmuted = call(bob, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")
    assert unmuted.status_code == 200 and unmuted.json()["muted"] is False


def test_a_denied_or_lowered_hand_is_gone(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    join(bob, space["id"])
    call(bob, "POST", f"/api/v1/spaces/{space['id']}/speak-requests")
    assert (
        call(
            alice, "POST", f"/api/v1/spaces/{space['id']}/speak-requests/{bob.id}/deny"
        ).status_code
        == 204
    )
    assert participants(alice, space["id"])[bob.id]["hand_raised"] is False
    call(bob, "POST", f"/api/v1/spaces/{space['id']}/speak-requests")
    assert call(bob, "DELETE", f"/api/v1/spaces/{space['id']}/speak-requests/me").status_code == 204
    approve = call(alice, "POST", f"/api/v1/spaces/{space['id']}/speak-requests/{bob.id}/approve")
    assert approve.status_code == 409


def test_listeners_cannot_approve_requests(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    carol = server.signup()
    space = open_space(alice)
    join(bob, space["id"])
    join(carol, space["id"])
    call(carol, "POST", f"/api/v1/spaces/{space['id']}/speak-requests")
    response = call(bob, "POST", f"/api/v1/spaces/{space['id']}/speak-requests/{carol.id}/approve")
    assert response.status_code == 403


def test_approving_when_the_stage_is_full_is_409(server: LiveServer, alice: Account) -> None:
    space = open_space(alice)
    for _ in range(10):
        bring_on_stage(alice, server.signup(), space["id"])
    late = server.signup()
    join(late, space["id"])
    call(late, "POST", f"/api/v1/spaces/{space['id']}/speak-requests")
    full = call(alice, "POST", f"/api/v1/spaces/{space['id']}/speak-requests/{late.id}/approve")
    assert full.status_code == 409 and full.json()["error"]["code"] == "stage_full"


def test_who_can_speak_followed_and_invited(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    carol = server.signup()
    space = open_space(alice, who_can_speak="followed")
    call(alice, "POST", f"/api/v1/users/{bob.username}/follow")
    join(bob, space["id"])
    join(carol, space["id"])
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/speak-requests").status_code == 201
    refused = call(carol, "POST", f"/api/v1/spaces/{space['id']}/speak-requests")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "followed_only"
    call(alice, "PATCH", f"/api/v1/spaces/{space['id']}", json={"who_can_speak": "invited"})
    assert call(carol, "POST", f"/api/v1/spaces/{space['id']}/speak-requests").status_code == 403


def test_an_invite_notifies_and_accepting_joins_on_stage(alice: Account, bob: Account) -> None:
    space = open_space(alice, who_can_speak="invited")
    invited = call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/invites",
        json={"user_id": bob.id, "role": "speaker"},
    )
    assert invited.status_code == 201
    assert get_space(alice, space["id"])["invited_user_ids"] == [bob.id]
    notes = call(bob, "GET", "/api/v1/notifications").json()["data"]
    assert [(n["kind"], n["space_id"], n["actor_id"]) for n in notes] == [
        ("invite", space["id"], alice.id)
    ]
    accepted = call(bob, "POST", f"/api/v1/spaces/{space['id']}/invites/accept")
    assert accepted.status_code == 200
    assert (accepted.json()["role"], accepted.json()["muted"]) == ("speaker", True)
    assert get_space(alice, space["id"])["invited_user_ids"] == []
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/invites/accept").status_code == 404


def test_declining_an_invite_removes_it(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/invites",
        json={"user_id": bob.id, "role": "cohost"},
    )
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/invites/decline").status_code == 204
    assert get_space(alice, space["id"])["invited_user_ids"] == []


def test_only_the_host_invites_or_appoints_cohosts_and_at_most_two(
    server: LiveServer, alice: Account
) -> None:
    space = open_space(alice)
    cohosts = [server.signup() for _ in range(3)]
    for person in cohosts:
        join(person, space["id"])
    first = call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{cohosts[0].id}/role",
        json={"role": "cohost"},
    )
    assert first.status_code == 200 and first.json()["role"] == "cohost"
    by_cohost = call(
        cohosts[0],
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{cohosts[1].id}/role",
        json={"role": "cohost"},
    )
    assert by_cohost.status_code == 403
    invite_by_cohost = call(
        cohosts[0],
        "POST",
        f"/api/v1/spaces/{space['id']}/invites",
        json={"user_id": cohosts[1].id, "role": "cohost"},
    )
    assert invite_by_cohost.status_code == 403
    call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{cohosts[1].id}/role",
        json={"role": "cohost"},
    )
    third = call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{cohosts[2].id}/role",
        json={"role": "cohost"},
    )
    assert third.status_code == 409 and third.json()["error"]["code"] == "cohosts_full"
    assert get_space(alice, space["id"])["cohost_ids"] == [cohosts[0].id, cohosts[1].id]


def test_cohosts_cannot_end_the_space_or_remove_the_host(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    join(bob, space["id"])
    call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{bob.id}/role",
        json={"role": "cohost"},
    )
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/end").status_code == 403
    assert (
        call(
            bob, "POST", f"/api/v1/spaces/{space['id']}/participants/{alice.id}/remove"
        ).status_code
        == 403
    )
    assert (
        call(bob, "POST", f"/api/v1/spaces/{space['id']}/participants/{alice.id}/mute").status_code
        == 403
    )


def test_nobody_can_unmute_someone_else(server: LiveServer, alice: Account, bob: Account) -> None:
    space = open_space(alice)
    bring_on_stage(alice, bob, space["id"])
    call(bob, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")
    muted = call(alice, "POST", f"/api/v1/spaces/{space['id']}/participants/{bob.id}/mute")
    assert muted.status_code == 200 and muted.json()["muted"] is True
    unmute_other = call(alice, "POST", f"/api/v1/spaces/{space['id']}/participants/{bob.id}/unmute")
    assert unmute_other.status_code == 403
    assert participants(alice, space["id"])[bob.id]["muted"] is True
    listener = server.signup()
    join(listener, space["id"])
    assert (
        call(
            listener, "POST", f"/api/v1/spaces/{space['id']}/participants/{bob.id}/mute"
        ).status_code
        == 403
    )
    assert (
        call(listener, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute").status_code
        == 403
    )


def test_moving_a_speaker_back_to_the_audience(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    bring_on_stage(alice, bob, space["id"])
    moved = call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{bob.id}/role",
        json={"role": "listener"},
    )
    assert moved.json()["role"] == "listener"
    assert get_space(alice, space["id"])["speaker_ids"] == []
    assert (
        call(
            alice,
            "POST",
            f"/api/v1/spaces/{space['id']}/participants/{bob.id}/role",
            json={"role": "host"},
        ).status_code
        == 422
    )


def test_a_removed_person_can_rejoin_but_a_blocked_one_cannot(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    carol = server.signup()
    space = open_space(alice)
    join(bob, space["id"])
    join(carol, space["id"])
    assert (
        call(
            alice, "POST", f"/api/v1/spaces/{space['id']}/participants/{bob.id}/remove"
        ).status_code
        == 204
    )
    assert bob.id not in participants(alice, space["id"])
    join(bob, space["id"])
    blocked = call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/participants/{carol.id}/remove",
        json={"block": True},
    )
    assert blocked.status_code == 204
    again = call(carol, "POST", f"/api/v1/spaces/{space['id']}/join")
    assert again.status_code == 403 and again.json()["error"]["code"] == "banned"
    call(alice, "POST", f"/api/v1/spaces/{space['id']}/end")
    next_space = open_space(alice)
    assert call(carol, "POST", f"/api/v1/spaces/{next_space['id']}/join").status_code == 403


def test_users_who_blocked_each_other_cannot_share_a_space(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    call(bob, "POST", f"/api/v1/users/{alice.username}/block")
    assert call(bob, "POST", f"/api/v1/spaces/{space['id']}/join").status_code in (403, 404)
    invite = call(
        alice,
        "POST",
        f"/api/v1/spaces/{space['id']}/invites",
        json={"user_id": bob.id, "role": "speaker"},
    )
    assert invite.status_code == 403


def test_actions_on_people_not_in_the_space_are_404(alice: Account, bob: Account) -> None:
    space = open_space(alice)
    for path in (
        f"participants/{bob.id}/mute",
        f"participants/{bob.id}/remove",
        f"speak-requests/{bob.id}/approve",
        "participants/123/mute",
        "participants/abc/mute",
    ):
        assert call(alice, "POST", f"/api/v1/spaces/{space['id']}/{path}").status_code == 404, path
