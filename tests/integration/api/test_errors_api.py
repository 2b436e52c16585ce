"""Every bad input gets the error envelope with the right status, never a 500 or a trace."""

from collections.abc import Iterator

import pytest

from tests.harness import Account, LiveServer


def assert_envelope(response_json: object, code: str | None = None) -> None:
    assert isinstance(response_json, dict)
    assert set(response_json) == {"error"}
    error = response_json["error"]
    assert set(error) == {"code", "message"}
    assert error["message"] and "Traceback" not in error["message"]
    if code is not None:
        assert error["code"] == code


def test_malformed_json_is_400(alice: Account) -> None:
    with alice.client() as client:
        for body in (b"{", b"{'text': 'single quotes'}", b"\xff\xfe", b'{"text": "a"'):
            response = client.post(
                "/api/v1/posts", content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 400, body
            assert_envelope(response.json(), "malformed_json")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": 5},
        {"text": None},
        {"text": ["a"]},
        {"text": "ok", "reply_to": 12},
        [],
        "just a string",
        123,
    ],
)
def test_wrong_types_and_missing_fields_are_422(alice: Account, body: object) -> None:
    with alice.client() as client:
        response = client.post("/api/v1/posts", json=body)
    assert response.status_code == 422
    assert_envelope(response.json(), "invalid")


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ok_name", "password": 12345678},
        {"username": "bad name", "password": "long enough"},
        {"username": "x" * 16, "password": "long enough"},
        {"username": "short_pw", "password": "short"},
        {"username": "dn_long", "password": "long enough", "display_name": "x" * 51},
        {"username": "sess", "password": "long enough", "session": "forever"},
    ],
)
def test_bad_signups_are_422_and_create_nothing(
    server: LiveServer, body: dict[str, object]
) -> None:
    with server.client() as client:
        response = client.post("/api/v1/auth/signup", json=body)
        assert response.status_code == 422
        assert_envelope(response.json())
        name = body["username"]
        if isinstance(name, str) and len(name) <= 15 and " " not in name:
            assert client.get(f"/api/v1/users/{name}").status_code == 404


def test_bodies_over_64_kib_are_413(alice: Account) -> None:
    big = b'{"text": "' + b"a" * (64 * 1024) + b'"}'
    with alice.client() as client:
        response = client.post(
            "/api/v1/posts", content=big, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        assert_envelope(response.json(), "too_large")

        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b"a" * 4096

        streamed = client.post(
            "/api/v1/posts", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert_envelope(streamed.json(), "too_large")


def test_unknown_routes_and_methods_use_the_envelope(server: LiveServer) -> None:
    with server.client() as client:
        missing = client.get("/api/v1/does-not-exist")
        assert missing.status_code == 404
        assert_envelope(missing.json(), "not_found")
        wrong_method = client.put("/api/v1/timeline")
        assert wrong_method.status_code == 405
        assert_envelope(wrong_method.json(), "method_not_allowed")


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "cursor=xyz", "cursor=-1", "limit=1e3"]
)
def test_bad_pagination_is_422(alice: Account, query: str) -> None:
    with alice.client() as client:
        response = client.get(f"/api/v1/timeline?{query}")
    assert response.status_code == 422
    assert_envelope(response.json())


def test_unknown_users_are_404(server: LiveServer) -> None:
    with server.client() as client:
        for name in ("nobody_at_all", "no such", "x" * 40):
            response = client.get(f"/api/v1/users/{name}")
            assert response.status_code == 404
            assert_envelope(response.json(), "user_not_found")


def test_the_openapi_document_lists_the_contract_routes(server: LiveServer) -> None:
    with server.client() as client:
        spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/avatar",
        "/api/v1/users/{username}",
        "/api/v1/users/{username}/follow",
        "/api/v1/users/{username}/followers",
        "/api/v1/users/{username}/following",
        "/api/v1/users/{username}/block",
        "/api/v1/posts",
        "/api/v1/posts/{post_id}",
        "/api/v1/timeline",
        "/api/v1/notifications",
    ):
        assert path in spec["paths"], path


def test_numbers_past_sixty_four_bits_are_unknown_not_a_crash(
    server: LiveServer, alice: Account
) -> None:
    huge = "9999999999999999999"  # 19 digits, more than a signed 64-bit id can hold
    with alice.client() as client:
        for path in (f"/api/v1/posts/{huge}", f"/api/v1/spaces/{huge}"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert_envelope(response.json())
        for path in (
            "/api/v1/timeline",
            f"/api/v1/users/{alice.username}/posts",
            f"/api/v1/users/{alice.username}/followers",
            "/api/v1/notifications",
            "/api/v1/spaces",
        ):
            response = client.get(path, params={"cursor": huge})
            assert response.status_code == 422, path
            assert_envelope(response.json())
        reply = client.post("/api/v1/posts", json={"text": "hi", "reply_to": huge})
        assert reply.status_code == 404
