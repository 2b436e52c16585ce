"""A bounded pool of decoding processes shared by every captioner on this node.

Each worker process holds its own model and decodes one utterance at a time with one
CPU thread, so `workers` bounds the CPU captions take, and nothing runs on the event
loop but the hand-over. Finals queue for the next free worker and are never dropped;
an interim guess is only started when a worker is idle and no final waits, otherwise
it is dropped (counted in `interim_dropped`): under load, captions lag and thin out.
"""

import asyncio
import logging
import multiprocessing
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from townhall.captions.audio import OUTPUT_RATE_HZ, Samples
from townhall.captions.engine import ModelUnavailable, Transcriber

log = logging.getLogger("townhall.captions")

# The worker process's own model. A process-pool initializer can only leave its result
# in the worker's module state; the server process never sets it.
_worker_model: Transcriber | None = None
_worker_error: str | None = None


def _init_worker(model_dir: str, cpu_threads: int) -> None:
    global _worker_model, _worker_error
    try:
        _worker_model = Transcriber(Path(model_dir), cpu_threads)
    except Exception as exc:
        _worker_error = str(exc)


def _ready() -> str | None:
    return _worker_error


def _decode(kind: str, samples: Samples, context: str = "") -> tuple[str, float]:
    if _worker_model is None:
        raise ModelUnavailable(_worker_error or "the model did not load")
    started = time.perf_counter()
    if kind == "final":
        text = _worker_model.final(samples, context)
    else:
        text = _worker_model.interim(samples)
    return text, time.perf_counter() - started


MAX_RESTARTS = 5
"""Worker pools started anew after a worker died; past that, captions stay off."""


@dataclass
class PoolStats:
    finals: int = 0
    interims: int = 0
    interim_dropped: int = 0
    final_decode_s: float = 0.0
    final_audio_s: float = 0.0
    interim_decode_s: float = 0.0
    most_busy: int = 0
    restarts: int = 0


class CaptionPool:
    def __init__(self, model_dir: Path, workers: int = 1, cpu_threads: int = 1) -> None:
        self.model_dir = model_dir
        self.workers = max(1, workers)
        self._cpu_threads = cpu_threads
        self._executor: ProcessPoolExecutor | None = None
        self._busy = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self.stats = PoolStats()
        self.ready = False
        """The workers have loaded their models (set by `warm_up`)."""
        self.failure: str | None = None
        """Why captions stopped on this node (the model would not load); None while fine."""

    @property
    def available(self) -> bool:
        return self.failure is None

    async def warm_up(self) -> None:
        """Starts the worker processes and loads their models before the first words; a
        model that will not load turns captions off here, with the reason in the log."""
        if self.failure is not None:
            return
        try:
            executor = self._ensure_executor()
            jobs = [asyncio.wrap_future(executor.submit(_ready)) for _ in range(self.workers)]
            errors = await asyncio.gather(*jobs)
        except Exception as exc:
            self._fail(ModelUnavailable(f"the caption workers did not start: {exc}"))
            return
        error = next((e for e in errors if e), None)
        if error is not None:
            self._fail(ModelUnavailable(error))
        else:
            self.ready = True

    def try_interim(self, samples: Samples) -> "asyncio.Future[str] | None":
        if self.failure is not None or self._busy >= self.workers or self._waiting:
            self.stats.interim_dropped += 1
            return None
        self.stats.interims += 1
        return self._start("interim", samples)

    async def final(self, samples: Samples, context: str = "") -> str:
        """Waits its turn behind earlier finals; raises ModelUnavailable if captions broke.
        `context`: the speaker's text just before this utterance (see `Transcriber.final`)."""
        if self.failure is not None:
            raise ModelUnavailable(self.failure)
        if self._busy >= self.workers or self._waiting:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            await turn  # the slot is handed over already counted as busy
            self._busy -= 1
        self.stats.finals += 1
        return await self._start("final", samples, context)

    def _start(self, kind: str, samples: Samples, context: str = "") -> "asyncio.Future[str]":
        self._busy += 1
        self.stats.most_busy = max(self.stats.most_busy, self._busy)
        loop = asyncio.get_running_loop()
        result: asyncio.Future[str] = loop.create_future()
        try:
            job = asyncio.wrap_future(
                self._ensure_executor().submit(_decode, kind, samples, context)
            )
        except Exception as exc:  # the pool broke or was shut down
            self._release()
            result.set_exception(self._fail(exc))
            return result

        def done(job: "asyncio.Future[tuple[str, float]]") -> None:
            self._release()
            if job.cancelled():
                result.cancel()
                return
            error = job.exception()
            if error is not None:
                if not result.done():
                    result.set_exception(self._fail(error))
                return
            text, decode_s = job.result()
            if kind == "final":
                self.stats.final_decode_s += decode_s
                self.stats.final_audio_s += len(samples) / OUTPUT_RATE_HZ
            else:
                self.stats.interim_decode_s += decode_s
            if not result.done():
                result.set_result(text)

        job.add_done_callback(done)
        return result

    def _release(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes on, still counted busy
                return
        self._busy -= 1

    def _fail(self, error: BaseException) -> BaseException:
        if isinstance(error, BrokenProcessPool) and self.stats.restarts < MAX_RESTARTS:
            # A worker died (killed, out of memory): this decode is lost, the next one
            # starts a fresh pool.
            self.stats.restarts += 1
            log.warning("a caption worker died; starting new ones (%s)", error)
            broken, self._executor = self._executor, None
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
            return error
        if isinstance(error, ModelUnavailable | BrokenProcessPool) and self.failure is None:
            self.failure = str(error) or type(error).__name__
            log.error("captions are off on this node: %s", self.failure)
            for turn in self._waiting:
                if not turn.done():
                    turn.set_exception(ModelUnavailable(self.failure))
            self._waiting.clear()
        return error

    def _ensure_executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                # Not fork: the server process has threads (event loop, uvicorn, aiortc).
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(str(self.model_dir), self._cpu_threads),
            )
        return self._executor

    def close(self) -> None:
        """Blocking: waits for the worker processes to exit (call it from a thread)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
