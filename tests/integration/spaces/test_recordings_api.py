"""Recordings over the API: who may clip, delete and replay, and what each wrong move gets.

A recorded Space's room opens when it goes live and records the mix (silence here: nobody
speaks), so these tests need no WebRTC peers."""

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.harness import Account, LiveServer
from tests.integration.spaces.space_helpers import call, join, open_space
from townhall.services import recordings
from townhall.storage.tables import SpaceEventRow, SpaceRow


def recording_of(server: LiveServer, space_id: str) -> httpx.Response:
    return httpx.get(f"{server.url}/api/v1/spaces/{space_id}/recording")


def wait_for(server: LiveServer, space_id: str, state: str, at_least_s: float = 0.0) -> None:
    deadline = time.monotonic() + 20
    while True:
        body = recording_of(server, space_id).json()
        if body.get("state") == state and body.get("duration_s", 0) >= at_least_s:
            return
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def ended_recorded_space(server: LiveServer, host: Account, seconds: float) -> str:
    space_id: str = open_space(host, recording=True)["id"]
    wait_for(server, space_id, "recording", at_least_s=seconds)
    assert call(host, "POST", f"/api/v1/spaces/{space_id}/end").status_code == 200
    wait_for(server, space_id, "ready")
    return space_id


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_a_recording_starts_when_the_space_goes_live_and_only_its_host_deletes_it(
    server: LiveServer,
) -> None:
    host, guest = server.signup(), server.signup()
    space_id: str = open_space(host, recording=True)["id"]
    live = recording_of(server, space_id).json()
    assert live["state"] == "recording" and live["download_url"] is None
    assert call(guest, "DELETE", f"/api/v1/spaces/{space_id}/recording").status_code == 403
    still_live = call(host, "DELETE", f"/api/v1/spaces/{space_id}/recording")
    assert still_live.status_code == 409 and error_code(still_live) == "space_live"

    wait_for(server, space_id, "recording", at_least_s=2.0)
    call(host, "POST", f"/api/v1/spaces/{space_id}/end")
    wait_for(server, space_id, "ready")
    ready = recording_of(server, space_id).json()
    playlist = httpx.get(server.url + ready["playlist_url"])
    assert playlist.status_code == 200 and "#EXT-X-ENDLIST" in playlist.text
    segment = next(line for line in playlist.text.splitlines() if line.endswith(".ts"))
    segment_url = f"{server.url}/spaces/{space_id}/hls/{segment}"
    assert httpx.get(segment_url).status_code == 200
    ranged = httpx.get(server.url + ready["download_url"], headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100

    assert call(host, "DELETE", f"/api/v1/spaces/{space_id}/recording").status_code == 204
    for url in (
        f"{server.url}/api/v1/spaces/{space_id}/recording",
        f"{server.url}/api/v1/spaces/{space_id}/replay-events",
        server.url + ready["playlist_url"],
        server.url + ready["download_url"],
        segment_url,
    ):
        gone = httpx.get(url)
        assert gone.status_code == 404, url
        assert "error" in gone.json()
    assert not (server.settings.hls_dir / space_id).exists()
    assert call(host, "DELETE", f"/api/v1/spaces/{space_id}/recording").status_code == 404


def test_participants_clip_a_live_recording_and_anyone_clips_an_ended_one(
    server: LiveServer,
) -> None:
    host, guest, outsider = server.signup(), server.signup(), server.signup()
    space_id: str = open_space(host, recording=True)["id"]
    join(guest, space_id)
    clips = f"/api/v1/spaces/{space_id}/clips"
    too_soon = call(guest, "POST", clips, json={})
    assert too_soon.status_code == 409 and error_code(too_soon) == "recording_too_short"
    wait_for(server, space_id, "recording", at_least_s=6.0)
    assert call(outsider, "POST", clips, json={}).status_code == 403
    for bad in (
        {"duration_s": 4},
        {"duration_s": 61},
        {"start_offset_ms": -1},
        {"duration_s": "5"},
    ):
        refused = call(guest, "POST", clips, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    beyond = call(guest, "POST", clips, json={"start_offset_ms": 3_600_000})
    assert beyond.status_code == 422 and error_code(beyond) == "invalid_clip_offset"

    made = call(guest, "POST", clips, json={"duration_s": 5})
    assert made.status_code == 201, made.text
    clip: dict[str, Any] = made.json()
    assert clip["duration_ms"] >= 4900
    audio = httpx.get(server.url + clip["url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mp4"
    post = call(guest, "GET", f"/api/v1/posts/{clip['post_id']}").json()
    assert clip["url"] in post["text"] and post["author_id"] == guest.id

    call(host, "POST", f"/api/v1/spaces/{space_id}/end")
    wait_for(server, space_id, "ready")
    later = call(outsider, "POST", clips, json={"start_offset_ms": 500, "duration_s": 5})
    assert later.status_code == 201, later.text
    assert later.json()["start_offset_ms"] == 500
    assert httpx.get(f"{server.url}/clips/999.m4a").status_code == 404
    assert httpx.get(f"{server.url}/clips/nope").status_code == 404
    unrecorded = open_space(server.signup())["id"]
    assert call(guest, "POST", f"/api/v1/spaces/{unrecorded}/clips", json={}).status_code == 404
    assert call(guest, "POST", "/api/v1/spaces/123/clips", json={}).status_code == 404


def test_replay_events_carry_final_captions_from_the_log_and_profiles_list_recordings(
    server: LiveServer,
) -> None:
    host = server.signup()
    space_id = ended_recorded_space(server, host, seconds=2.0)
    before = httpx.get(f"{server.url}/api/v1/spaces/{space_id}/replay-events").json()["data"]
    assert not [e for e in before if e["type"] == "caption"]
    with server.container.services.uow.write() as uow:
        space = uow.session.get(SpaceRow, int(space_id))
        assert space is not None and space.started_at is not None
        said_at = space.started_at + timedelta(seconds=1)
        # As the log appends them: the next seqs, the Space's latest seq moving with them.
        for final in (False, True):
            space.event_seq += 1
            seq = space.event_seq
            data = {"user_id": host.id, "text": "hello there", "final": final, "offset_ms": 1200}
            uow.session.add(
                SpaceEventRow(
                    space_id=int(space_id),
                    seq=seq,
                    type="caption",
                    data=json.dumps(data),
                    at=said_at,
                )
            )
    replayed = httpx.get(f"{server.url}/api/v1/spaces/{space_id}/replay-events")
    assert replayed.headers["content-type"] == "application/json"
    events = replayed.json()["data"]
    captions = [e for e in events if e["type"] == "caption"]
    assert captions == [
        {
            "type": "caption",
            "offset_ms": 1200,
            "data": {"user_id": host.id, "text": "hello there", "final": True, "offset_ms": 1200},
        }
    ]

    listed = httpx.get(f"{server.url}/api/v1/users/{host.username}/spaces?recorded=true").json()
    assert [space["id"] for space in listed["data"]] == [space_id]
    assert httpx.get(f"{server.url}/api/v1/users/nobody_here/spaces").status_code == 404


def test_recordings_older_than_the_retention_are_deleted(server: LiveServer) -> None:
    host = server.signup()
    space_id = ended_recorded_space(server, host, seconds=1.0)
    services = server.container.services
    now = services.clock()
    keep_forever = dataclasses.replace(services, clock=lambda: now + timedelta(days=400))
    assert recordings.do_expire_recordings(keep_forever) == 0
    week = dataclasses.replace(
        keep_forever, settings=services.settings.with_overrides(recording_retention_days=7)
    )
    assert recordings.do_expire_recordings(week) >= 1
    assert recording_of(server, space_id).status_code == 404
    assert not (server.settings.hls_dir / space_id).exists()


def test_recording_routes_are_documented_and_bad_ids_are_unknown_not_a_crash(
    server: LiveServer,
) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path in (
        "/api/v1/spaces/{space_id}/recording",
        "/api/v1/spaces/{space_id}/replay-events",
        "/api/v1/spaces/{space_id}/clips",
        "/api/v1/users/{username}/spaces",
    ):
        assert path in spec["paths"], path
    huge = "9999999999999999999"
    for url in (
        f"/api/v1/spaces/{huge}/recording",
        f"/api/v1/spaces/{huge}/replay-events",
        "/api/v1/spaces/abc/recording",
        f"/spaces/{huge}/hls/recording.m3u8",
        f"/spaces/{huge}/recording.m4a",
        f"/clips/{huge}{huge}.m4a",
    ):
        response = httpx.get(server.url + url)
        assert response.status_code == 404, url
        assert "error" in response.json()
    host = server.signup()
    with host.client() as client:
        malformed = client.post(
            f"/api/v1/spaces/{huge}/clips",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
    assert malformed.status_code == 400


def test_a_scheduled_recorded_space_records_from_when_it_starts(server: LiveServer) -> None:
    host = server.signup()
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    space_id = open_space(host, recording=True, scheduled_start=soon)["id"]
    assert recording_of(server, space_id).status_code == 404
    assert call(host, "POST", f"/api/v1/spaces/{space_id}/start").status_code == 200
    assert recording_of(server, space_id).json()["state"] == "recording"
    call(host, "POST", f"/api/v1/spaces/{space_id}/end")


def test_recording_is_switched_before_the_space_goes_live_not_during_it(
    server: LiveServer,
) -> None:
    host = server.signup()
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = open_space(host, scheduled_start=soon)["id"]
    switched = call(host, "PATCH", f"/api/v1/spaces/{scheduled}", json={"recording": True})
    assert (switched.status_code, switched.json()["recording"]) == (200, True)

    live = open_space(host)["id"]
    refused = call(host, "PATCH", f"/api/v1/spaces/{live}", json={"recording": True})
    assert refused.status_code == 409, refused.text
    assert error_code(refused) == "recording_fixed"
    assert recording_of(server, live).status_code == 404
    unchanged = call(host, "PATCH", f"/api/v1/spaces/{live}", json={"recording": False})
    assert unchanged.status_code == 200
    call(host, "POST", f"/api/v1/spaces/{live}/end")
