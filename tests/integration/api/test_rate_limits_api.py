"""Each named rate limit (TOWNHALL_RATE_*) answers 429 with Retry-After once it is reached.

One server with tiny limits: every user may act three times a minute per limit, every
address five. Each test acts from its own X-Forwarded-For address (the tests are the
trusted proxy), so the tests do not use up each other's allowances.
"""

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness import TEST_PASSWORD, Account, LiveServer, make_settings, serve_in_thread
from townhall.config import RateLimit, RateLimits

PER_USER = 3
PER_IP = 5
TINY = RateLimit(per_user=PER_USER, per_ip=PER_IP, window_s=60.0)

_addresses = itertools.count(1)


def fresh_address() -> dict[str, str]:
    n = next(_addresses)
    return {"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    limits = RateLimits(
        signup=RateLimit(per_user=0, per_ip=PER_IP, window_s=3600.0),
        login=TINY,
        post=TINY,
        follow=TINY,
        join=TINY,
        speak_request=TINY,
        reaction=TINY,
        webrtc_offer=TINY,
        report=TINY,
    )
    settings = make_settings(tmp_path_factory.mktemp("rate-limits")).with_overrides(
        rate_limits=limits
    )
    yield from serve_in_thread(settings)


def signup(server: LiveServer) -> Account:
    """Each from an address of its own, so signing up spends no test's allowance."""
    username = f"r{uuid.uuid4().hex[:12]}"
    with server.client() as client:
        response = client.post(
            "/api/v1/auth/signup",
            json={"username": username, "password": TEST_PASSWORD},
            headers=fresh_address(),
        )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(server, username, body["user"]["id"], body["token"])


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"


def act(account: Account, method: str, path: str, address: dict[str, str], **kw: Any) -> Any:
    with account.client() as client:
        return client.request(method, path, headers=address, **kw)


def open_space(host: Account) -> str:
    response = act(host, "POST", "/api/v1/spaces", fresh_address(), json={"title": "Limits"})
    assert response.status_code == 201, response.text
    space_id: str = response.json()["id"]
    return space_id


def test_signup_is_limited_per_address(limited: LiveServer) -> None:
    address = fresh_address()
    with limited.client() as client:
        statuses = [
            client.post(
                "/api/v1/auth/signup",
                json={"username": f"s{uuid.uuid4().hex[:12]}", "password": TEST_PASSWORD},
                headers=address,
            )
            for _ in range(PER_IP + 1)
        ]
    assert [r.status_code for r in statuses[:PER_IP]] == [201] * PER_IP
    assert_rate_limited(statuses[-1])
    signup(limited)  # another address still signs up


def test_login_is_limited_per_username_even_across_addresses(limited: LiveServer) -> None:
    account = signup(limited)
    body = {"username": account.username, "password": TEST_PASSWORD}
    with limited.client() as client:
        for _ in range(PER_USER):
            ok = client.post("/api/v1/auth/login", json=body, headers=fresh_address())
            assert ok.status_code == 200, ok.text
        assert_rate_limited(client.post("/api/v1/auth/login", json=body, headers=fresh_address()))


def test_login_is_limited_per_address_across_usernames(limited: LiveServer) -> None:
    accounts = [signup(limited) for _ in range(PER_IP + 1)]
    address = fresh_address()
    with limited.client() as client:
        responses = [
            client.post(
                "/api/v1/auth/login",
                json={"username": account.username, "password": TEST_PASSWORD},
                headers=address,
            )
            for account in accounts
        ]
    assert [r.status_code for r in responses[:PER_IP]] == [200] * PER_IP
    assert_rate_limited(responses[-1])


def test_posting_is_limited_per_user(limited: LiveServer) -> None:
    author = signup(limited)
    for i in range(PER_USER):
        response = act(author, "POST", "/api/v1/posts", fresh_address(), json={"text": f"{i}"})
        assert response.status_code == 201, response.text
    assert_rate_limited(act(author, "POST", "/api/v1/posts", fresh_address(), json={"text": "x"}))
    other = signup(limited)
    assert (
        act(other, "POST", "/api/v1/posts", fresh_address(), json={"text": "y"}).status_code == 201
    )


def test_posting_is_limited_per_address_whoever_posts(limited: LiveServer) -> None:
    address = fresh_address()
    authors = [signup(limited) for _ in range(2)]
    statuses = [
        act(authors[i % 2], "POST", "/api/v1/posts", address, json={"text": f"{i}"}).status_code
        for i in range(PER_IP)
    ]
    assert statuses == [201] * PER_IP
    assert_rate_limited(act(authors[0], "POST", "/api/v1/posts", address, json={"text": "z"}))


def test_following_and_unfollowing_are_limited_per_user(limited: LiveServer) -> None:
    follower, followee = signup(limited), signup(limited)
    path = f"/api/v1/users/{followee.username}/follow"
    for method in ("POST", "DELETE", "POST"):
        assert act(follower, method, path, fresh_address()).status_code == 204
    assert_rate_limited(act(follower, "DELETE", path, fresh_address()))


def test_joining_is_limited_per_user(limited: LiveServer) -> None:
    space_id = open_space(signup(limited))
    listener = signup(limited)
    path = f"/api/v1/spaces/{space_id}/join"
    for _ in range(PER_USER):
        assert act(listener, "POST", path, fresh_address()).status_code == 200
    assert_rate_limited(act(listener, "POST", path, fresh_address()))


def test_speak_requests_are_limited_per_user(limited: LiveServer) -> None:
    space_id = open_space(signup(limited))
    listener = signup(limited)
    assert (
        act(listener, "POST", f"/api/v1/spaces/{space_id}/join", fresh_address()).status_code == 200
    )
    raise_path = f"/api/v1/spaces/{space_id}/speak-requests"
    for _ in range(PER_USER):
        assert act(listener, "POST", raise_path, fresh_address()).status_code == 201
        assert act(listener, "DELETE", f"{raise_path}/me", fresh_address()).status_code == 204
    assert_rate_limited(act(listener, "POST", raise_path, fresh_address()))


def test_reactions_are_limited_per_user(limited: LiveServer) -> None:
    space_id = open_space(signup(limited))
    listener = signup(limited)
    assert (
        act(listener, "POST", f"/api/v1/spaces/{space_id}/join", fresh_address()).status_code == 200
    )
    path = f"/api/v1/spaces/{space_id}/reactions"
    for _ in range(PER_USER):
        response = act(listener, "POST", path, fresh_address(), json={"emoji": "👏"})
        assert response.status_code == 202, response.text
    assert_rate_limited(act(listener, "POST", path, fresh_address(), json={"emoji": "👏"}))


@pytest.mark.parametrize("route", ["rtc/publish", "rtc/listen", "whip", "whep"])
def test_webrtc_offers_are_limited_per_user_whatever_the_route(
    limited: LiveServer, route: str
) -> None:
    """Counted before the offer is even read: a flood of bad offers is cut off too."""
    space_id = open_space(signup(limited))
    caller = signup(limited)
    path = f"/api/v1/spaces/{space_id}/{route}"
    statuses = [
        act(caller, "POST", path, fresh_address(), json={}).status_code for _ in range(PER_USER)
    ]
    assert 429 not in statuses
    assert_rate_limited(act(caller, "POST", path, fresh_address(), json={}))


def test_reports_are_limited_per_user_whatever_they_report(limited: LiveServer) -> None:
    """Each report waits for an admin: a flood of them, even of different targets, stops."""
    reporter = signup(limited)
    targets = [signup(limited) for _ in range(PER_USER + 1)]
    path = "/api/v1/reports"

    def report(target: Account, address: dict[str, str]) -> Any:
        body = {"target_type": "user", "target_id": target.id, "reason": "spam"}
        return act(reporter, "POST", path, address, json=body)

    for target in targets[:PER_USER]:
        response = report(target, fresh_address())
        assert response.status_code == 201, response.text
    assert_rate_limited(report(targets[-1], fresh_address()))


def test_reports_are_limited_per_address_whoever_reports(limited: LiveServer) -> None:
    address = fresh_address()
    reporters = [signup(limited) for _ in range(PER_IP + 1)]
    target = signup(limited)
    body = {"target_type": "user", "target_id": target.id, "reason": "spam"}
    statuses = [act(r, "POST", "/api/v1/reports", address, json=body) for r in reporters]
    assert [r.status_code for r in statuses[:PER_IP]] == [201] * PER_IP
    assert_rate_limited(statuses[-1])
