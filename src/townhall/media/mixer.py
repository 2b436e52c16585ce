"""The mixer's arithmetic: bounded per-speaker buffers, summing, limiting, levels.

Pure: no clock, no I/O. The media loop calls `tick()` once per 20 ms frame (more than
once to catch up when the event loop ran late) and hands the results to encoders.
"""

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_RATE_HZ = 48_000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE_HZ * FRAME_MS // 1000
MAX_BUFFERED_FRAMES = 3
"""At most 60 ms waits per speaker; older audio is dropped so latency cannot build up."""
TARGET_BUFFERED_FRAMES = 1
INT16_MAX = 32767
LIMITER_THRESHOLD = 0.9 * INT16_MAX
LIMITER_RELEASE = 0.002
"""How fast the limiter's gain recovers per sample after a loud passage (about 10 ms)."""

Pcm = npt.NDArray[np.int16]


def silence() -> Pcm:
    return np.zeros(FRAME_SAMPLES, dtype=np.int16)


def level_dbfs(frame: Pcm) -> float:
    """RMS level of a frame in dB below full scale; -100 for digital silence."""
    if frame.size == 0:
        return -100.0
    rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64)))))
    if rms < 1.0:
        return -100.0
    return 20.0 * float(np.log10(rms / INT16_MAX))


class SpeakerBuffer:
    """Frames from one speaker, waiting for the next tick.

    Bounded: a sender whose clock runs fast, or a burst after a network stall, must not
    add latency, so past MAX_BUFFERED_FRAMES the oldest frames go. A speaker whose
    buffer ran dry is silent for that tick rather than stretching time.
    """

    def __init__(self) -> None:
        self._frames: deque[Pcm] = deque()
        self.dropped_frames = 0
        self.missed_ticks = 0

    def push(self, frame: Pcm) -> None:
        if frame.shape != (FRAME_SAMPLES,):
            raise ValueError(f"frames are {FRAME_SAMPLES} mono samples, got {frame.shape}")
        self._frames.append(frame)
        while len(self._frames) > MAX_BUFFERED_FRAMES:
            self._frames.popleft()
            self.dropped_frames += 1

    def pop(self) -> Pcm | None:
        if not self._frames:
            self.missed_ticks += 1
            return None
        return self._frames.popleft()

    def __len__(self) -> int:
        return len(self._frames)


class Limiter:
    """Keeps sums of several voices inside int16 without wrap-around or hard clipping."""

    def __init__(self) -> None:
        self.gain = 1.0

    def apply(self, mixed: npt.NDArray[np.int32]) -> Pcm:
        samples = mixed.astype(np.float64)
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        target = 1.0 if peak <= LIMITER_THRESHOLD else LIMITER_THRESHOLD / peak
        if target < self.gain:
            self.gain = target  # attack at once: never let a peak through
            out = samples * self.gain
        else:
            # Release smoothly, sample by sample, towards the target gain.
            steps = np.minimum(target, self.gain + LIMITER_RELEASE * np.arange(1, samples.size + 1))
            out = samples * steps
            self.gain = float(steps[-1]) if steps.size else self.gain
        return np.clip(np.rint(out), -INT16_MAX - 1, INT16_MAX).astype(np.int16)


@dataclass(frozen=True)
class MixResult:
    mix: Pcm
    """Everyone unmuted: what listeners hear."""
    minus: dict[int, Pcm]
    """Per unmuted speaker: the mix without their own voice, for their own ears."""
    levels: dict[int, float]
    """dBFS of each speaker who sent audio this tick (muted ones included, for meters)."""


class Mixer:
    def __init__(self) -> None:
        self._buffers: dict[int, SpeakerBuffer] = {}
        self._muted: set[int] = set()
        self._limiter = Limiter()
        self._minus_limiters: dict[int, Limiter] = {}

    def add_speaker(self, user_id: int) -> None:
        self._buffers.setdefault(user_id, SpeakerBuffer())
        self._minus_limiters.setdefault(user_id, Limiter())

    def remove_speaker(self, user_id: int) -> None:
        self._buffers.pop(user_id, None)
        self._minus_limiters.pop(user_id, None)
        self._muted.discard(user_id)

    def set_muted(self, user_id: int, muted: bool) -> None:
        if muted:
            self._muted.add(user_id)
        else:
            self._muted.discard(user_id)

    def is_muted(self, user_id: int) -> bool:
        return user_id in self._muted

    @property
    def speakers(self) -> list[int]:
        return list(self._buffers)

    def push(self, user_id: int, frame: Pcm) -> None:
        """Audio from a speaker the server no longer lets speak is dropped right here."""
        buffer = self._buffers.get(user_id)
        if buffer is not None:
            buffer.push(frame)

    def buffer(self, user_id: int) -> SpeakerBuffer | None:
        return self._buffers.get(user_id)

    def tick(self) -> MixResult:
        frames: dict[int, Pcm] = {}
        levels: dict[int, float] = {}
        for user_id, buffer in self._buffers.items():
            frame = buffer.pop()
            if frame is None:
                continue
            levels[user_id] = level_dbfs(frame)
            if user_id not in self._muted:
                frames[user_id] = frame
        total = np.zeros(FRAME_SAMPLES, dtype=np.int32)
        for frame in frames.values():
            total += frame
        minus = {
            user_id: self._minus_limiters[user_id].apply(total - frame)
            for user_id, frame in frames.items()
        }
        return MixResult(mix=self._limiter.apply(total), minus=minus, levels=levels)
