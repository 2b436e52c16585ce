"""A server that stops closes every peer connection first, those already closing included:
no UDP socket of a peer is left open when its event loop closes (uvloop reports each one
left as an unclosed `UDPTransport` when the loop closes)."""

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aioice.ice import StunProtocol
from aiortc import RTCConfiguration, RTCPeerConnection

from tests.harness import Account, LiveServer, make_settings, serve_in_thread
from tests.media.peers import ToneTrack, connect, wait_until
from townhall.media.service import PeerSession


@pytest.fixture
def stoppable(tmp_path: Path) -> Iterator[tuple[LiveServer, Callable[[], None]]]:
    """A server of this test's own, and what stops it (as the end of a test session does)."""
    running = serve_in_thread(make_settings(tmp_path))
    server = next(running)
    try:
        yield server, running.close
    finally:
        running.close()


def unraisable_while(action: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What Python reported as unraisable (uvloop's unclosed resources) while `action` ran."""
    reported: list[str] = []

    def record(report: "sys.UnraisableHookArgs") -> None:
        reported.append(repr(report.exc_value))

    with monkeypatch.context() as patch:
        patch.setattr(sys, "unraisablehook", record)
        action()
    return reported


def ice_sockets(session: PeerSession) -> list[StunProtocol]:
    """The UDP sockets (one protocol each) the session's ICE gathered on."""
    transceiver = session.pc.getTransceivers()[0]
    return list(transceiver.receiver.transport.transport._connection._protocols)


def open_space(server: LiveServer) -> tuple[Account, Account, str]:
    """A live Space with its host unmuted and a listener in it."""
    host, listener = server.signup(), server.signup()
    with host.client() as client:
        space = client.post("/api/v1/spaces", json={"title": "Closing time"}).json()
        assert client.post(f"/api/v1/spaces/{space['id']}/participants/me/unmute").is_success
    with listener.client() as client:
        assert client.post(f"/api/v1/spaces/{space['id']}/join").is_success
    return host, listener, space["id"]


def test_a_server_stopped_while_peers_are_connected_closes_their_udp_sockets(
    stoppable: tuple[LiveServer, Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, stop = stoppable
    host, listener, space_id = open_space(server)

    async def scenario() -> list[str]:
        speaker = await connect(server.url, host.token, space_id, "publish", ToneTrack())
        ear = await connect(server.url, listener.token, space_id, "listen", None)
        try:
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
            # Nobody hangs up: the server goes away under its peers.
            return await asyncio.to_thread(unraisable_while, stop, monkeypatch)
        finally:
            await speaker.close()
            await ear.close()

    assert asyncio.run(scenario()) == []


def test_a_connection_already_closing_is_closed_before_the_server_stops(
    stoppable: tuple[LiveServer, Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, stop = stoppable
    _, listener, space_id = open_space(server)
    media = server.container.media

    async def close_while_closing(session: PeerSession) -> tuple[str, list[StunProtocol]]:
        sockets = ice_sockets(session)
        hanging_up = asyncio.ensure_future(
            media.hang_up(int(space_id), session.id, int(listener.id))
        )
        await asyncio.sleep(0)  # the hang-up has begun closing the peer connection
        # Its caller goes away, as every task still running does when a loop shuts down.
        hanging_up.cancel()
        await media.close()
        return session.pc.connectionState, [p for p in sockets if not p.transport.is_closing()]

    async def scenario() -> tuple[str, list[StunProtocol], list[str]]:
        ear = await connect(server.url, listener.token, space_id, "listen", None)
        try:
            await wait_until(lambda: ear.pc.connectionState == "connected", timeout_s=10)
            session = media._sessions[ear.session_id]
            state, still_open = await asyncio.to_thread(
                server.run_on_loop, close_while_closing(session)
            )
            reported = await asyncio.to_thread(unraisable_while, stop, monkeypatch)
            return state, still_open, reported
        finally:
            await ear.close()

    state, still_open, reported = asyncio.run(scenario())
    assert state == "closed"
    assert still_open == []
    assert reported == []


async def listen_offer() -> str:
    """A listener's offer, as a browser sends it; the peer that made it is not needed."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp


async def turn_by_turn(found: Callable[[], PeerSession | None]) -> PeerSession:
    """Looks at every turn of the loop: some states last only a few turns."""
    for _ in range(100_000):
        session = found()
        if session is not None:
            return session
        await asyncio.sleep(0)
    raise AssertionError("never found")


def test_a_connection_closed_while_its_answer_is_made_leaves_no_udp_socket_open(
    stoppable: tuple[LiveServer, Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, stop = stoppable
    _, listener, space_id = open_space(server)
    media = server.container.media

    def gathering() -> PeerSession | None:
        session = next(iter(media._sessions.values()), None)
        return session if session and session.pc.iceGatheringState == "gathering" else None

    async def hang_up_while_gathering(offer_sdp: str) -> tuple[str, list[StunProtocol], int]:
        listening = asyncio.ensure_future(media.listen(int(space_id), int(listener.id), offer_sdp))
        session = await turn_by_turn(gathering)
        # Gathering the answer's candidates: the listener hangs up (or leaves, or is removed).
        await media.hang_up(int(space_id), session.id, int(listener.id))
        await listening
        room = media.room(int(space_id))
        still_open = [p for p in ice_sockets(session) if not p.transport.is_closing()]
        return session.pc.connectionState, still_open, room.listener_count if room else 0

    offer_sdp = asyncio.run(listen_offer())
    state, still_open, listeners = server.run_on_loop(hang_up_while_gathering(offer_sdp))
    assert state == "closed"
    assert still_open == []
    assert listeners == 0
    assert unraisable_while(stop, monkeypatch) == []
