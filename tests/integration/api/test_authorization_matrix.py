"""Every route x every role, with the status each must get, in one table (issue #8).

Each cell runs in a world of its own (a fresh host with a live Space, and fresh people in
every role), so one cell's side effects (ending the Space, leaving, blocking) never change
another cell's answer. Routes come from `app.routes`: a route added without a row here fails
`test_every_route_has_a_row`.

To add a role: append its name to ROLES, teach `World` how to make that person, and append
one column to every row of MATRIX.
"""
# ruff: noqa: E501  (the table is one row per route, wider than a line)

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.harness import TEST_PASSWORD, LiveServer, make_settings, serve_in_thread
from townhall.api.routes import web
from townhall.services.moderation import do_set_admin

ROLES = (
    "anonymous",
    "stranger",
    "listener",
    "speaker",
    "cohost",
    "host",
    "blocked",
    "suspended",
    "admin",
)
"""anonymous: no token. stranger: signed in, never joined. listener: joined. speaker: on
stage. cohost: made co-host by the host. host: created the live Space. blocked: the host
blocked them before they tried (they never joined). suspended: suspended by an admin (their
token, now revoked, is what they send). admin: has the admin role (`townhall admin grant`),
never joined."""

WS = "WS"
"""The method of a WebSocket route: its 'status' is 101 when the server says `ready`,
otherwise the close code (4401 unauthenticated, 4403 forbidden, 4404 not found)."""

BAD_SDP = "v=0\r\nnot an offer\r\n"
"""Media routes get an offer they must refuse: the matrix checks who may reach the media
layer without starting real WebRTC sessions (400 means 'allowed, but that is no offer')."""

# Path parameters, filled from the cell's world:
#   {space_id} the host's live Space; {user_id} "target", a listener with a raised hand;
#   {username} the host; {post_id} a post by the host shared in the Space and pinned;
#   {poll_id} an open poll; {name} a file that does not exist; {session_id} none;
#   {conversation_id} the host's conversation with the listener; {report_id} an open
#   report (by "target") of the host's pinned post. Admin actions act on "target" (suspend,
#   unsuspend), the pinned post (remove) and the Space (end).
# The body each route gets is in `_bodies` below. A Space without a recording makes
# the recording, clip and HLS cells 404 for everyone: they show only that no role gets more.
# fmt: off
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    # method, path                                                           anon stgr lstn spkr cohst host blkd susp admin
    ("POST", "/api/v1/auth/login"):                                          ( 200,  200,  200,  200,  200,  200,  200,  200,  200),
    ("POST", "/api/v1/auth/logout"):                                         ( 401,  204,  204,  204,  204,  204,  204,  401,  204),
    ("POST", "/api/v1/auth/signup"):                                         ( 201,  201,  201,  201,  201,  201,  201,  201,  201),
    ("GET", "/api/v1/me"):                                                   ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("PATCH", "/api/v1/me"):                                                 ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("PUT", "/api/v1/me/avatar"):                                            ( 401,  422,  422,  422,  422,  422,  422,  401,  422),
    ("GET", "/api/v1/users/{username}"):                                     ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("DELETE", "/api/v1/users/{username}/block"):                            ( 401,  204,  204,  204,  204,  204,  204,  401,  204),
    ("POST", "/api/v1/users/{username}/block"):                              ( 401,  204,  204,  204,  204,  422,  204,  401,  204),
    ("DELETE", "/api/v1/users/{username}/follow"):                           ( 401,  204,  204,  204,  204,  204,  204,  401,  204),
    ("POST", "/api/v1/users/{username}/follow"):                             ( 401,  204,  204,  204,  204,  422,  403,  401,  204),
    ("GET", "/api/v1/users/{username}/followers"):                           ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("GET", "/api/v1/users/{username}/following"):                           ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("GET", "/api/v1/users/{username}/posts"):                               ( 200,  200,  200,  200,  200,  200,  200,  200,  200),
    ("GET", "/api/v1/users/{username}/spaces"):                              ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("POST", "/api/v1/posts"):                                               ( 401,  201,  201,  201,  201,  201,  404,  401,  201),
    ("GET", "/api/v1/posts/{post_id}"):                                      ( 200,  200,  200,  200,  200,  200,  200,  200,  200),
    ("GET", "/api/v1/timeline"):                                             ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("WS", "/api/v1/events"):                                                (4401,  101,  101,  101,  101,  101,  101, 4401,  101),
    ("GET", "/api/v1/notifications"):                                        ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("POST", "/api/v1/notifications/read"):                                  ( 401,  204,  204,  204,  204,  204,  204,  401,  204),
    ("GET", "/api/v1/search/transcripts"):                                   ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("GET", "/api/v1/spaces"):                                               ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("POST", "/api/v1/spaces"):                                              ( 401,  201,  201,  201,  201,  409,  201,  401,  201),
    ("DELETE", "/api/v1/spaces/{space_id}"):                                 ( 401,  403,  403,  403,  403,  409,  404,  401,  403),
    ("GET", "/api/v1/spaces/{space_id}"):                                    ( 200,  200,  200,  200,  200,  200,  404,  401,  200),
    ("PATCH", "/api/v1/spaces/{space_id}"):                                  ( 401,  403,  403,  403,  200,  200,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/clips"):                             ( 401,  404,  404,  404,  404,  404,  404,  401,  404),
    ("POST", "/api/v1/spaces/{space_id}/end"):                               ( 401,  403,  403,  403,  403,  200,  404,  401,  403),
    ("WS", "/api/v1/spaces/{space_id}/events"):                              (4401,  101,  101,  101,  101,  101, 4404, 4401,  101),
    ("POST", "/api/v1/spaces/{space_id}/invites"):                           ( 401,  403,  403,  403,  201,  201,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/invites/accept"):                    ( 401,  404,  404,  404,  404,  404,  404,  401,  404),
    ("POST", "/api/v1/spaces/{space_id}/invites/decline"):                   ( 401,  404,  404,  404,  404,  404,  404,  401,  404),
    ("POST", "/api/v1/spaces/{space_id}/join"):                              ( 401,  200,  200,  200,  200,  200,  404,  401,  200),
    ("POST", "/api/v1/spaces/{space_id}/leave"):                             ( 401,  204,  204,  204,  204,  204,  404,  401,  204),
    ("GET", "/api/v1/spaces/{space_id}/participants"):                       ( 200,  200,  200,  200,  200,  200,  404,  401,  200),
    ("POST", "/api/v1/spaces/{space_id}/participants/me/mute"):              ( 401,  404,  403,  200,  200,  200,  404,  401,  404),
    ("POST", "/api/v1/spaces/{space_id}/participants/me/unmute"):            ( 401,  404,  403,  200,  200,  200,  404,  401,  404),
    ("POST", "/api/v1/spaces/{space_id}/participants/{user_id}/mute"):       ( 401,  403,  403,  403,  409,  409,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/participants/{user_id}/remove"):     ( 401,  403,  403,  403,  204,  204,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/participants/{user_id}/role"):       ( 401,  403,  403,  403,  200,  200,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/participants/{user_id}/unmute"):     ( 401,  403,  403,  403,  403,  403,  403,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/pins"):                              ( 401,  403,  403,  201,  201,  201,  404,  401,  403),
    ("DELETE", "/api/v1/spaces/{space_id}/pins/{post_id}"):                  ( 401,  403,  403,  204,  204,  204,  404,  401,  403),
    ("GET", "/api/v1/spaces/{space_id}/polls"):                              ( 200,  200,  200,  200,  200,  200,  404,  401,  200),
    ("POST", "/api/v1/spaces/{space_id}/polls"):                             ( 401,  403,  403,  403,  201,  201,  404,  401,  403),
    ("GET", "/api/v1/spaces/{space_id}/polls/{poll_id}"):                    ( 200,  200,  200,  200,  200,  200,  404,  401,  200),
    ("POST", "/api/v1/spaces/{space_id}/polls/{poll_id}/votes"):             ( 401,  403,  204,  204,  204,  204,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/reactions"):                         ( 401,  403,  202,  202,  202,  202,  404,  401,  403),
    ("DELETE", "/api/v1/spaces/{space_id}/recording"):                       ( 401,  404,  404,  404,  404,  404,  404,  401,  404),
    ("GET", "/api/v1/spaces/{space_id}/recording"):                          ( 404,  404,  404,  404,  404,  404,  404,  401,  404),
    ("POST", "/api/v1/spaces/{space_id}/reminders"):                         ( 401,  409,  409,  409,  409,  409,  404,  401,  409),
    ("GET", "/api/v1/spaces/{space_id}/replay-events"):                      ( 404,  404,  404,  404,  404,  404,  404,  401,  404),
    ("GET", "/api/v1/spaces/{space_id}/rtc/config"):                         ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("POST", "/api/v1/spaces/{space_id}/rtc/listen"):                        ( 401,  403,  400,  400,  400,  400,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/rtc/publish"):                       ( 401,  403,  403,  400,  400,  400,  404,  401,  403),
    ("DELETE", "/api/v1/spaces/{space_id}/rtc/sessions/{session_id}"):       ( 401,  404,  404,  404,  404,  404,  404,  401,  404),
    ("GET", "/api/v1/spaces/{space_id}/shared-posts"):                       ( 200,  200,  200,  200,  200,  200,  404,  401,  200),
    ("POST", "/api/v1/spaces/{space_id}/speak-requests"):                    ( 401,  404,  201,  403,  403,  403,  404,  401,  404),
    ("DELETE", "/api/v1/spaces/{space_id}/speak-requests/me"):               ( 401,  404,  204,  204,  204,  204,  404,  401,  404),
    ("POST", "/api/v1/spaces/{space_id}/speak-requests/{user_id}/approve"):  ( 401,  403,  403,  403,  200,  200,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/speak-requests/{user_id}/deny"):     ( 401,  403,  403,  403,  204,  204,  404,  401,  403),
    ("POST", "/api/v1/spaces/{space_id}/start"):                             ( 401,  403,  403,  403,  403,  409,  404,  401,  403),
    ("GET", "/api/v1/spaces/{space_id}/transcript"):                         ( 200,  200,  200,  200,  200,  200,  404,  401,  200),
    ("POST", "/api/v1/spaces/{space_id}/whep"):                              ( 401,  403,  400,  400,  400,  400,  404,  401,  403),
    ("DELETE", "/api/v1/spaces/{space_id}/whep/{session_id}"):               ( 401,  404,  404,  404,  404,  404,  404,  401,  404),
    ("POST", "/api/v1/spaces/{space_id}/whip"):                              ( 401,  403,  403,  400,  400,  400,  404,  401,  403),
    ("DELETE", "/api/v1/spaces/{space_id}/whip/{session_id}"):               ( 401,  404,  404,  404,  404,  404,  404,  401,  404),
    # direct messages, the live row, reports, host bans and the admins' routes
    ("GET", "/api/v1/admin/log"):                                            ( 401,  403,  403,  403,  403,  403,  403,  401,  200),
    ("POST", "/api/v1/admin/posts/{post_id}/remove"):                        ( 401,  403,  403,  403,  403,  403,  403,  401,  204),
    ("GET", "/api/v1/admin/reports"):                                        ( 401,  403,  403,  403,  403,  403,  403,  401,  200),
    ("POST", "/api/v1/admin/reports/{report_id}/dismiss"):                   ( 401,  403,  403,  403,  403,  403,  403,  401,  200),
    ("POST", "/api/v1/admin/reports/{report_id}/resolve"):                   ( 401,  403,  403,  403,  403,  403,  403,  401,  200),
    ("POST", "/api/v1/admin/spaces/{space_id}/end"):                         ( 401,  403,  403,  403,  403,  403,  403,  401,  204),
    ("GET", "/api/v1/admin/status"):                                         ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("POST", "/api/v1/admin/users/{user_id}/suspend"):                       ( 401,  403,  403,  403,  403,  403,  403,  401,  204),
    ("POST", "/api/v1/admin/users/{user_id}/unsuspend"):                     ( 401,  403,  403,  403,  403,  403,  403,  401,  409),
    ("GET", "/api/v1/conversations"):                                        ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("POST", "/api/v1/conversations"):                                       ( 401,  201,  200,  201,  201,  422,  403,  401,  201),
    ("GET", "/api/v1/conversations/{conversation_id}"):                      ( 401,  404,  200,  404,  404,  200,  404,  401,  404),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"):             ( 401,  404,  200,  404,  404,  200,  404,  401,  404),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"):            ( 401,  404,  201,  404,  404,  201,  404,  401,  404),
    ("POST", "/api/v1/conversations/{conversation_id}/read"):                ( 401,  404,  204,  404,  404,  204,  404,  401,  404),
    ("GET", "/api/v1/me/bans"):                                              ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("POST", "/api/v1/me/bans"):                                             ( 401,  201,  201,  201,  201,  201,  201,  401,  201),
    ("DELETE", "/api/v1/me/bans/{user_id}"):                                 ( 401,  404,  404,  404,  404,  404,  404,  401,  404),
    ("POST", "/api/v1/reports"):                                             ( 401,  201,  201,  201,  201,  422,  201,  401,  201),
    ("GET", "/api/v1/timeline/live-spaces"):                                 ( 401,  200,  200,  200,  200,  200,  200,  401,  200),
    ("GET", "/2/spaces"):                                                    ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("GET", "/2/spaces/by/creator_ids"):                                     ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("GET", "/2/spaces/search"):                                             ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("GET", "/2/spaces/{space_id}"):                                         ( 200,  200,  200,  200,  200,  200,  200,  401,  200),
    ("GET", "/api/v1/health"):                                               ( 200,  200,  200,  200,  200,  200,  200,  200,  200),
    ("GET", "/clips/{name}"):                                                ( 404,  404,  404,  404,  404,  404,  404,  404,  404),
    ("GET", "/spaces/{space_id}/hls/recording.m3u8"):                        ( 404,  404,  404,  404,  404,  404,  404,  404,  404),
    ("GET", "/spaces/{space_id}/hls/{name}"):                                ( 404,  404,  404,  404,  404,  404,  404,  404,  404),
    ("GET", "/spaces/{space_id}/recording.m4a"):                             ( 404,  404,  404,  404,  404,  404,  404,  404,  404),
    ("GET", "/s/{space_id}"):                                                ( 200,  200,  200,  200,  200,  200,  200,  200,  200),
}
# fmt: on


def _bodies(w: "World") -> dict[tuple[str, str], dict[str, Any]]:
    """Request keyword arguments (json=, content=, params=) per route."""
    sdp = {"json": {"sdp": BAD_SDP, "type": "offer"}}
    raw_sdp = {"content": BAD_SDP.encode(), "headers": {"content-type": "application/sdp"}}
    return {
        ("POST", "/api/v1/auth/signup"): {
            "json": {"username": f"n{uuid.uuid4().hex[:12]}", "password": TEST_PASSWORD}
        },
        ("POST", "/api/v1/auth/login"): {
            "json": {"username": w.host.username, "password": TEST_PASSWORD}
        },
        ("PATCH", "/api/v1/me"): {"json": {"bio": "hello"}},
        ("PUT", "/api/v1/me/avatar"): {
            "content": b"not an image",
            "headers": {"content-type": "image/png"},
        },
        ("POST", "/api/v1/posts"): {"json": {"text": "hi", "space_id": w.space_id}},
        ("POST", "/api/v1/spaces"): {"json": {"title": "Another"}},
        ("PATCH", "/api/v1/spaces/{space_id}"): {"json": {"title": "Renamed"}},
        ("POST", "/api/v1/spaces/{space_id}/invites"): {
            "json": {"user_id": w.target.id, "role": "speaker"}
        },
        ("POST", "/api/v1/spaces/{space_id}/participants/{user_id}/role"): {
            "json": {"role": "speaker"}
        },
        ("POST", "/api/v1/spaces/{space_id}/participants/{user_id}/remove"): {"json": {}},
        ("POST", "/api/v1/spaces/{space_id}/reactions"): {"json": {"emoji": "👏"}},
        ("POST", "/api/v1/spaces/{space_id}/pins"): {"json": {"post_id": w.unpinned_post_id}},
        ("POST", "/api/v1/spaces/{space_id}/polls"): {
            "json": {"question": "Which?", "options": ["a", "b"], "duration_s": 60}
        },
        ("POST", "/api/v1/spaces/{space_id}/polls/{poll_id}/votes"): {"json": {"option": 0}},
        ("POST", "/api/v1/spaces/{space_id}/clips"): {"json": {}},
        ("POST", "/api/v1/spaces/{space_id}/rtc/publish"): sdp,
        ("POST", "/api/v1/spaces/{space_id}/rtc/listen"): sdp,
        ("POST", "/api/v1/spaces/{space_id}/whip"): raw_sdp,
        ("POST", "/api/v1/spaces/{space_id}/whep"): raw_sdp,
        ("GET", "/api/v1/search/transcripts"): {"params": {"q": "hello"}},
        ("GET", "/2/spaces"): {"params": {"ids": w.space_id}},
        ("GET", "/2/spaces/by/creator_ids"): {"params": {"user_ids": w.host.id}},
        ("GET", "/2/spaces/search"): {"params": {"query": "chat"}},
        ("POST", "/api/v1/conversations"): {"json": {"username": w.host.username}},
        ("POST", "/api/v1/conversations/{conversation_id}/messages"): {"json": {"text": "hi"}},
        ("POST", "/api/v1/conversations/{conversation_id}/read"): {"json": {}},
        ("POST", "/api/v1/reports"): {
            "json": {"target_type": "post", "target_id": w.pinned_post_id, "reason": "spam"}
        },
        ("POST", "/api/v1/me/bans"): {"json": {"username": w.target.username}},
    }


EXCLUDED_PATHS = frozenset(
    {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/favicon.ico"}
    | set(web.CLIENT_PAGES)
)
"""The OpenAPI documents and the web client's HTML shell: the same public page for all."""


def app_routes(server: LiveServer) -> set[tuple[str, str]]:
    found = set()
    for context in iter_route_contexts(server.app.routes):
        path = context.path
        if path is None or path in EXCLUDED_PATHS:
            continue
        methods = context.methods
        if methods is None:  # a WebSocket route (mounts have no methods either)
            if type(context.original_route).__name__ == "APIWebSocketRoute":
                found.add((WS, path))
            continue
        for method in methods - {"HEAD"}:
            found.add((method, path))
    return found


@dataclass
class Person:
    username: str
    id: str
    token: str


@dataclass
class World:
    """A live Space and one person in each role, made fresh for each cell."""

    server: LiveServer
    http: httpx.Client
    people: dict[str, Person] = field(default_factory=dict)
    space_id: str = ""
    target: Person = field(init=False)
    pinned_post_id: str = ""
    unpinned_post_id: str = ""
    poll_id: str = ""
    conversation_id: str = ""
    report_id: str = ""

    @property
    def host(self) -> Person:
        return self.people["host"]

    def signup(self) -> Person:
        username = f"m{uuid.uuid4().hex[:12]}"
        response = self.http.post(
            "/api/v1/auth/signup", json={"username": username, "password": TEST_PASSWORD}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Person(username, body["user"]["id"], body["token"])

    def as_(self, person: Person, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {person.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def ok(self, person: Person, method: str, path: str, **kwargs: Any) -> Any:
        response = self.as_(person, method, path, **kwargs)
        assert response.status_code < 300, (method, path, response.text)
        return response.json() if response.content else None

    def build(self) -> "World":
        for role in ROLES[1:]:
            self.people[role] = self.signup()
        self.target = self.signup()
        admin = self.people["admin"]
        do_set_admin(self.server.container.services, admin.username, True)
        self.ok(admin, "POST", f"/api/v1/admin/users/{self.people['suspended'].id}/suspend")
        host, space = self.host, "/api/v1/spaces"
        self.ok(host, "POST", f"/api/v1/users/{self.people['blocked'].username}/block")
        self.space_id = self.ok(host, "POST", space, json={"title": "A live chat"})["id"]
        space = f"{space}/{self.space_id}"
        for role in ("listener", "speaker", "cohost"):
            self.ok(self.people[role], "POST", f"{space}/join")
        self.ok(self.target, "POST", f"{space}/join")
        self.ok(self.people["speaker"], "POST", f"{space}/speak-requests")
        self.ok(host, "POST", f"{space}/speak-requests/{self.people['speaker'].id}/approve")
        cohost = self.people["cohost"]
        self.ok(host, "POST", f"{space}/participants/{cohost.id}/role", json={"role": "cohost"})
        self.ok(self.target, "POST", f"{space}/speak-requests")
        post = {"text": "shared", "space_id": self.space_id}
        self.pinned_post_id = self.ok(host, "POST", "/api/v1/posts", json=post)["id"]
        self.unpinned_post_id = self.ok(host, "POST", "/api/v1/posts", json=post)["id"]
        self.ok(host, "POST", f"{space}/pins", json={"post_id": self.pinned_post_id})
        poll = {"question": "Yes?", "options": ["yes", "no"], "duration_s": 300}
        self.poll_id = self.ok(host, "POST", f"{space}/polls", json=poll)["id"]
        listener = self.people["listener"].username
        conversation = self.ok(host, "POST", "/api/v1/conversations", json={"username": listener})
        self.conversation_id = conversation["id"]
        report = {"target_type": "post", "target_id": self.pinned_post_id, "reason": "spam"}
        self.report_id = self.ok(self.target, "POST", "/api/v1/reports", json=report)["id"]
        return self

    def path(self, template: str) -> str:
        return template.format(
            space_id=self.space_id,
            user_id=self.target.id,
            username=self.host.username,
            post_id=self.pinned_post_id,
            poll_id=self.poll_id,
            name="missing.m4a" if template.startswith("/clips/") else "missing.ts",
            session_id="0",
            conversation_id=self.conversation_id,
            report_id=self.report_id,
        )

    def status(self, role: str, method: str, template: str) -> int:
        path = self.path(template)
        person = self.people.get(role)
        if method == WS:
            return self._ws_status(person, path)
        kwargs = dict(_bodies(self).get((method, template), {}))
        headers = dict(kwargs.pop("headers", {}))
        if person is not None:
            headers["Authorization"] = f"Bearer {person.token}"
        return self.http.request(method, path, headers=headers, **kwargs).status_code

    def _ws_status(self, person: Person | None, path: str) -> int:
        url = self.server.url.replace("http://", "ws://") + path
        if person is not None:
            url += f"?token={person.token}"
        with connect(url, open_timeout=5) as ws:
            try:
                frame = json.loads(ws.recv(timeout=5))
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else 1006
            return 101 if frame.get("type") == "ready" else 0


@pytest.fixture(scope="module")
def matrix_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("authz")).with_overrides(captions_model=None)
    yield from serve_in_thread(settings)


def observe(
    server: LiveServer, routes: list[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, ...]]:
    seen = {}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for method, path in routes:
            # A read changes nothing, so its row shares one world; a write gets one per cell.
            shared = World(server, http).build() if method in ("GET", WS) else None
            row = []
            for role in ROLES:
                world = shared or World(server, http).build()
                row.append(world.status(role, method, path))
            seen[(method, path)] = tuple(row)
    return seen


def test_every_route_has_a_row(matrix_server: LiveServer) -> None:
    routes = app_routes(matrix_server)
    assert sorted(routes - set(MATRIX)) == [], "new routes: add a row to MATRIX"
    assert sorted(set(MATRIX) - routes) == [], "rows for routes that no longer exist"
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


def test_each_role_gets_the_status_in_the_table(matrix_server: LiveServer) -> None:
    seen = observe(matrix_server, sorted(app_routes(matrix_server)))
    wrong = {key: (MATRIX.get(key), got) for key, got in seen.items() if MATRIX.get(key) != got}
    table = "\n".join(f"    {key!r}: {got}," for key, got in seen.items())
    assert not wrong, f"{len(wrong)} rows differ (expected, got):\n{wrong}\nobserved:\n{table}"
