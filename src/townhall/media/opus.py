"""Opus encoding of 20 ms mono frames with PyAV (libopus), and the conversions around it."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np

from townhall.media.mixer import FRAME_SAMPLES, SAMPLE_RATE_HZ, Pcm

TIME_BASE = Fraction(1, SAMPLE_RATE_HZ)
MIX_BITRATE_BPS = 32_000


def pcm_to_frame(pcm: Pcm, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = SAMPLE_RATE_HZ
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


class OpusEncoder:
    """Encodes the mix once; the same packets then go to every listener unchanged."""

    def __init__(self, bitrate_bps: int = MIX_BITRATE_BPS) -> None:
        codec = av.CodecContext.create("libopus", "w")
        assert isinstance(codec, av.AudioCodecContext)
        codec.sample_rate = SAMPLE_RATE_HZ
        codec.layout = "mono"
        codec.format = "s16"
        codec.bit_rate = bitrate_bps
        codec.time_base = TIME_BASE
        codec.options = {"application": "voip", "frame_duration": "20"}
        self._codec = codec
        self._pts = 0
        self._first_pts: int | None = None

    def encode(self, pcm: Pcm) -> list[av.Packet[Any]]:
        packets = self._codec.encode(pcm_to_frame(pcm, self._pts))
        self._pts += FRAME_SAMPLES
        for packet in packets:
            # libopus starts before zero (its look-ahead); RTP time just needs to count on.
            if self._first_pts is None:
                self._first_pts = packet.pts or 0
            packet.pts = (packet.pts or 0) - self._first_pts
            packet.time_base = TIME_BASE
        return packets


class MonoResampler:
    """Turns decoded frames of any layout or size into 20 ms mono s16 frames at 48 kHz."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE_HZ)
        self._pending = np.zeros(0, dtype=np.int16)

    def push(self, frame: av.AudioFrame) -> list[Pcm]:
        chunks = [self._pending]
        for resampled in self._resampler.resample(frame):
            chunks.append(resampled.to_ndarray().reshape(-1).astype(np.int16, copy=False))
        samples = np.concatenate(chunks)
        whole = len(samples) // FRAME_SAMPLES
        frames = [samples[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES].copy() for i in range(whole)]
        self._pending = samples[whole * FRAME_SAMPLES :]
        return frames
