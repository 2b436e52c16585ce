"""The live ring: who is on stage in a live Space, as user summaries and the live row say."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.harness import Account, LiveServer
from tests.integration.api.dm_helpers import conversations_of, send, start
from tests.integration.spaces.space_helpers import bring_on_stage, call, open_space


def test_authors_and_senders_carry_the_live_space_they_are_on_stage_in(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    space = open_space(alice)
    carol = server.signup()
    bring_on_stage(alice, carol, space["id"])
    conversation = start(carol, bob)
    sent = send(carol, conversation["id"], "on stage now")
    assert sent["sender"]["live_space_id"] == space["id"]
    listed = conversations_of(bob)[conversation["id"]]
    people = {p["id"]: p for p in listed["participants"]}
    assert people[carol.id]["live_space_id"] == space["id"]
    assert people[bob.id]["live_space_id"] is None
    profile = call(bob, "GET", f"/api/v1/users/{carol.username}").json()
    assert profile["live_space_id"] == space["id"]
    call(bob, "POST", f"/api/v1/users/{carol.username}/follow")
    following = call(bob, "GET", f"/api/v1/users/{bob.username}/following").json()["data"]
    assert [u["live_space_id"] for u in following] == [space["id"]]
    call(bob, "POST", f"/api/v1/users/{alice.username}/follow")
    call(alice, "POST", "/api/v1/posts", json={"text": "live now"})
    timeline = call(bob, "GET", "/api/v1/timeline").json()["data"]
    assert timeline[0]["author"]["live_space_id"] == space["id"]
    call(alice, "POST", f"/api/v1/spaces/{space['id']}/end")
    timeline = call(bob, "GET", "/api/v1/timeline").json()["data"]
    assert timeline[0]["author"]["live_space_id"] is None


def test_the_live_row_holds_spaces_where_people_you_follow_are_on_stage(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    carol, dave = server.signup(), server.signup()
    hosted = open_space(alice)
    spoken = open_space(dave)
    bring_on_stage(dave, carol, spoken["id"])
    open_space(server.signup())  # nobody bob follows
    call(bob, "POST", f"/api/v1/users/{alice.username}/follow")
    call(bob, "POST", f"/api/v1/users/{carol.username}/follow")
    row = call(bob, "GET", "/api/v1/timeline/live-spaces").json()["data"]
    assert {s["id"] for s in row} == {hosted["id"], spoken["id"]}


@contextmanager
def statements_about_spaces(server: LiveServer) -> Iterator[list[str]]:
    """The SQL statements that read Spaces or their participants while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "spaces" in statement or "space_participants" in statement:
            seen.append(statement)

    engine = server.container.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_live_rings_cost_the_same_queries_for_a_page_of_one_or_many_live_authors(
    server: LiveServer, alice: Account
) -> None:
    def live_author_posting() -> None:
        author = server.signup()
        open_space(author)
        call(alice, "POST", f"/api/v1/users/{author.username}/follow")
        call(author, "POST", "/api/v1/posts", json={"text": "on air"})

    live_author_posting()
    with statements_about_spaces(server) as few:
        page = call(alice, "GET", "/api/v1/timeline").json()["data"]
    assert sum(1 for p in page if p["author"]["live_space_id"]) == 1
    for _ in range(4):
        live_author_posting()
    with statements_about_spaces(server) as many:
        page = call(alice, "GET", "/api/v1/timeline").json()["data"]
    assert sum(1 for p in page if p["author"]["live_space_id"]) == 5
    assert len(many) == len(few) <= 2
