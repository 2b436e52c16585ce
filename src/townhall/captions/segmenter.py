"""Cuts one speaker's 16 kHz audio into utterances: voiced audio only, interim snapshots.

Whisper invents words when it is fed silence or noise, so only what pocketsphinx's
Endpointer calls speech goes to it. An utterance ends when the speaker pauses (the
Endpointer's 0.3 s window) or reaches `max_utterance_s`, so one long talk still gets
final captions as it goes and never feeds Whisper more than its 30 s window.
"""

from dataclasses import dataclass

import numpy as np
from pocketsphinx import Endpointer

from townhall.captions.audio import OUTPUT_RATE_HZ, Samples

MAX_UTTERANCE_S = 15.0
INTERIM_EVERY_S = 0.8
"""Audio time between interim snapshots: at least one interim caption a second while
someone talks, with room for the decode."""
MIN_INTERIM_S = 0.6
"""Shorter snapshots decode to noise words ("you", "the"): not worth a worker."""


@dataclass(frozen=True)
class Utterance:
    """Voiced audio of one utterance so far (interim) or whole (final)."""

    number: int
    """Counts the speaker's utterances: an interim result for an utterance whose final
    was already sent is stale."""
    samples: Samples
    start_s: float
    """Stream time (seconds of audio pushed) where the speech starts."""
    final: bool

    @property
    def duration_s(self) -> float:
        return len(self.samples) / OUTPUT_RATE_HZ


class Segmenter:
    def __init__(
        self,
        max_utterance_s: float = MAX_UTTERANCE_S,
        interim_every_s: float = INTERIM_EVERY_S,
    ) -> None:
        self._endpointer = Endpointer(sample_rate=OUTPUT_RATE_HZ)
        self._frame_samples = self._endpointer.frame_bytes // 2
        self._endpointer_fed = False
        self._base_s = 0.0
        """Stream time where the current Endpointer started (its clock starts at zero)."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._voiced: list[Samples] = []
        self._voiced_samples = 0
        self._start_s = 0.0
        self._last_interim_samples = 0
        self._number = 0
        self._max_samples = int(max_utterance_s * OUTPUT_RATE_HZ)
        self._interim_samples = int(interim_every_s * OUTPUT_RATE_HZ)
        self.pushed_samples = 0

    @property
    def in_speech(self) -> bool:
        return bool(self._voiced)

    def push(self, pcm_16k: Samples) -> list[Utterance]:
        """Takes any amount of audio; gives back the interim snapshots and finals it made."""
        self.pushed_samples += len(pcm_16k)
        self._pending = np.concatenate([self._pending, pcm_16k])
        out: list[Utterance] = []
        n = self._frame_samples
        while len(self._pending) >= n:
            frame, self._pending = self._pending[:n], self._pending[n:]
            was_in_speech = self._endpointer.in_speech
            self._endpointer_fed = True
            speech = self._endpointer.process(frame.tobytes())
            if speech is None:
                continue
            if not was_in_speech:
                self._start_s = self._base_s + float(self._endpointer.speech_start)
            self._add(np.frombuffer(speech, dtype=np.int16), out)
            if not self._endpointer.in_speech:
                self._finish(out)
        return out

    def flush(self) -> list[Utterance]:
        """The speaker's stream ended (they left, were muted): what was said so far is final."""
        out: list[Utterance] = []
        if self._endpointer.in_speech:
            rest = self._endpointer.end_stream(self._pending.tobytes())
            if rest:
                self._add(np.frombuffer(rest, dtype=np.int16), out, snapshot=False)
        self._finish(out)
        if self._endpointer_fed or len(self._pending):
            # An Endpointer is done after end_stream; audio after a pause in the stream
            # (an unmute) starts a fresh one, whose clock starts here.
            self._endpointer = Endpointer(sample_rate=OUTPUT_RATE_HZ)
            self._endpointer_fed = False
            self._base_s = self.pushed_samples / OUTPUT_RATE_HZ
        self._pending = np.zeros(0, dtype=np.int16)
        return out

    def _add(self, speech: Samples, out: list[Utterance], snapshot: bool = True) -> None:
        self._voiced.append(speech)
        self._voiced_samples += len(speech)
        if self._voiced_samples >= self._max_samples:
            # A long talk without a pause: close this utterance, the next goes on seamlessly.
            next_start_s = self._start_s + self._voiced_samples / OUTPUT_RATE_HZ
            self._finish(out)
            self._start_s = next_start_s
            return
        grown = self._voiced_samples - self._last_interim_samples
        long_enough = self._voiced_samples >= MIN_INTERIM_S * OUTPUT_RATE_HZ
        if snapshot and long_enough and grown >= self._interim_samples:
            self._last_interim_samples = self._voiced_samples
            out.append(Utterance(self._number, self._joined(), self._start_s, final=False))

    def _finish(self, out: list[Utterance]) -> None:
        if self._voiced:
            out.append(Utterance(self._number, self._joined(), self._start_s, final=True))
            self._number += 1
        self._voiced = []
        self._voiced_samples = 0
        self._last_interim_samples = 0

    def _joined(self) -> Samples:
        return np.concatenate(self._voiced)
