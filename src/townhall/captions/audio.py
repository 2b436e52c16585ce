"""48 kHz speaker audio down to the 16 kHz mono int16 that the Endpointer and Whisper take."""

import numpy as np
import numpy.typing as npt

INPUT_RATE_HZ = 48_000
OUTPUT_RATE_HZ = 16_000
FACTOR = INPUT_RATE_HZ // OUTPUT_RATE_HZ
FILTER_TAPS = 47
"""Enough to keep the 8 kHz image of speech (sibilants) from folding back into the band."""

Samples = npt.NDArray[np.int16]


def _low_pass() -> npt.NDArray[np.float64]:
    """Windowed-sinc low-pass at 7.2 kHz (90% of the new Nyquist), unity gain."""
    n = np.arange(FILTER_TAPS) - (FILTER_TAPS - 1) / 2
    cutoff = 0.9 * OUTPUT_RATE_HZ / 2 / INPUT_RATE_HZ
    taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(FILTER_TAPS)
    result: npt.NDArray[np.float64] = taps / taps.sum()
    return result


class Downsampler:
    """Streams frames of any length; keeps the filter's history and the decimation phase."""

    def __init__(self) -> None:
        self._taps = _low_pass()
        self._history = np.zeros(FILTER_TAPS - 1, dtype=np.float64)
        self._phase = 0

    def push(self, pcm_48k: Samples) -> Samples:
        samples = np.concatenate([self._history, pcm_48k.astype(np.float64)])
        filtered = np.convolve(samples, self._taps, mode="valid")
        self._history = samples[-(FILTER_TAPS - 1) :]
        picked = filtered[self._phase :: FACTOR]
        self._phase = (self._phase - len(filtered)) % FACTOR
        return np.clip(np.rint(picked), -32768, 32767).astype(np.int16)
