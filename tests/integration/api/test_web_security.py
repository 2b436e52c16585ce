"""Browser-facing security over HTTP (issue #8): headers, cookies, CSRF, no account
enumeration through login, and no secret in the server's logs."""

import logging
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

import httpx
import pytest
from websockets.sync.client import connect

from tests.harness import TEST_PASSWORD, LiveServer, make_settings, serve_in_thread
from townhall.api.log_redaction import redact
from townhall.api.routes.web import INDEX_HTML

SIGNUP = "/api/v1/auth/signup"
LOGIN = "/api/v1/auth/login"


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("websec")).with_overrides(
        captions_model=None, login_failures_per_minute=10_000
    )
    yield from serve_in_thread(settings)


@pytest.fixture(scope="module")
def secure_cookie_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("websec-secure")).with_overrides(
        captions_model=None, cookie_secure=True
    )
    yield from serve_in_thread(settings)


def fresh_name() -> str:
    return f"w{uuid.uuid4().hex[:12]}"


@contextmanager
def cookie_session(server: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    """A client holding a browser session (cookies), and the CSRF token the page would send."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        response = client.post(
            SIGNUP, json={"username": fresh_name(), "password": TEST_PASSWORD, "session": "cookie"}
        )
        assert response.status_code == 201, response.text
        assert response.json()["token"] is None
        yield client, client.cookies["townhall_csrf"]


# Headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/login", "/s/123", "/static/app.js", "/api/v1/health", "/api/v1/me"]
)
def test_every_response_carries_the_hardening_headers(web_server: LiveServer, path: str) -> None:
    response = httpx.get(web_server.url + path)
    policy = response.headers["content-security-policy"]
    directives = {
        name: value
        for name, _, value in (part.strip().partition(" ") for part in policy.split(";"))
    }
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


class _ShellAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("inline <style>")
        self.problems += [f"{tag} {name}=" for name in names if name.startswith("on")]
        self.problems += [f"{tag} style=" for name in names if name == "style"]


def test_the_html_shell_has_no_inline_script_or_style() -> None:
    audit = _ShellAudit()
    audit.feed(INDEX_HTML.read_text(encoding="utf-8"))
    assert audit.problems == []


def test_the_client_never_writes_a_style_attribute() -> None:
    """The CSP allows no inline style: the client sets styles through the CSSOM."""
    webclient = INDEX_HTML.parent
    offenders = [
        str(path.relative_to(webclient))
        for path in webclient.rglob("*.js")
        if "vendor" not in path.parts
        and re.search(r"""(\bstyle:\s*[`"']|setAttribute\(\s*["']style)""", path.read_text())
    ]
    assert offenders == []


# Cookies ------------------------------------------------------------------------------


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {
        header.split("=", 1)[0]: header.lower()
        for header in response.headers.get_list("set-cookie")
    }


def test_the_session_cookie_is_httponly_and_samesite(web_server: LiveServer) -> None:
    response = httpx.post(
        web_server.url + SIGNUP,
        json={"username": fresh_name(), "password": TEST_PASSWORD, "session": "cookie"},
    )
    cookies = _set_cookies(response)
    session, csrf = cookies["townhall_session"], cookies["townhall_csrf"]
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert "httponly" not in csrf  # the page reads it to echo it in X-CSRF-Token
    assert "samesite=strict" in csrf
    assert "secure" not in session  # plain http on a development machine


def test_cookies_are_secure_when_configured(secure_cookie_server: LiveServer) -> None:
    response = httpx.post(
        secure_cookie_server.url + SIGNUP,
        json={"username": fresh_name(), "password": TEST_PASSWORD, "session": "cookie"},
    )
    cookies = _set_cookies(response)
    assert all("; secure" in header for header in cookies.values()), cookies
    assert "httponly" in cookies["townhall_session"]


# CSRF ---------------------------------------------------------------------------------


def test_a_cookie_write_needs_the_csrf_header(web_server: LiveServer) -> None:
    with cookie_session(web_server) as (client, csrf):
        missing = client.post("/api/v1/posts", json={"text": "no header"})
        wrong = client.post(
            "/api/v1/posts", json={"text": "wrong"}, headers={"X-CSRF-Token": "0" * 64}
        )
        right = client.post("/api/v1/posts", json={"text": "mine"}, headers={"X-CSRF-Token": csrf})
    for refused in (missing, wrong):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
    assert right.status_code == 201


def test_a_cross_site_form_post_is_refused(web_server: LiveServer) -> None:
    """What a form on another site sends: the cookie, a form body, its own Origin."""
    evil = {"Origin": "https://evil.example", "Referer": "https://evil.example/page"}
    with cookie_session(web_server) as (client, csrf):
        form = client.post("/api/v1/posts", data={"text": "pwned"}, headers=evil)
        # Even with the right token (which another site cannot read), another Origin is refused.
        forged = client.post(
            "/api/v1/posts", json={"text": "pwned"}, headers={**evil, "X-CSRF-Token": csrf}
        )
        me = client.get("/api/v1/me").json()
        posts = client.get(f"/api/v1/users/{me['username']}/posts").json()["data"]
    assert form.status_code == 403 and form.json()["error"]["code"] == "csrf_failed"
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
    assert posts == []


def test_a_cross_site_text_plain_form_cannot_log_someone_in(web_server: LiveServer) -> None:
    """A form with enctype=text/plain can send a JSON-looking body: it must not be parsed."""
    account = web_server.signup()
    body = (
        f'{{"username": "{account.username}", "password": "{TEST_PASSWORD}", '
        '"session": "cookie", "x": "="}'
    )
    response = httpx.post(
        web_server.url + LOGIN,
        content=body.encode(),
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert response.status_code in (400, 415, 422), response.text
    assert "set-cookie" not in response.headers


# Account enumeration ------------------------------------------------------------------


def test_login_does_not_tell_unknown_users_from_wrong_passwords(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Production-like hashing cost, so a skipped hash would show: test settings hash in ~1 ms.
    settings = make_settings(tmp_path_factory.mktemp("websec-timing")).with_overrides(
        captions_model=None,
        login_failures_per_minute=10_000,
        password_time_cost=2,
        password_memory_kib=19 * 1024,
    )
    server_gen = serve_in_thread(settings)
    server = next(server_gen)
    try:
        account = server.signup()
        unknown_times: list[float] = []
        wrong_times: list[float] = []
        answers: set[tuple[int, str]] = set()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for attempt in range(21):
                for username, times in (
                    (fresh_name(), unknown_times),
                    (account.username, wrong_times),
                ):
                    started = time.perf_counter()
                    response = client.post(
                        LOGIN,
                        json={"username": username, "password": "not the password"},
                        headers={"X-Forwarded-For": f"10.9.{attempt}.1"},
                    )
                    times.append(time.perf_counter() - started)
                    answers.add((response.status_code, response.text))
    finally:
        server_gen.close()
    assert len(answers) == 1, answers  # same status, same code, same message
    status, _ = answers.pop()
    assert status == 401
    ratio = statistics.median(unknown_times) / statistics.median(wrong_times)
    assert 0.5 < ratio < 2, (ratio, unknown_times, wrong_times)


# Logs ---------------------------------------------------------------------------------


def test_redaction_hides_tokens_and_passwords_in_urls() -> None:
    line = '127.0.0.1:5 - "WebSocket /api/v1/events?token=abc.DEF-123&since=4" [accepted]'
    assert redact(line) == (
        '127.0.0.1:5 - "WebSocket /api/v1/events?token=[redacted]&since=4" [accepted]'
    )
    assert "hunter2" not in redact("GET /x?password=hunter2 HTTP/1.1")


def test_passwords_and_tokens_never_reach_the_logs(
    web_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    # uvicorn logs request lines and WebSocket handshakes (with their query string) at INFO
    # in production; the test server runs it at WARNING, so turn them up for this test.
    loud = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn.access")]
    levels = [(logger, logger.level) for logger in loud]
    for logger in loud:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    password = f"pw-{uuid.uuid4().hex}"
    username = fresh_name()
    try:
        with httpx.Client(base_url=web_server.url, timeout=10) as client:
            signup = client.post(SIGNUP, json={"username": username, "password": password})
            login = client.post(LOGIN, json={"username": username, "password": password})
            bad = client.post(LOGIN, json={"username": username, "password": password + "x"})
            tokens = [signup.json()["token"], login.json()["token"]]
            auth = {"Authorization": f"Bearer {tokens[1]}"}
            assert client.get("/api/v1/me", headers=auth).status_code == 200
            assert client.get(f"/api/v1/me?token={tokens[1]}").status_code == 401
            space = client.post("/api/v1/spaces", json={"title": "logs"}, headers=auth).json()
        assert bad.status_code == 401
        ws_base = web_server.url.replace("http://", "ws://")
        for path in ("/api/v1/events", f"/api/v1/spaces/{space['id']}/events"):
            with connect(f"{ws_base}{path}?token={tokens[0]}") as ws:
                ws.recv(timeout=5)
        time.sleep(0.2)  # the server thread logs the handshake as it happens
    finally:
        for logger, level in levels:
            logger.setLevel(level)
            logger.removeHandler(caplog.handler)
    client_side = ("websockets.client", "httpx", "httpcore")  # the test's own clients
    text = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith(client_side)
    )
    assert "WebSocket" in text  # the handshakes were logged, so the check below means something
    for secret in (password, *tokens):
        assert secret not in text
