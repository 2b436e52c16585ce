"""Cuts one speaker's 16 kHz audio into utterances: voiced audio only, interim snapshots.

Whisper invents words when it is fed silence or noise, so only what pocketsphinx's
Endpointer calls speech goes to it. An utterance ends when the speaker pauses (the
Endpointer's 0.3 s window) or reaches `max_utterance_s`, so one long talk still gets
final captions as it goes and never feeds Whisper more than its 30 s window.

The Endpointer's cut is tight: it can start a few milliseconds into the first word and
ends about 0.1 s before the last one does (a "T" burst lost turns "Tickets cost" into
"Take it to the customer"). What goes to the decode is the utterance with up to
`PRE_ROLL_S` of the audio before it and `POST_ROLL_S` after, taken from audio already
received: the margins add no delay; a margin before stops where the previous
utterance ended, and one after stops at the audio received so far (the Endpointer ends
an utterance only after a 0.3 s pause, so it is mostly that pause).
"""

from dataclasses import dataclass, field

import numpy as np
from pocketsphinx import Endpointer

from townhall.captions.audio import OUTPUT_RATE_HZ, Samples

MAX_UTTERANCE_S = 15.0
INTERIM_EVERY_S = 0.8
"""Audio time between interim snapshots: at least one interim caption a second while
someone talks, with room for the decode."""
MIN_INTERIM_S = 0.6
"""Shorter snapshots decode to noise words ("you", "the"): not worth a worker."""
PRE_ROLL_S = 0.3
POST_ROLL_S = 0.3
"""Measured offline on bench/captions.py's 20 sentences, endpointed as live, tiny.en: corpus
WER 0.174 without margins, 0.123 with 0.3 s each side (0.097 -> 0.071-0.084 with the
speaker's earlier finals as context)."""
HISTORY_S = 2.0
"""Audio kept to take margins from: the Endpointer reports a start or an end within its
0.3 s window (plus a frame) of it."""


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
    before: Samples = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    """Audio just before the voiced part (see PRE_ROLL_S); only for the decode."""
    after: Samples = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    """Audio just after it, finals only (see POST_ROLL_S)."""

    @property
    def duration_s(self) -> float:
        """Of the voiced part, which is what the caption's timing covers."""
        return len(self.samples) / OUTPUT_RATE_HZ

    @property
    def padded(self) -> Samples:
        """What to decode: the voiced audio and its margins."""
        return np.concatenate([self.before, self.samples, self.after])


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
        self._history = np.zeros(0, dtype=np.int16)
        """The last HISTORY_S of audio pushed; it ends at `pushed_samples`."""
        self._history_samples = int(HISTORY_S * OUTPUT_RATE_HZ)
        self._before = np.zeros(0, dtype=np.int16)
        self._spoken_until = 0
        """Stream sample where the last utterance's voiced audio ended: margins stop there."""

    @property
    def in_speech(self) -> bool:
        return bool(self._voiced)

    def push(self, pcm_16k: Samples) -> list[Utterance]:
        """Takes any amount of audio; gives back the interim snapshots and finals it made."""
        self.pushed_samples += len(pcm_16k)
        self._pending = np.concatenate([self._pending, pcm_16k])
        self._history = np.concatenate([self._history, pcm_16k])[-self._history_samples :]
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
                start = round(self._start_s * OUTPUT_RATE_HZ)
                first = max(start - round(PRE_ROLL_S * OUTPUT_RATE_HZ), self._spoken_until)
                self._before = self._recent(first, start)
            self._add(np.frombuffer(speech, dtype=np.int16), out)
            if not self._endpointer.in_speech:
                self._finish(out, post_roll=True)
        return out

    def flush(self) -> list[Utterance]:
        """The speaker's stream ended (they left, were muted): what was said so far is final."""
        out: list[Utterance] = []
        if self._endpointer.in_speech:
            rest = self._endpointer.end_stream(self._pending.tobytes())
            if rest:
                self._add(np.frombuffer(rest, dtype=np.int16), out, snapshot=False)
        self._finish(out, post_roll=True)
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
            out.append(
                Utterance(
                    self._number, self._joined(), self._start_s, final=False, before=self._before
                )
            )

    def _finish(self, out: list[Utterance], post_roll: bool = False) -> None:
        """`post_roll`: the speaker paused; an utterance cut at `max_utterance_s` has none,
        the next one goes on from where it ends."""
        if self._voiced:
            end = round(self._start_s * OUTPUT_RATE_HZ) + self._voiced_samples
            after = self._recent(end, end + round(POST_ROLL_S * OUTPUT_RATE_HZ) * post_roll)
            out.append(
                Utterance(
                    self._number,
                    self._joined(),
                    self._start_s,
                    final=True,
                    before=self._before,
                    after=after,
                )
            )
            self._number += 1
            self._spoken_until = end
        self._voiced = []
        self._voiced_samples = 0
        self._last_interim_samples = 0
        self._before = np.zeros(0, dtype=np.int16)

    def _recent(self, first: int, end: int) -> Samples:
        """Stream samples [first, end) that are still in the history (maybe fewer, or none)."""
        history_first = self.pushed_samples - len(self._history)
        first, end = max(first, history_first), min(end, self.pushed_samples)
        if end <= first:
            return np.zeros(0, dtype=np.int16)
        return self._history[first - history_first : end - history_first].copy()

    def _joined(self) -> Samples:
        return np.concatenate(self._voiced)
