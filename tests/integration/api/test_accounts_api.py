"""Signing up, logging in and out, sessions and profiles, over HTTP on SQLite and PostgreSQL."""

import uuid

from tests.harness import TEST_PASSWORD, Account, LiveServer

SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"


def fresh_name() -> str:
    return f"n{uuid.uuid4().hex[:12]}"


def test_signup_returns_the_user_and_a_working_token(server: LiveServer) -> None:
    name = fresh_name()
    with server.client() as client:
        response = client.post(
            SIGNUP, json={"username": name, "password": TEST_PASSWORD, "display_name": "Ada"}
        )
        assert response.status_code == 201
        body = response.json()
        assert body["user"]["username"] == name
        assert body["user"]["display_name"] == "Ada"
        assert isinstance(body["user"]["id"], str)
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"]


def test_usernames_are_unique_regardless_of_case(server: LiveServer) -> None:
    name = fresh_name()
    server.signup(name)
    with server.client() as client:
        response = client.post(SIGNUP, json={"username": name.upper(), "password": TEST_PASSWORD})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "username_taken"


def test_passwords_are_not_stored_in_plain_text(server: LiveServer) -> None:
    from sqlalchemy import select

    from townhall.storage.database import create_database_engine
    from townhall.storage.tables import UserRow

    account = server.signup()
    engine = create_database_engine(server.settings.effective_database_url)
    with engine.connect() as conn:
        stored = conn.execute(
            select(UserRow.password_hash).where(UserRow.id == int(account.id))
        ).scalar_one()
    engine.dispose()
    assert TEST_PASSWORD not in stored
    assert stored.startswith("$argon2id$")


def test_login_with_the_right_password_gives_a_new_token(server: LiveServer) -> None:
    account = server.signup()
    with server.client() as client:
        response = client.post(
            LOGIN, json={"username": account.username.upper(), "password": TEST_PASSWORD}
        )
    assert response.status_code == 200
    assert response.json()["token"] != account.token
    assert response.json()["user"]["id"] == account.id


def test_login_with_a_wrong_password_is_401(server: LiveServer) -> None:
    account = server.signup()
    with server.client() as client:
        response = client.post(LOGIN, json={"username": account.username, "password": "nope nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_credentials"


def test_logout_revokes_the_token(server: LiveServer) -> None:
    account = server.signup()
    with account.client() as client:
        assert client.post("/api/v1/auth/logout").status_code == 204
        after = client.get("/api/v1/me")
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "invalid_token"


def test_requests_without_or_with_a_bad_token_are_401(server: LiveServer) -> None:
    with server.client() as client:
        assert client.get("/api/v1/me").status_code == 401
        bad = client.get("/api/v1/me", headers={"Authorization": "Bearer th_not-a-token"})
        assert bad.status_code == 401
        odd = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
        assert odd.status_code == 401


def test_login_brute_force_is_cut_off_after_ten_failures_a_minute(server: LiveServer) -> None:
    account = server.signup()
    attacker = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250}"}
    with server.client() as client:
        statuses = [
            client.post(
                LOGIN,
                json={"username": account.username, "password": f"guess {i}"},
                headers=attacker,
            ).status_code
            for i in range(10)
        ]
        assert statuses == [401] * 10
        blocked = client.post(
            LOGIN, json={"username": account.username, "password": TEST_PASSWORD}, headers=attacker
        )
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) >= 1
        # Per username too: even the right password from another address waits.
        elsewhere = client.post(
            LOGIN,
            json={"username": account.username, "password": TEST_PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.77"},
        )
        assert elsewhere.status_code == 429


def test_profile_edits_are_stored_as_given(server: LiveServer, alice: Account) -> None:
    bio = "<b>bold?</b> & line\nbreak 🎙️"
    with alice.client() as client:
        response = client.patch("/api/v1/me", json={"display_name": "A & <i>", "bio": bio})
        assert response.status_code == 200
        profile = client.get(f"/api/v1/users/{alice.username}").json()
    assert profile["bio"] == bio
    assert profile["display_name"] == "A & <i>"


def test_too_long_profile_fields_are_422_and_change_nothing(
    server: LiveServer, alice: Account
) -> None:
    with alice.client() as client:
        response = client.patch("/api/v1/me", json={"display_name": "ok", "bio": "x" * 161})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "bio_too_long"
        assert client.get("/api/v1/me").json()["display_name"] == alice.username


def test_browser_login_sets_an_httponly_cookie_and_demands_csrf(server: LiveServer) -> None:
    account = server.signup()
    with server.client() as browser:
        response = browser.post(
            LOGIN,
            json={"username": account.username, "password": TEST_PASSWORD, "session": "cookie"},
        )
        assert response.status_code == 200
        assert response.json()["token"] is None
        set_cookie = " ".join(response.headers.get_list("set-cookie"))
        assert "townhall_session=" in set_cookie
        assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
        assert browser.get("/api/v1/me").json()["id"] == account.id
        forged = browser.post("/api/v1/posts", json={"text": "written by another site"})
        assert forged.status_code == 403
        assert forged.json()["error"]["code"] == "csrf_failed"
        csrf = browser.cookies["townhall_csrf"]
        ok = browser.post(
            "/api/v1/posts", json={"text": "written by me"}, headers={"X-CSRF-Token": csrf}
        )
        assert ok.status_code == 201


def test_avatar_upload_is_reencoded_and_served(server: LiveServer, alice: Account) -> None:
    import io

    from PIL import Image

    source = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 90)).save(source, format="PNG")
    with alice.client() as client:
        response = client.put(
            "/api/v1/me/avatar", content=source.getvalue(), headers={"Content-Type": "image/png"}
        )
        assert response.status_code == 200
        url = response.json()["avatar_url"]
        assert url.endswith(".webp")
        served = client.get(url)
    assert served.status_code == 200
    assert Image.open(io.BytesIO(served.content)).size == (400, 400)


def test_a_new_avatar_replaces_the_old_file(server: LiveServer, alice: Account) -> None:
    import io

    from PIL import Image

    def upload(color: tuple[int, int, int]) -> str:
        source = io.BytesIO()
        Image.new("RGB", (64, 64), color).save(source, format="PNG")
        with alice.client() as client:
            response = client.put(
                "/api/v1/me/avatar",
                content=source.getvalue(),
                headers={"Content-Type": "image/png"},
            )
        assert response.status_code == 200
        url: str = response.json()["avatar_url"]
        return url

    first, second = upload((10, 20, 30)), upload((200, 100, 0))
    avatars_dir = server.settings.media_dir / "avatars"
    mine = [path.name for path in avatars_dir.glob(f"{alice.id}-*")]
    assert mine == [second.rsplit("/", 1)[1]]
    with alice.client() as client:
        assert client.get(first).status_code == 404
        assert client.get(second).status_code == 200


def test_avatar_upload_refuses_non_images_and_huge_files(
    server: LiveServer, alice: Account
) -> None:
    with alice.client() as client:
        text = client.put(
            "/api/v1/me/avatar", content=b"hello", headers={"Content-Type": "text/plain"}
        )
        assert text.status_code == 415
        fake = client.put(
            "/api/v1/me/avatar", content=b"not a png", headers={"Content-Type": "image/png"}
        )
        assert fake.status_code == 422
        huge = client.put(
            "/api/v1/me/avatar",
            content=b"\0" * (2 * 1024 * 1024 + 1),
            headers={"Content-Type": "image/png"},
        )
        assert huge.status_code == 413
