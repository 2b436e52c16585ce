"""The one-loop fan-out: real aiortc listeners hear the speaker; one leaving breaks nobody."""

import asyncio
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvloop
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport

from tests.harness import LiveServer
from tests.integration.spaces.space_helpers import call, join, open_space
from tests.media.peers import SAMPLE_RATE, Ear, Peer, ToneTrack, WavTrack, connect, wait_until
from tests.media.speech import make_speech, read_wav
from townhall.media.fanout import Fanout, ParkedTrack

BIN_S = 0.1


def _envelope(samples: np.ndarray) -> np.ndarray:
    """RMS per 100 ms of what the speaker sent."""
    per_bin = int(SAMPLE_RATE * BIN_S)
    usable = samples[: len(samples) // per_bin * per_bin].astype(np.float64)
    envelope: np.ndarray = np.sqrt(np.mean(usable.reshape(-1, per_bin) ** 2, axis=1))
    return envelope


def _heard_envelope(ear: Ear, start: float, bins: int, lag_s: float) -> np.ndarray:
    return np.array(
        [
            ear.rms_between(start + lag_s + i * BIN_S, start + lag_s + (i + 1) * BIN_S)
            for i in range(bins)
        ]
    )


def _best_correlation(sent: np.ndarray, ear: Ear, start: float) -> float:
    """Correlation of sent and heard energy at the best lag up to 400 ms (network, buffers)."""
    best = -1.0
    for lag_ms in range(0, 400, 20):
        heard = _heard_envelope(ear, start, len(sent), lag_ms / 1000)
        if heard.std() > 0:
            best = max(best, float(np.corrcoef(sent, heard)[0, 1]))
    return best


def test_listeners_hear_the_speech_and_its_pauses(
    sqlite_server: LiveServer, tmp_path: Path
) -> None:
    host = sqlite_server.signup()
    audience = [sqlite_server.signup() for _ in range(3)]
    space = open_space(host)
    for person in audience:
        join(person, space["id"])
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")
    words = read_wav(make_speech(tmp_path, "Hello everyone. Welcome to the town hall."))
    pause = np.zeros(SAMPLE_RATE, dtype=np.int16)
    speech = np.concatenate([pause, words, pause, words, pause])

    async def scenario() -> list[float]:
        ears = [
            await connect(sqlite_server.url, p.token, space["id"], "listen", None) for p in audience
        ]
        try:
            await wait_until(lambda: all(e.pc.connectionState == "connected" for e in ears), 15)
            mic = WavTrack(speech)
            speaker = await connect(sqlite_server.url, host.token, space["id"], "publish", mic)
            try:
                await wait_until(lambda: mic._start is not None, 15)
                await asyncio.sleep(len(speech) / SAMPLE_RATE + 0.6)
            finally:
                await speaker.close()
            assert mic._start is not None
            sent = _envelope(speech)
            return [_best_correlation(sent, e.ear, mic._start) for e in ears]
        finally:
            for ear in ears:
                await ear.close()

    correlations = asyncio.run(scenario())
    # Every listener's loudness rises with the words and falls in the pauses.
    assert min(correlations) > 0.6, correlations


def _louder_than(peer: Peer, threshold: float, seconds: float = 0.4) -> bool:
    now = time.monotonic()
    return peer.ear.rms_between(now - seconds, now) > threshold


def test_a_listener_that_vanishes_does_not_break_the_others(sqlite_server: LiveServer) -> None:
    host = sqlite_server.signup()
    audience = [sqlite_server.signup() for _ in range(4)]
    space = open_space(host)
    for person in audience:
        join(person, space["id"])
    call(host, "POST", f"/api/v1/spaces/{space['id']}/participants/me/unmute")

    async def scenario() -> None:
        speaker = await connect(sqlite_server.url, host.token, space["id"], "publish", ToneTrack())
        ears = [
            await connect(sqlite_server.url, p.token, space["id"], "listen", None) for p in audience
        ]
        try:
            started = time.monotonic()
            await wait_until(lambda: all(e.ear.heard_since(started) for e in ears), 15)
            # One closes cleanly (DTLS close_notify), one hangs up through the API, one
            # just vanishes: its sockets close, the server keeps sending into the void.
            await ears[0].pc.close()
            async with httpx.AsyncClient(base_url=sqlite_server.url) as client:
                hung_up = await client.delete(
                    f"/api/v1/spaces/{space['id']}/rtc/sessions/{ears[1].session_id}",
                    headers={"Authorization": f"Bearer {audience[1].token}"},
                )
            assert hung_up.status_code == 204
            ice = ears[2].pc.getTransceivers()[0].receiver.transport.transport
            for protocol in ice._connection._protocols:
                protocol.transport.close()
            await asyncio.sleep(1.0)
            survivor = ears[3]
            assert _louder_than(survivor, 1000), "the last listener still hears the tone"
            now = time.monotonic()
            frames = [at for at, _ in survivor.ear.levels if now - 1.0 <= at < now]
            assert len(frames) >= 40, len(frames)  # 50 a second, nothing skipped
        finally:
            await speaker.close()
            for ear in ears:
                await ear.close()

    asyncio.run(scenario())


def test_fanout_relies_on_aiortc_internals_that_still_exist() -> None:
    """The fan-out reads these private names; an aiortc upgrade that renames one fails here."""
    sender_attributes = (
        "_RTCRtpSender__rtp_header_extensions_map",
        "_RTCRtpSender__ntp_timestamp",
        "_RTCRtpSender__rtp_timestamp",
        "_RTCRtpSender__packet_count",
        "_RTCRtpSender__octet_count",
        "_RTCRtpSender__cname",
        "_RTCRtpSender__lsr",
        "_RTCRtpSender__lsr_time",
        "_RTCRtpSender__rtcp_started",
        "_RTCRtpSender__rtcp_exited",
        "_run_rtcp",
        "_send_rtcp",
        "_ssrc",
    )

    async def check() -> None:
        from aiortc import RTCPeerConnection

        pc = RTCPeerConnection()
        pc.addTransceiver("audio", direction="sendonly")
        sender = pc.getSenders()[0]
        assert isinstance(sender, RTCRtpSender)
        for name in sender_attributes:
            assert hasattr(sender, name), name
        dtls = sender.transport
        assert isinstance(dtls, RTCDtlsTransport)
        assert hasattr(dtls, "_tx_srtp") and hasattr(dtls, "_state")
        assert hasattr(dtls.transport._connection, "_nominated")
        await pc.close()

    asyncio.run(check())


async def _pair() -> tuple[RTCPeerConnection, RTCPeerConnection, list[int]]:
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    client.addTransceiver("audio", direction="recvonly")
    got: list[int] = []
    tasks: list[asyncio.Future[None]] = []

    @client.on("track")
    def on_track(track: object) -> None:
        async def count() -> None:
            while True:
                try:
                    await track.recv()  # type: ignore[attr-defined]
                except Exception:
                    return
                got.append(1)

        tasks.append(asyncio.ensure_future(count()))

    await client.setLocalDescription(await client.createOffer())
    server = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await server.setRemoteDescription(RTCSessionDescription(client.localDescription.sdp, "offer"))
    server.addTrack(ParkedTrack())
    await server.setLocalDescription(await server.createAnswer())
    await client.setRemoteDescription(RTCSessionDescription(server.localDescription.sdp, "answer"))
    return server, client, got


def test_the_loop_drops_a_closed_peer_and_keeps_sending_to_the_rest() -> None:
    """Peers in this process; one server-side peer closes while still on the fan-out list."""

    async def scenario() -> None:
        from townhall.media.opus import OpusEncoder

        pairs = [await _pair() for _ in range(3)]
        fanout = Fanout("test-send")
        for server, _, _ in pairs:
            fanout.add(server)
        encoder = OpusEncoder()
        tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(960) / SAMPLE_RATE)).astype(np.int16)
        pts = 0

        async def run_ticks(n: int) -> None:
            nonlocal pts
            for _ in range(n):
                for packet in encoder.encode(tone):
                    fanout.send(bytes(packet), pts)
                pts += 960
                await asyncio.sleep(0.02)

        try:
            await wait_until(lambda: all(s.connectionState == "connected" for s, _, _ in pairs))
            await run_ticks(25)
            assert fanout.ready_count == 3
            assert all(len(got) > 10 for _, _, got in pairs)
            await pairs[0][0].close()  # the server side goes, the fan-out is not told
            before = [len(got) for _, _, got in pairs]
            await run_ticks(25)
            assert fanout.ready_count == 2
            after = [len(got) for _, _, got in pairs]
            assert after[0] == before[0]
            assert all(a - b >= 20 for a, b in zip(after[1:], before[1:], strict=True)), (
                before,
                after,
            )
        finally:
            fanout.close()
            for server, client, _ in pairs:
                await server.close()
                await client.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_packets_leave_from_the_send_thread_on_either_event_loop(loop: str) -> None:
    """uvicorn runs uvloop when installed; its UDP transport must not keep sends on the loop."""

    async def scenario() -> None:
        from townhall.media.opus import OpusEncoder

        server, client, got = await _pair()
        fanout = Fanout(f"test-{loop}")
        fanout.add(server)
        encoder = OpusEncoder()
        pts = 0
        try:
            await wait_until(lambda: server.connectionState == "connected")
            for _ in range(25):
                for packet in encoder.encode(np.zeros(960, dtype=np.int16)):
                    fanout.send(bytes(packet), pts)
                pts += 960
                await asyncio.sleep(0.02)
            assert [listener.sock is not None for listener in fanout._ready] == [True]
            assert len(got) > 10
        finally:
            fanout.close()
            await server.close()
            await client.close()

    if loop == "uvloop":
        uvloop.run(scenario())
    else:
        asyncio.run(scenario())


def test_listeners_get_sender_reports_every_few_seconds_not_every_second() -> None:
    """RTCP SRs come from the fan-out loop (4-6 s apart), and count what was really sent."""
    from aiortc.rtp import RtcpSrPacket

    from townhall.media.opus import OpusEncoder

    async def scenario() -> None:
        server, client, got = await _pair()
        reports: list[RtcpSrPacket] = []
        receiver = client.getTransceivers()[0].receiver
        handle = receiver._handle_rtcp_packet

        async def spy(packet: object) -> None:
            if isinstance(packet, RtcpSrPacket):
                reports.append(packet)
            await handle(packet)  # type: ignore[arg-type]

        receiver._handle_rtcp_packet = spy  # type: ignore[method-assign]
        fanout = Fanout("test-sr")
        fanout.add(server)
        encoder = OpusEncoder()
        pts = 0
        try:
            await wait_until(lambda: server.connectionState == "connected")
            for _ in range(150):  # 3 s
                for packet in encoder.encode(np.zeros(960, dtype=np.int16)):
                    fanout.send(bytes(packet), pts)
                pts += 960
                await asyncio.sleep(0.02)
            assert len(reports) == 1, "one right away, the next 4-6 s later"
            info = reports[0].sender_info
            assert 1 <= info.packet_count <= len(got) + 5
            stats = await client.getStats()
            assert any(s.type == "remote-outbound-rtp" for s in stats.values())
        finally:
            fanout.close()
            await server.close()
            await client.close()

    asyncio.run(scenario())
