"""Network faults on loopback: a speaker's UDP cut for 5 s (the test client's ICE sockets
drop everything both ways, the server is untouched) comes back with the same role and is
heard again; a cut long enough for the server's peer connection to fail (ICE consent
expires) costs the speaker only a fresh offer, not their place on stage; a WebSocket that
drops resumes with `since=` and misses or repeats nothing."""

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aioice.ice import CONSENT_FAILURES, CONSENT_INTERVAL, StunProtocol
from aioice.stun import RETRY_RTO
from websockets.asyncio.client import connect as ws_connect

from tests.media.peers import Peer, ToneTrack, connect, wait_until
from tests.nodes import Node, NodeAccount, call, node_processes

CUT_S = 5.0
BACK_LIMIT_S = 10.0

CONSENT_EXPIRY_MAX_S = CONSENT_FAILURES * (CONSENT_INTERVAL * 1.2 + RETRY_RTO)
"""The longest aioice (the server's ICE) takes to give up on a silent peer (RFC 7675
consent freshness): CONSENT_FAILURES checks in a row, each after up to 1.2 x
CONSENT_INTERVAL, each waiting RETRY_RTO for an answer. 39 s with aioice 0.13: not
configurable, so the long cut below lasts this long for real."""
LONG_CUT_S = CONSENT_EXPIRY_MAX_S + 1.0
GRACE_S = 5
"""Far shorter than the long cut: a server that started someone's grace timer when their
audio link failed would take them off the stage within this long of the failure; the test
looks again once that much has passed since the reconnect."""
REOFFER_BACK_LIMIT_S = 5.0


@pytest.fixture
def one_node(tmp_path: Path) -> Iterator[Node]:
    with node_processes(tmp_path, "", "", 1) as nodes:
        yield nodes[0]


class _Cuttable:
    """A datagram transport that sends nothing while `cut` is set."""

    def __init__(self, inner: asyncio.DatagramTransport, switch: "UdpCut") -> None:
        self._inner = inner
        self._switch = switch

    def sendto(self, data: bytes, addr: Any = None) -> None:
        if not self._switch.cut:
            self._inner.sendto(data, addr)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class UdpCut:
    """Cuts one aiortc peer's UDP both ways, as a pulled cable would, in the client only."""

    def __init__(self, peer: Peer) -> None:
        self.cut = False
        self.dropped = 0
        transceiver = peer.pc.getTransceivers()[0]
        connection = transceiver.sender.transport.transport._connection
        for protocol in connection._protocols:
            self._wrap(protocol)

    def _wrap(self, protocol: StunProtocol) -> None:
        protocol.transport = _Cuttable(protocol.transport, self)  # type: ignore[assignment]
        receive = protocol.datagram_received

        def datagram_received(data: bytes | str, addr: tuple[Any, ...]) -> None:
            if self.cut:
                self.dropped += 1
                return
            receive(data, addr)

        protocol.datagram_received = datagram_received  # type: ignore[method-assign]


def roles_and_mutes(node: Node, asker: NodeAccount, space_id: str) -> dict[str, tuple[str, bool]]:
    """Each participant's (role, muted), as the API lists them."""
    people = call(node, asker, "GET", f"/api/v1/spaces/{space_id}/participants")["data"]
    return {person["user_id"]: (person["role"], person["muted"]) for person in people}


def test_a_speaker_whose_udp_is_cut_for_5_s_keeps_the_role_and_is_heard_again(
    one_node: Node,
) -> None:
    node = one_node
    host, listener = node.signup(), node.signup()
    space = call(node, host, "POST", "/api/v1/spaces", json={"title": "Flaky"})
    space_id = space["id"]
    call(node, listener, "POST", f"/api/v1/spaces/{space_id}/join")
    call(node, host, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")

    async def scenario() -> tuple[float, float, int, str]:
        talker = await connect(node.url, host.token, space_id, "publish", ToneTrack())
        ear = await connect(node.url, listener.token, space_id, "listen", None)
        try:
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
            cut = UdpCut(talker)
            cut.cut = True
            cut_at = time.monotonic()
            await asyncio.sleep(CUT_S)
            cut.cut = False
            restored = time.monotonic()
            # The cut was real: the listener heard the speaker go quiet.
            silent = ear.ear.rms_between(cut_at + 1.0, restored) < 300
            await wait_until(lambda: ear.ear.heard_since(restored), timeout_s=BACK_LIMIT_S)
            back_s = time.monotonic() - restored
            return back_s, float(silent), cut.dropped, talker.pc.connectionState
        finally:
            await talker.close()
            await ear.close()

    back_s, silent, dropped, state = asyncio.run(scenario())
    print(
        f"\nudp cut {CUT_S:.0f} s: {dropped} datagrams dropped, speaker heard again "
        f"{back_s:.1f} s after the cable came back, connection {state}"
    )
    assert silent, "the cut did not silence the speaker"
    assert back_s < BACK_LIMIT_S
    roles = roles_and_mutes(node, host, space_id)
    assert roles == {host.id: ("host", False), listener.id: ("listener", True)}


@pytest.fixture
def short_grace_node(tmp_path: Path) -> Iterator[Node]:
    with node_processes(tmp_path, "", "", 1, participant_grace_s=str(GRACE_S)) as nodes:
        yield nodes[0]


async def _drain(url: str, opened: asyncio.Event) -> None:
    """The speaker's Space socket, held open as the web client does: a cut of UDP is not a
    cut of the page's HTTPS."""
    async with ws_connect(url) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        opened.set()
        async for _ in ws:
            pass


def test_a_speaker_whose_link_fails_keeps_the_stage_and_is_heard_after_a_fresh_offer(
    short_grace_node: Node,
) -> None:
    """The cut outlasts ICE consent, so the server's peer connection fails and is gone.
    The client does what the web client does on `failed` (webclient/rtc.js): hang up,
    then a fresh offer on the same account. The speaker is still a speaker, still
    unmuted, and the listener hears them again."""
    node = short_grace_node
    host, speaker, listener = node.signup(), node.signup(), node.signup()
    space_id = call(node, host, "POST", "/api/v1/spaces", json={"title": "Long cut"})["id"]
    call(node, listener, "POST", f"/api/v1/spaces/{space_id}/join")
    call(node, speaker, "POST", f"/api/v1/spaces/{space_id}/join")
    call(node, speaker, "POST", f"/api/v1/spaces/{space_id}/speak-requests")
    call(node, host, "POST", f"/api/v1/spaces/{space_id}/speak-requests/{speaker.id}/approve")
    call(node, speaker, "POST", f"/api/v1/spaces/{space_id}/participants/me/unmute")
    events_url = f"{node.ws_url}/api/v1/spaces/{space_id}/events?token={speaker.token}"

    async def scenario() -> tuple[float, int, int, bool]:
        opened = asyncio.Event()
        socket = asyncio.ensure_future(_drain(events_url, opened))
        await asyncio.wait_for(opened.wait(), 10)
        talker = await connect(node.url, speaker.token, space_id, "publish", ToneTrack())
        ear = await connect(node.url, listener.token, space_id, "listen", None)
        again: Peer | None = None
        try:
            started = time.monotonic()
            await wait_until(lambda: ear.ear.heard_since(started), timeout_s=10)
            cut = UdpCut(talker)
            cut.cut = True
            await asyncio.sleep(LONG_CUT_S)
            cut.cut = False
            restored = time.monotonic()
            # As rtc.js's teardown: hang up the old session, then offer afresh.
            async with httpx.AsyncClient(base_url=node.url, headers=speaker.headers) as client:
                hung_up = await client.delete(
                    f"/api/v1/spaces/{space_id}/rtc/sessions/{talker.session_id}"
                )
            await talker.close()
            again = await connect(node.url, speaker.token, space_id, "publish", ToneTrack())
            await wait_until(lambda: ear.ear.heard_since(restored), timeout_s=REOFFER_BACK_LIMIT_S)
            back_s = time.monotonic() - restored
            # Past any grace that the failure might have started: still there, still heard.
            await asyncio.sleep(GRACE_S + 1.0)
            later = time.monotonic()
            await asyncio.sleep(1.0)
            still_heard = ear.ear.rms_between(later, time.monotonic()) >= 300
            return back_s, hung_up.status_code, cut.dropped, still_heard
        finally:
            for peer in (talker, ear, again):
                if peer is not None:
                    await peer.close()
            socket.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await socket

    back_s, hang_up_status, dropped, still_heard = asyncio.run(scenario())
    print(
        f"\nudp cut {LONG_CUT_S:.0f} s (past ICE consent): {dropped} datagrams dropped, "
        f"speaker heard again {back_s:.2f} s after the cable came back, with a fresh offer"
    )
    # The server had already closed the failed session: the hang-up finds nothing.
    assert hang_up_status == 404
    assert back_s < REOFFER_BACK_LIMIT_S
    assert still_heard, f"not heard {GRACE_S + 1:.0f} s after coming back"
    roles = roles_and_mutes(node, host, space_id)
    assert roles.get(speaker.id) == ("speaker", False)


def test_a_dropped_websocket_resumes_with_since_without_missing_or_repeating(
    one_node: Node,
) -> None:
    node = one_node
    host, listener = node.signup(), node.signup()
    space = call(node, host, "POST", "/api/v1/spaces", json={"title": "Resume"})
    space_id = space["id"]
    call(node, listener, "POST", f"/api/v1/spaces/{space_id}/join")
    url = f"{node.ws_url}/api/v1/spaces/{space_id}/events?token={listener.token}"
    state_changes = 30

    async def scenario() -> list[int]:
        seqs: list[int] = []

        async def change_state() -> None:
            # Mute and unmute the host: every change is a state event with a seq.
            async with httpx.AsyncClient(base_url=node.url, headers=host.headers) as client:
                for index in range(state_changes):
                    action = "unmute" if index % 2 == 0 else "mute"
                    response = await client.post(
                        f"/api/v1/spaces/{space_id}/participants/me/{action}"
                    )
                    assert response.status_code == 200, response.text
                    await asyncio.sleep(0.05)

        writer = asyncio.ensure_future(change_state())
        # First connection: read a few events, then drop it without a close handshake.
        async with ws_connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            while len(seqs) < 8:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame["seq"] is not None:
                    seqs.append(frame["seq"])
            ws.transport.abort()  # the connection is cut, no close frame
        await asyncio.sleep(0.5)  # events go on while nobody listens
        async with ws_connect(f"{url}&since={seqs[-1]}") as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            await writer
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 1.5))
                except TimeoutError:
                    break
                assert frame["type"] != "resync", frame
                if frame["seq"] is not None:
                    seqs.append(frame["seq"])
        return seqs

    seqs = asyncio.run(scenario())
    print(f"\nwebsocket resume: {len(seqs)} state events, seq {seqs[0]}..{seqs[-1]}")
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    assert len(seqs) >= state_changes
