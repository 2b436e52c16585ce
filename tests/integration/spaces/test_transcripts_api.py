"""Transcripts over HTTP, on SQLite (FTS5) and PostgreSQL (tsvector): a Space's captions
as JSON and WebVTT, and full-text search across Spaces pointing at the moment."""

from typing import Any

import pytest

from tests.harness import Account, LiveServer
from tests.integration.spaces.space_helpers import call, open_space
from townhall.services import captions

pytestmark = pytest.mark.postgres


def say(server: LiveServer, space: dict[str, Any], who: Account, text: str, at_ms: int) -> None:
    """What the media layer does with a final caption."""
    captions.do_record_caption(
        server.container.services, int(space["id"]), int(who.id), text, at_ms, 1500
    )


def test_the_transcript_lists_final_captions_in_order_with_who_said_them(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    space = open_space(alice, captions=True)
    say(server, space, bob, "And that is why we plant in spring.", 65_250)
    say(server, space, alice, "Welcome, everyone.", 1_200)
    body = call(bob, "GET", f"/api/v1/spaces/{space['id']}/transcript").json()
    assert [(line["user_id"], line["text"], line["offset_ms"]) for line in body["data"]] == [
        (alice.id, "Welcome, everyone.", 1_200),
        (bob.id, "And that is why we plant in spring.", 65_250),
    ]
    assert body["data"][0]["duration_ms"] == 1500
    assert body["data"][0]["user"]["username"] == alice.username


def test_the_transcript_as_webvtt_has_one_cue_per_caption_with_the_speaker(
    server: LiveServer, alice: Account
) -> None:
    space = open_space(alice, captions=True)
    say(server, space, alice, "Tonight: <b>bold</b> ideas & more.", 3_723_004)
    response = call(alice, "GET", f"/api/v1/spaces/{space['id']}/transcript?format=vtt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/vtt")
    assert response.text.splitlines()[:5] == [
        "WEBVTT",
        "",
        "1",
        "01:02:03.004 --> 01:02:04.504",
        f"<v {alice.username}>Tonight: &lt;b&gt;bold&lt;/b&gt; ideas &amp; more.",
    ]


def test_an_ended_space_keeps_its_transcript_and_anyone_may_read_it(
    server: LiveServer, alice: Account
) -> None:
    space = open_space(alice, captions=True)
    say(server, space, alice, "Thanks for coming.", 500)
    assert call(alice, "POST", f"/api/v1/spaces/{space['id']}/end").status_code == 200
    with server.client() as anonymous:
        body = anonymous.get(f"/api/v1/spaces/{space['id']}/transcript").json()
    assert [line["text"] for line in body["data"]] == ["Thanks for coming."]


def test_transcript_errors_use_the_envelope(server: LiveServer, alice: Account) -> None:
    missing = call(alice, "GET", "/api/v1/spaces/12345/transcript")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "space_not_found"
    space = open_space(alice)
    bad = call(alice, "GET", f"/api/v1/spaces/{space['id']}/transcript?format=srt")
    assert bad.status_code == 422
    assert "error" in bad.json()


def test_search_finds_words_across_spaces_and_points_at_the_moment(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    first, second = open_space(alice, captions=True), open_space(bob, captions=True)
    say(server, first, alice, "Our zucchini harvest was enormous this year.", 42_000)
    say(server, second, bob, "Has anyone grown zucchini on a balcony?", 7_000)
    say(server, second, bob, "Tomatoes are easier.", 9_000)
    hits = call(alice, "GET", "/api/v1/search/transcripts", params={"q": "zucchini"}).json()
    found = {(hit["space_id"], hit["offset_ms"], hit["user_id"]) for hit in hits["data"]}
    assert found == {(first["id"], 42_000, alice.id), (second["id"], 7_000, bob.id)}
    assert all("zucchini" in hit["text"] for hit in hits["data"])
    # Each hit links to its moment of the Space, and says where and who.
    by_space = {hit["space_id"]: hit for hit in hits["data"]}
    assert by_space[first["id"]]["url"] == f"/s/{first['id']}?t=42"
    assert by_space[second["id"]]["space_title"] == second["title"]
    assert by_space[second["id"]]["user"]["username"] == bob.username


def test_search_matches_word_forms_and_needs_every_word(server: LiveServer, alice: Account) -> None:
    space = open_space(alice, captions=True)
    say(server, space, alice, "We were planting kohlrabi seedlings yesterday.", 1_000)
    say(server, space, alice, "Kohlrabi tastes sweet.", 2_000)

    def search(q: str) -> list[str]:
        body = call(alice, "GET", "/api/v1/search/transcripts", params={"q": q}).json()
        return [hit["text"] for hit in body["data"]]

    assert search("kohlrabi plant") == ["We were planting kohlrabi seedlings yesterday."]
    assert sorted(search("KOHLRABI")) == sorted(
        ["We were planting kohlrabi seedlings yesterday.", "Kohlrabi tastes sweet."]
    )
    # Query syntax is not the caller's to use: operators and quotes are just words.
    assert search('kohlrabi" OR NEAR(x') == []
    assert search("***") == []


def test_search_hides_the_words_of_spaces_a_block_hides(
    server: LiveServer, alice: Account, bob: Account
) -> None:
    space = open_space(alice, captions=True)
    say(server, space, alice, "The quokka is a small marsupial.", 3_000)
    assert call(bob, "POST", f"/api/v1/users/{alice.username}/block").status_code == 204

    def found(account: Account | None) -> int:
        if account is None:
            with server.client() as anonymous:
                body = anonymous.get("/api/v1/search/transcripts", params={"q": "quokka"})
        else:
            body = call(account, "GET", "/api/v1/search/transcripts", params={"q": "quokka"})
        return len(body.json()["data"])

    assert found(bob) == 0
    assert found(alice) == 1
    assert found(None) == 1


def test_search_needs_a_query(server: LiveServer, alice: Account) -> None:
    response = call(alice, "GET", "/api/v1/search/transcripts")
    assert response.status_code == 422
    assert "error" in response.json()
