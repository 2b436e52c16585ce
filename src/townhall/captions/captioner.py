"""One captioner per speaker, and the set of them in one live Space.

A speaker's own track feeds their own captioner, so every caption names who spoke and
two people talking over each other never garble one another's text.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from townhall.captions.audio import OUTPUT_RATE_HZ, Downsampler, Samples
from townhall.captions.pool import CaptionPool
from townhall.captions.segmenter import Segmenter, Utterance

log = logging.getLogger("townhall.captions")

MAX_QUEUED_FINALS = 8
"""Per speaker (2 minutes of speech at most): past it the CPU is hopelessly behind, and
the oldest waiting utterance is dropped rather than letting memory and lag grow."""
CONTEXT_FINALS = 2
"""The speaker's last finals given to the decode of their next utterance as the text said
before it. Whisper decoding each short utterance alone guesses at its first words (0.15-0.18
WER on bench/captions.py's 20 espeak-ng sentences offline); with the speaker's last two
finals it gets 0.08. Few, so that a wrong final stops steering the next ones soon."""


@dataclass(frozen=True)
class Caption:
    user_id: int
    text: str
    final: bool
    offset_ms: int
    """Where the words start, in milliseconds since the Space went live (the replay's clock)."""
    duration_ms: int


CaptionSink = Callable[[Caption], None]


class Captioner:
    """Runs on the event loop: resampling and endpointing cost tens of microseconds per
    20 ms frame; every decode goes to the pool."""

    def __init__(
        self,
        user_id: int,
        pool: CaptionPool,
        sink: CaptionSink,
        origin_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.user_id = user_id
        self._pool = pool
        self._sink = sink
        self._origin_s = origin_s
        """Wall-clock time (Unix seconds) the Space went live: offsets count from it."""
        self._clock = clock
        self._downsampler = Downsampler()
        self._segmenter = Segmenter()
        self._finals: asyncio.Queue[tuple[Utterance, float]] = asyncio.Queue()
        self._finalizing = 0
        """Utterances handed to the final queue and not yet captioned."""
        self._interim_busy = False
        self._next_final_number = 0
        self._context: deque[str] = deque(maxlen=CONTEXT_FINALS)
        """The speaker's last final texts, oldest first."""
        self._starts: dict[int, float] = {}
        """Wall-clock start of each open utterance, fixed when first seen, so its interim
        and final captions carry the same offset whatever the event loop's jitter."""
        self._task = asyncio.create_task(self._run_finals(), name=f"captioner-{user_id}")
        self.interims_sent = 0
        self.finals_sent = 0

    def push(self, pcm_48k: Samples) -> None:
        utterances = self._segmenter.push(self._downsampler.push(pcm_48k))
        self._handle(utterances, self._clock())

    def flush(self) -> None:
        """The speaker stopped sending (muted, left): what they said so far becomes final."""
        self._handle(self._segmenter.flush(), self._clock())

    async def close(self) -> None:
        self.flush()
        # Let the last final through, if the workers can make it soon.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._drain(), timeout=5.0)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _drain(self) -> None:
        await self._finals.join()

    def _handle(self, utterances: list[Utterance], now_s: float) -> None:
        for utterance in utterances:
            # The stream time of the end of the audio pushed so far is `now_s`.
            lag_s = self._segmenter.pushed_samples / OUTPUT_RATE_HZ - utterance.start_s
            start_wall_s = self._starts.setdefault(utterance.number, now_s - lag_s)
            if utterance.final:
                del self._starts[utterance.number]
                if self._finals.qsize() >= MAX_QUEUED_FINALS:
                    dropped, _ = self._finals.get_nowait()
                    self._finals.task_done()
                    self._finalizing -= 1
                    log.warning(
                        "captions of %s: %.1f s of speech not captioned (workers too far behind)",
                        self.user_id,
                        dropped.duration_s,
                    )
                self._finalizing += 1
                self._finals.put_nowait((utterance, start_wall_s))
            else:
                self._interim(utterance, start_wall_s)

    def _interim(self, utterance: Utterance, start_wall_s: float) -> None:
        """Only when no final of this speaker waits (it would be stale) and a worker idles."""
        if self._interim_busy or self._finalizing:
            self._pool.stats.interim_dropped += 1
            return
        job = self._pool.try_interim(utterance.padded)
        if job is None:
            return
        self._interim_busy = True

        def done(job: "asyncio.Future[str]") -> None:
            self._interim_busy = False
            if job.cancelled() or job.exception() is not None:
                return
            text = job.result()
            if text and utterance.number >= self._next_final_number:
                self.interims_sent += 1
                self._emit(utterance, start_wall_s, text, final=False)

        job.add_done_callback(done)

    async def _run_finals(self) -> None:
        while True:
            utterance, start_wall_s = await self._finals.get()
            try:
                text = await self._pool.final(utterance.padded, " ".join(self._context))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.debug("captions of %s: decode failed", self.user_id, exc_info=True)
                text = ""
            finally:
                self._finalizing -= 1
                self._finals.task_done()
            self._next_final_number = utterance.number + 1
            if text:
                self._context.append(text)
                self.finals_sent += 1
                self._emit(utterance, start_wall_s, text, final=True)

    def _emit(self, utterance: Utterance, start_wall_s: float, text: str, final: bool) -> None:
        offset_ms = max(0, round((start_wall_s - self._origin_s) * 1000))
        caption = Caption(self.user_id, text, final, offset_ms, round(utterance.duration_s * 1000))
        try:
            self._sink(caption)
        except Exception:
            log.exception("captions of %s: delivering a caption failed", self.user_id)


class SpaceCaptions:
    """The captioners of one live Space: on while the host has captions on, per speaker,
    and only for audio that is heard (a muted speaker is not captioned)."""

    def __init__(
        self,
        pool: CaptionPool,
        sink: CaptionSink,
        is_muted: Callable[[int], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._sink = sink
        self._is_muted = is_muted
        self._clock = clock
        self._captioners: dict[int, Captioner] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.enabled = False
        self.origin_s: float | None = None

    def configure(self, enabled: bool, origin_s: float | None) -> None:
        self.origin_s = origin_s if origin_s is not None else self.origin_s
        if enabled and not self.enabled and self._pool.available:
            task = asyncio.ensure_future(self._pool.warm_up())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        self.enabled = enabled
        if not enabled:
            for user_id in list(self._captioners):
                self.remove_speaker(user_id)

    def captioner(self, user_id: int) -> Captioner | None:
        return self._captioners.get(user_id)

    def push(self, user_id: int, pcm_48k: Samples) -> None:
        captioner = self._captioners.get(user_id)
        if not self.enabled or self.origin_s is None or not self._pool.available:
            if captioner is not None:
                self.remove_speaker(user_id)
            return
        if self._is_muted(user_id):
            if captioner is not None:
                captioner.flush()
            return
        if captioner is None:
            captioner = Captioner(user_id, self._pool, self._sink, self.origin_s, self._clock)
            self._captioners[user_id] = captioner
        captioner.push(pcm_48k)

    def remove_speaker(self, user_id: int) -> None:
        captioner = self._captioners.pop(user_id, None)
        if captioner is not None:
            task = asyncio.ensure_future(captioner.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        for user_id in list(self._captioners):
            self.remove_speaker(user_id)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
