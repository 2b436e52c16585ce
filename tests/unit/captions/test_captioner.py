"""A captioner turns one speaker's real speech into interim captions, then a final one,
decoded by a real Whisper model in the worker pool."""

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from tests.media.speech import make_speech, read_wav
from tests.media.transcripts import word_error_rate
from townhall.captions.audio import Downsampler
from townhall.captions.captioner import Caption, Captioner, SpaceCaptions
from townhall.captions.engine import ModelUnavailable, check_model_dir
from townhall.captions.pool import CaptionPool
from townhall.config import packaged_captions_model

SENTENCE = "Good morning everyone. Welcome to the town hall. Today we talk about gardens."
FRAME = 960


@pytest.fixture(scope="module")
def pool() -> Iterator[CaptionPool]:
    pool = CaptionPool(check_model_dir(packaged_captions_model()), workers=1)
    asyncio.run(pool.warm_up())
    assert pool.ready, pool.failure
    yield pool
    pool.close()


async def speak(captioner: Captioner, samples: np.ndarray) -> None:
    """Pushes 20 ms frames in real time, as a speaker's track delivers them."""
    started = time.monotonic()
    for n, start in enumerate(range(0, len(samples), FRAME)):
        chunk = samples[start : start + FRAME]
        captioner.push(np.pad(chunk, (0, FRAME - len(chunk))))
        await asyncio.sleep(max(0.0, started + (n + 1) * 0.02 - time.monotonic()))


def test_a_speaker_gets_interim_captions_then_a_final_one_with_their_words(
    pool: CaptionPool, tmp_path: Path
) -> None:
    speech = read_wav(make_speech(tmp_path, SENTENCE))
    audio = np.concatenate([np.zeros(48_000, np.int16), speech, np.zeros(96_000, np.int16)])
    captions: list[tuple[float, Caption]] = []

    async def scenario() -> float:
        origin = time.time()
        captioner = Captioner(7, pool, lambda c: captions.append((time.monotonic(), c)), origin)
        await speak(captioner, audio)
        speech_end = time.monotonic() - 2.0
        await captioner.close()
        return speech_end

    speech_end = asyncio.run(scenario())
    interims = [c for _, c in captions if not c.final]
    finals = [(at, c) for at, c in captions if c.final]
    assert len(finals) == 1, captions
    final_at, final = finals[0]
    assert final.user_id == 7
    assert word_error_rate(SENTENCE, final.text) < 0.3, final.text
    # At least one interim a second while talking (the speech is about 5 s long), and all
    # of them before the final.
    assert len(interims) >= 3, interims
    assert captions[-1][1] is final
    # The utterance started about 1 s into the Space; every caption of it says so.
    assert all(abs(c.offset_ms - final.offset_ms) < 50 for _, c in captions)
    assert 700 < final.offset_ms < 1500, final.offset_ms
    assert final.duration_ms == pytest.approx(len(speech) / 48, abs=700)
    # The final arrives soon after the speaker pauses: about 0.7-1.5 s here, with room for
    # a 2-core machine that other work keeps busy.
    assert final_at - speech_end < 5.0


def test_silence_and_noise_below_speech_make_no_captions(pool: CaptionPool) -> None:
    captions: list[Caption] = []
    rng = np.random.default_rng(1)
    hum = (rng.normal(0, 30, 48_000 * 3)).astype(np.int16)

    async def scenario() -> None:
        captioner = Captioner(1, pool, captions.append, time.time())
        await speak(captioner, hum)
        await captioner.close()

    asyncio.run(scenario())
    assert captions == []


def test_noise_as_loud_as_speech_makes_no_captions(pool: CaptionPool, tmp_path: Path) -> None:
    """The endpointer takes loud noise for speech; Whisper must not make words of it."""
    speech = read_wav(make_speech(tmp_path, "Welcome to the garden club."))
    speech_rms = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
    rng = np.random.default_rng(2)
    noise = np.clip(rng.normal(0, speech_rms, 48_000 * 4), -32768, 32767).astype(np.int16)
    captions: list[Caption] = []

    async def scenario() -> None:
        captioner = Captioner(1, pool, captions.append, time.time())
        await speak(captioner, noise)
        await captioner.close()

    asyncio.run(scenario())
    assert captions == []


def test_a_missing_model_directory_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="does not exist"):
        check_model_dir(tmp_path / "nowhere")
    with pytest.raises(ModelUnavailable, match=r"missing model\.bin"):
        (tmp_path / "config.json").write_text("{}")
        check_model_dir(tmp_path)
    with pytest.raises(ModelUnavailable, match="TOWNHALL_CAPTIONS_MODEL"):
        check_model_dir(None)


def test_a_broken_model_turns_captions_off_and_nothing_raises(tmp_path: Path) -> None:
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "model.bin").write_bytes(b"not a model")
    broken = CaptionPool(check_model_dir(tmp_path), workers=1)
    try:
        asyncio.run(broken.warm_up())
        assert not broken.available
        assert "cannot load the model" in (broken.failure or "")
        assert broken.try_interim(np.zeros(16_000, np.int16)) is None
    finally:
        broken.close()


def test_a_worker_that_dies_is_replaced_and_captions_go_on(tmp_path: Path) -> None:
    speech = Downsampler().push(read_wav(make_speech(tmp_path, "the garden is green and quiet")))
    pool = CaptionPool(check_model_dir(packaged_captions_model()), workers=1)
    try:
        asyncio.run(pool.warm_up())
        executor = pool._executor
        assert executor is not None
        for process in list(executor._processes.values()):
            assert process.pid is not None
            os.kill(process.pid, signal.SIGKILL)
            process.join()

        async def decode_twice() -> str:
            with contextlib.suppress(BrokenProcessPool):
                await pool.final(speech)  # the decode that met the dead worker is lost
            return await pool.final(speech)

        assert word_error_rate("the garden is green and quiet", asyncio.run(decode_twice())) < 0.3
        assert pool.available
    finally:
        pool.close()


def test_a_muted_speaker_is_not_captioned_and_muting_makes_what_was_said_final(
    pool: CaptionPool, tmp_path: Path
) -> None:
    first = read_wav(make_speech(tmp_path, "Welcome to the garden club.", "first"))
    second = read_wav(make_speech(tmp_path, "Nobody hears this secret.", "second"))
    muted: set[int] = set()
    captions: list[Caption] = []

    async def scenario() -> None:
        room = SpaceCaptions(pool, captions.append, lambda user_id: user_id in muted)
        room.configure(True, time.time())
        started = time.monotonic()
        audio = np.concatenate([np.zeros(24_000, np.int16), first, second])
        for n, start in enumerate(range(0, len(audio), FRAME)):
            if start >= 24_000 + len(first):
                muted.add(3)  # muted right as the first sentence ends, without a pause
            chunk = audio[start : start + FRAME]
            room.push(3, np.pad(chunk, (0, FRAME - len(chunk))))
            await asyncio.sleep(max(0.0, started + (n + 1) * 0.02 - time.monotonic()))
        await room.close()

    asyncio.run(scenario())
    finals = [c for c in captions if c.final]
    assert len(finals) == 1, captions
    assert word_error_rate("Welcome to the garden club.", finals[0].text) < 0.3, finals
    assert not any("secret" in c.text.lower() for c in captions)


class ContextRecordingPool(CaptionPool):
    """Answers finals without a model, noting the context each was given."""

    def __init__(self) -> None:
        super().__init__(Path("no-model"))
        self.contexts: list[str] = []

    def try_interim(self, samples: np.ndarray) -> "asyncio.Future[str] | None":
        return None

    async def final(self, samples: np.ndarray, context: str = "") -> str:
        self.contexts.append(context)
        return f"Sentence {len(self.contexts)}."


def test_a_final_is_decoded_with_the_speakers_last_finals_as_context(tmp_path: Path) -> None:
    """Whisper guesses at the first words of a short utterance decoded alone; what the
    speaker said just before is the context its long-form transcription would have had."""
    speech = read_wav(make_speech(tmp_path, "Testing one two three."))
    pause = np.zeros(48_000, np.int16)
    audio = np.concatenate([pause, *(np.concatenate([speech, pause]) for _ in range(4))])
    pool = ContextRecordingPool()

    async def scenario() -> None:
        captioner = Captioner(7, pool, lambda c: None, time.time())
        for start in range(0, len(audio), FRAME):
            captioner.push(audio[start : start + FRAME])
            await asyncio.sleep(0)
        await captioner.close()

    asyncio.run(scenario())
    assert pool.contexts == [
        "",
        "Sentence 1.",
        "Sentence 1. Sentence 2.",
        "Sentence 2. Sentence 3.",
    ]
