"""Real aiortc peers for the media tests: a speaker sending a tone, a listener measuring it."""

import asyncio
import fractions
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import httpx
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

SAMPLE_RATE = 48_000
FRAME = 960


class ToneTrack(MediaStreamTrack):
    """A microphone that plays a steady tone, in real time."""

    kind = "audio"

    def __init__(self, frequency_hz: float = 440.0, amplitude: int = 8000) -> None:
        super().__init__()
        self._frequency_hz = frequency_hz
        self._amplitude = amplitude
        self._pts = 0
        self._start: float | None = None
        self.start_wall: float | None = None
        """Wall-clock time (Unix seconds) of the first sample sent: when each part is said."""

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
            self.start_wall = time.time()
        due = self._start + self._pts / SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        t = (self._pts + np.arange(FRAME)) / SAMPLE_RATE
        samples = (self._amplitude * np.sin(2 * np.pi * self._frequency_hz * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += FRAME
        return frame


@dataclass
class Ear:
    """What a peer heard: (monotonic time, RMS) per received frame."""

    levels: list[tuple[float, float]] = field(default_factory=list)

    def rms_between(self, start: float, end: float) -> float:
        values = [rms for at, rms in self.levels if start <= at < end]
        return float(np.mean(values)) if values else 0.0

    def heard_since(self, start: float, threshold: float = 300.0) -> bool:
        return any(rms > threshold for at, rms in self.levels if at >= start)


async def _listen_to(track: MediaStreamTrack, ear: Ear) -> None:
    try:
        while True:
            frame = await track.recv()
            samples = frame.to_ndarray().astype(np.float64)  # type: ignore[union-attr]
            ear.levels.append((time.monotonic(), float(np.sqrt(np.mean(samples**2)))))
    except MediaStreamError:
        return


@dataclass
class Peer:
    pc: RTCPeerConnection
    ear: Ear
    session_id: str
    tasks: list["asyncio.Task[None]"]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.pc.close()


async def connect(
    base_url: str, token: str, space_id: str, route: str, send: MediaStreamTrack | None
) -> Peer:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    ear = Ear()
    tasks: list[asyncio.Task[None]] = []

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        tasks.append(asyncio.ensure_future(_listen_to(track, ear)))

    if send is not None:
        pc.addTrack(send)
    else:
        pc.addTransceiver("audio", direction="recvonly")
    try:
        await pc.setLocalDescription(await pc.createOffer())
        async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
            response = await client.post(
                f"/api/v1/spaces/{space_id}/rtc/{route}",
                json={"sdp": pc.localDescription.sdp, "type": "offer"},
                headers={"Authorization": f"Bearer {token}"},
            )
        response.raise_for_status()
        body = response.json()
        await pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
    except BaseException:
        await pc.close()
        raise
    return Peer(pc, ear, body["session_id"], tasks)


class WavTrack(MediaStreamTrack):
    """A microphone that plays a WAV file in real time, then silence."""

    kind = "audio"

    def __init__(self, samples: "np.ndarray") -> None:
        super().__init__()
        self._samples = samples.astype(np.int16)
        self._pts = 0
        self._start: float | None = None
        self.start_wall: float | None = None
        """Wall-clock time (Unix seconds) of the first sample sent: when each part is said."""

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
            self.start_wall = time.time()
        due = self._start + self._pts / SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        chunk = self._samples[self._pts : self._pts + FRAME]
        if len(chunk) < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), dtype=np.int16)])
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += FRAME
        return frame


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)
