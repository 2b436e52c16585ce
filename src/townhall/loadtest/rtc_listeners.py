"""WebRTC listeners (real ICE + DTLS + SRTP with aiortc) counting RTP; probes also decode.

Every listener replaces aiortc's receive path (jitter buffer, decoder, frame queue) by a
counter of RTP sequence numbers: loss is the gaps over the measured window, and the *rate
gap* the shortfall from 50 packets a second (a sender that skips a tick leaves no gap).
The first `probes` listeners also decode every packet and timestamp the speaker's clicks
at packet arrival, for mouth-to-ear latency.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import RtpPacket

from townhall.loadtest.clicks import SAMPLE_RATE_HZ, ClickDetector
from townhall.loadtest.http import Client, HttpError
from townhall.loadtest.plan import Account

PACKETS_PER_S = 50
"""Opus at a 20 ms packetization time."""
OFFER_TIMEOUT_S = 30.0
SEQUENCE_WRAP = 1 << 16


class Ear:
    """What one listener received, updated from its RTP hook."""

    __slots__ = ("count", "decoder", "detector", "error", "first_at", "last_seq", "onsets", "top")

    def __init__(self, probe: bool) -> None:
        self.count = 0
        self.first_at: float | None = None
        self.last_seq: int | None = None
        self.top = -1
        """Highest extended (wrap-counted) sequence number so far."""
        self.onsets: list[float] = []
        self.error: str | None = None
        self.decoder: av.AudioCodecContext | None = None
        self.detector: ClickDetector | None = None
        if probe:
            codec = av.CodecContext.create("libopus", "r")
            assert isinstance(codec, av.AudioCodecContext)
            codec.format = "s16"
            codec.layout = "mono"
            codec.sample_rate = SAMPLE_RATE_HZ
            self.decoder = codec
            self.detector = ClickDetector()

    def on_packet(self, packet: RtpPacket, now: float) -> None:
        seq = packet.sequence_number
        self.count += 1
        if self.last_seq is None:
            self.first_at = now
            self.top = seq
        else:
            # Extend relative to the highest seen, so reordering near a wrap counts right.
            delta = (seq - self.top) % SEQUENCE_WRAP
            if delta < SEQUENCE_WRAP // 2:
                self.top += delta
        self.last_seq = seq
        if self.decoder is not None and self.detector is not None and packet.payload:
            try:
                for frame in self.decoder.decode(av.Packet(packet.payload)):
                    samples = frame.to_ndarray().reshape(-1).astype(np.float32) / 32768.0
                    for offset in self.detector.feed(samples):
                        self.onsets.append(now + offset / SAMPLE_RATE_HZ)
            except Exception as exc:  # keep counting even if decoding breaks
                self.error = repr(exc)[:100]


def _hook(receiver: RTCRtpReceiver, ear: Ear) -> None:
    async def handle(packet: RtpPacket, arrival_time_ms: int | None = None) -> None:
        ear.on_packet(packet, time.monotonic())

    setattr(receiver, "_handle_rtp_packet", handle)  # noqa: B010 (aiortc's private method)


class RtcListeners:
    def __init__(
        self, base_url: str, space_id: str, accounts: Sequence[Account], probes: int
    ) -> None:
        self.space_id = space_id
        self.accounts = accounts
        self.ears = [Ear(probe=i < probes) for i in range(len(accounts))]
        self.started: list[float] = [0.0] * len(accounts)
        self.pcs: list[RTCPeerConnection] = []
        self.errors: Counter[str] = Counter()
        self._window: list[tuple[int, int]] = []
        self._window_start = 0.0
        self._window_end = 0.0
        self._window_closed: list[tuple[int, int]] = []

    @property
    def with_media(self) -> int:
        return sum(1 for ear in self.ears if ear.first_at is not None)

    async def join_all(self, http: Client, rate_per_s: float) -> None:
        start = time.monotonic()
        tasks = []
        for i in range(len(self.accounts)):
            await asyncio.sleep(max(0.0, start + i / rate_per_s - time.monotonic()))
            tasks.append(asyncio.create_task(self._join(http, i)))
        await asyncio.gather(*tasks)

    async def _join(self, http: Client, i: int) -> None:
        account, ear = self.accounts[i], self.ears[i]
        self.started[i] = time.monotonic()
        try:
            joined = await http.request(
                "POST", f"/api/v1/spaces/{self.space_id}/join", token=account.token
            )
            if joined.status != 200:
                self.errors[f"join: HTTP {joined.status}"] += 1
                return
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            self.pcs.append(pc)

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                for transceiver in pc.getTransceivers():
                    if transceiver.receiver.track is track:
                        _hook(transceiver.receiver, ear)

            pc.addTransceiver("audio", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
            answer = await http.request(
                "POST",
                f"/api/v1/spaces/{self.space_id}/rtc/listen",
                json_body=offer,
                token=account.token,
            )
            if answer.status != 200:
                self.errors[f"listen: HTTP {answer.status} {answer.text[:60]}"] += 1
                return
            body = answer.json()
            await pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
        except (HttpError, TimeoutError, OSError, ValueError, KeyError) as exc:
            self.errors[f"listen: {type(exc).__name__}: {str(exc)[:60]}"] += 1

    def join_ms(self) -> list[float]:
        return [
            (ear.first_at - started) * 1000
            for ear, started in zip(self.ears, self.started, strict=True)
            if ear.first_at is not None
        ]

    def open_window(self) -> None:
        self._window_start = time.monotonic()
        self._window = [(ear.count, ear.top) for ear in self.ears]

    def close_window(self) -> None:
        self._window_end = time.monotonic()
        self._window_closed = [(ear.count, ear.top) for ear in self.ears]

    async def close_all(self) -> None:
        await asyncio.gather(*(pc.close() for pc in self.pcs), return_exceptions=True)

    def result(self) -> dict[str, Any]:
        window_s = max(self._window_end - self._window_start, 1e-9)
        received = expected = 0
        measured = 0
        for (count0, top0), (count1, top1), ear in zip(
            self._window, self._window_closed, self.ears, strict=True
        ):
            if ear.first_at is None or top0 < 0:
                continue
            measured += 1
            received += count1 - count0
            expected += top1 - top0
        return {
            "listeners": len(self.accounts),
            "with_media": self.with_media,
            "probes": sum(1 for ear in self.ears if ear.decoder is not None),
            "measured": measured,
            "join_ms": self.join_ms(),
            "errors": dict(self.errors),
            "decode_errors": sum(1 for ear in self.ears if ear.error),
            "window_s": window_s,
            "packets_received": received,
            "packets_expected": expected,
            "packets_at_full_rate": round(measured * PACKETS_PER_S * window_s),
            "onsets": [
                t
                for ear in self.ears
                for t in ear.onsets
                if self._window_start <= t <= self._window_end
            ],
        }
