"""Speech fixtures made with espeak-ng and sox, as 48 kHz mono 16-bit WAV files."""

import subprocess
import wave
from pathlib import Path

import numpy as np

from tests.media.peers import SAMPLE_RATE


def make_speech(directory: Path, text: str, name: str = "speech", voice: str | None = None) -> Path:
    """`voice` is an espeak-ng voice name (`en-gb-x-rp`, `en-us`); None is its default."""
    raw = directory / f"{name}-raw.wav"
    out = directory / f"{name}.wav"
    voice_args = ["-v", voice] if voice else []
    subprocess.run(
        ["espeak-ng", *voice_args, "-w", str(raw), text], check=True, capture_output=True
    )
    subprocess.run(
        ["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == SAMPLE_RATE and wav.getnchannels() == 1
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
