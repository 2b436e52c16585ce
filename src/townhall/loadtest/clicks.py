"""The speaker's test signal (a quiet hum with a 1 kHz click every 2 s) and the click detector.

Mouth-to-ear latency is a listener's click onset minus the moment the speaker handed that
click to its encoder; both are `time.monotonic()` (CLOCK_MONOTONIC is system-wide on
Linux, so worker processes compare with the speaker's process). Same signal shape and
detector as bench/audio/common.py, without the speech.
"""

import asyncio
import bisect
import fractions
import time
from collections.abc import Callable

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamTrack

SAMPLE_RATE_HZ = 48_000
FRAME_SAMPLES = 960
"""20 ms at 48 kHz."""
CLICK_PERIOD_S = 2.0
CLICK_HZ = 1000.0
CLICK_LEN_S = 0.030
CLICK_AMPLITUDE = 0.7
HUM_HZ = 220.0
HUM_AMPLITUDE = 0.05
"""Keeps the speaker audibly talking between clicks; far below the detector's threshold."""
GATE_S = 0.15
"""Silence either side of a click, so its onset is unambiguous."""
DETECT_THRESHOLD = 0.35
"""On the 1 kHz envelope, full scale 1.0."""
MAX_CLICK_DELAY_S = 1.9
"""An onset later than this after the last click is not that click's (clicks are 2 s apart)."""

Floats = npt.NDArray[np.float32]


def make_signal(period_s: float = CLICK_PERIOD_S) -> tuple[npt.NDArray[np.int16], int]:
    """One period of the signal as int16 samples, and the click's offset in it."""
    n = int(period_s * SAMPLE_RATE_HZ)
    t = np.arange(n) / SAMPLE_RATE_HZ
    x = (HUM_AMPLITUDE * np.sin(2 * np.pi * HUM_HZ * t)).astype(np.float32)
    click_at = n // 2
    gate = int(GATE_S * SAMPLE_RATE_HZ)
    x[click_at - gate : click_at + gate] = 0.0
    n_click = int(CLICK_LEN_S * SAMPLE_RATE_HZ)
    idx = np.arange(n_click)
    ramp = np.minimum(1.0, np.minimum(idx, n_click - 1 - idx) / 24.0)
    x[click_at : click_at + n_click] = (
        CLICK_AMPLITUDE * np.sin(2 * np.pi * CLICK_HZ * idx / SAMPLE_RATE_HZ) * ramp
    )
    return np.clip(x * 32767, -32768, 32767).astype(np.int16), click_at


class ClickTrack(MediaStreamTrack):
    """An aiortc audio track looping the signal in real time; calls on_click(mouth_time)."""

    kind = "audio"

    def __init__(self, on_click: Callable[[float], None]) -> None:
        super().__init__()
        self._on_click = on_click
        self._pcm, self._click_at = make_signal()
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / SAMPLE_RATE_HZ - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        length = len(self._pcm)
        pos = self._pts % length
        chunk = np.take(self._pcm, np.arange(pos, pos + FRAME_SAMPLES), mode="wrap")
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE_HZ
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE_HZ)
        offset = (self._click_at - pos) % length
        if offset < FRAME_SAMPLES:
            self._on_click(time.monotonic() + offset / SAMPLE_RATE_HZ)
        return frame


class ClickDetector:
    """Streaming 1 kHz onset detector: complex demodulation, 1 ms boxcar, 1 s refractory."""

    WIDTH = 48

    def __init__(self) -> None:
        self.n = 0
        self._tail: npt.NDArray[np.complex128] = np.zeros(0, np.complex128)
        self._last_onset = -(10**9)
        self._kernel = np.full(self.WIDTH, 1.0 / self.WIDTH)

    def feed(self, x: Floats) -> list[int]:
        """Samples in [-1, 1]; returns onset offsets relative to x[0] (may be negative)."""
        idx = self.n + np.arange(len(x))
        z = np.concatenate([self._tail, x * np.exp(-2j * np.pi * CLICK_HZ * idx / SAMPLE_RATE_HZ)])
        envelope = 2 * np.abs(np.convolve(z, self._kernel, mode="valid"))
        base = self.n - len(self._tail)
        onsets: list[int] = []
        for k in np.nonzero(envelope > DETECT_THRESHOLD)[0]:
            at = int(base + k + self.WIDTH - 1 - self.WIDTH // 2)
            if at - self._last_onset > SAMPLE_RATE_HZ:
                self._last_onset = at
                onsets.append(at - self.n)
        self._tail = z[-(self.WIDTH - 1) :]
        self.n += len(x)
        return onsets


def match_latency_ms(onsets: list[float], clicks: list[float]) -> list[float]:
    """Milliseconds from each heard onset back to the click the speaker made just before it."""
    ordered = sorted(clicks)
    out: list[float] = []
    for onset in onsets:
        i = bisect.bisect_right(ordered, onset) - 1
        if i >= 0 and onset - ordered[i] < MAX_CLICK_DELAY_S:
            out.append((onset - ordered[i]) * 1000.0)
    return out
