"""The server's peers: host candidates only where TOWNHALL_RTC_HOST_ADDRESSES says, one DTLS
certificate for all of them, and every listener still hears the speaker."""

import asyncio
import re
from collections.abc import Iterator

import pytest

from tests.harness import LiveServer, make_settings, serve_in_thread
from tests.integration.spaces.space_helpers import call, join, open_space
from tests.media.peers import ToneTrack, connect, wait_until


@pytest.fixture(scope="module")
def loopback_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("loopback-rtc")).with_overrides(
        rtc_host_addresses=("127.0.0.1",)
    )
    yield from serve_in_thread(settings)


def _candidate_hosts(sdp: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"a=candidate:\S+ \d+ udp \d+ (\S+) \d+", sdp)}


def _fingerprint(sdp: str) -> str:
    match = re.search(r"a=fingerprint:sha-256 (\S+)", sdp)
    assert match, sdp
    return match.group(1)


def test_listeners_connect_on_the_one_address_given_and_hear_the_speaker(
    loopback_server: LiveServer,
) -> None:
    host = loopback_server.signup()
    audience = [loopback_server.signup() for _ in range(2)]
    space = open_space(host)
    for person in audience:
        join(person, space["id"])
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")

    async def scenario() -> tuple[list[str], list[bool]]:
        speaker = await connect(
            loopback_server.url, host.token, space["id"], "publish", ToneTrack()
        )
        ears = [
            await connect(loopback_server.url, p.token, space["id"], "listen", None)
            for p in audience
        ]
        try:
            await wait_until(lambda: all(e.ear.heard_since(0.0) for e in ears), 15)
            answers = [e.pc.remoteDescription.sdp for e in [speaker, *ears]]
            return answers, [e.ear.heard_since(0.0) for e in ears]
        finally:
            for peer in [speaker, *ears]:
                await peer.close()

    answers, heard = asyncio.run(scenario())
    assert all(heard)
    for answer in answers:
        assert _candidate_hosts(answer) == {"127.0.0.1"}, answer
    assert len({_fingerprint(a) for a in answers}) == 1, "one certificate for the server's peers"
