"""The segmenter cuts real speech into utterances: voiced audio only, interims, then a final."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.media.speech import make_speech, read_wav
from townhall.captions.audio import OUTPUT_RATE_HZ, Downsampler
from townhall.captions.segmenter import POST_ROLL_S, PRE_ROLL_S, Segmenter, Utterance

SENTENCE = "Good morning everyone. Welcome to the town hall. Today we talk about gardens."


@pytest.fixture(scope="module")
def speech_16k(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    samples_48k = read_wav(make_speech(tmp_path_factory.mktemp("speech"), SENTENCE))
    return Downsampler().push(samples_48k)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * OUTPUT_RATE_HZ), dtype=np.int16)


def feed(segmenter: Segmenter, audio: np.ndarray, chunk: int = 320) -> list[Utterance]:
    """In 20 ms pieces, as a speaker's track delivers them."""
    out: list[Utterance] = []
    for start in range(0, len(audio), chunk):
        out += segmenter.push(audio[start : start + chunk])
    return out


def test_silence_makes_no_utterance() -> None:
    assert feed(Segmenter(), silence(5.0)) == []


def test_speech_between_pauses_is_one_final_utterance_of_voiced_audio_only(
    speech_16k: np.ndarray,
) -> None:
    speech_s = len(speech_16k) / OUTPUT_RATE_HZ
    utterances = feed(Segmenter(), np.concatenate([silence(2.0), speech_16k, silence(2.0)]))
    finals = [u for u in utterances if u.final]
    assert len(finals) == 1
    final = finals[0]
    # Starts near where the speech does (the endpointer's window reaches back 0.3 s)...
    assert 1.4 < final.start_s < 2.3, final.start_s
    # ...and holds the speech, not the seconds of silence around it.
    assert speech_s - 0.6 < final.duration_s < speech_s + 0.8, (final.duration_s, speech_s)


def test_interim_snapshots_come_at_least_once_a_second_while_someone_talks(
    speech_16k: np.ndarray,
) -> None:
    utterances = feed(Segmenter(), np.concatenate([silence(1.0), speech_16k, silence(1.5)]))
    interims = [u for u in utterances if not u.final]
    final = next(u for u in utterances if u.final)
    assert len(interims) >= int(final.duration_s) - 1
    gaps = np.diff([0.0] + [u.duration_s for u in interims] + [final.duration_s])
    assert max(gaps) <= 1.0, gaps
    # Each snapshot is the same utterance, growing; all precede its final.
    assert {u.number for u in interims} == {final.number}
    assert utterances[-1] is final


def test_a_long_talk_is_cut_into_finals_of_at_most_the_limit(speech_16k: np.ndarray) -> None:
    segmenter = Segmenter(max_utterance_s=2.0)
    utterances = feed(segmenter, np.concatenate([silence(1.0), speech_16k, silence(1.5)]))
    finals = [u for u in utterances if u.final]
    assert len(finals) >= 2
    assert all(u.duration_s <= 2.05 for u in finals), [u.duration_s for u in finals]
    # The pieces follow each other in time, numbered in order.
    assert [u.number for u in finals] == list(range(len(finals)))
    for before, after in itertools.pairwise(finals):
        assert after.start_s == pytest.approx(before.start_s + before.duration_s, abs=0.05)

    # Margins go to the decode only where the speaker paused, never across a cut.
    assert len(finals[0].before) == round(PRE_ROLL_S * OUTPUT_RATE_HZ)
    assert all(len(u.after) == 0 for u in finals[:-1])
    assert all(len(u.before) == 0 for u in finals[1:])
    assert 0 < len(finals[-1].after) <= round(POST_ROLL_S * OUTPUT_RATE_HZ)


def test_the_decode_gets_the_audio_around_the_voiced_part_from_the_stream(
    speech_16k: np.ndarray,
) -> None:
    """The Endpointer's cut is tight (the start of a first word, the end of a last one): the
    decode also gets what was said just before and after, already received."""
    stream = np.concatenate([silence(1.0), speech_16k, silence(1.5), speech_16k, silence(1.5)])
    utterances = feed(Segmenter(), stream)
    finals = [u for u in utterances if u.final]
    assert len(finals) == 2
    pre, post = round(PRE_ROLL_S * OUTPUT_RATE_HZ), round(POST_ROLL_S * OUTPUT_RATE_HZ)
    for final in finals:
        start = round(final.start_s * OUTPUT_RATE_HZ)
        end = start + len(final.samples)
        # After: as much as had come in when the pause ended the utterance.
        assert 0.2 * OUTPUT_RATE_HZ < len(final.after) <= post
        assert np.array_equal(final.padded, stream[start - pre : end + len(final.after)])
        # Caption timing stays that of the voiced part.
        assert final.duration_s == len(final.samples) / OUTPUT_RATE_HZ
    # Interim snapshots get the margin before (nothing after has come yet).
    interims = [u for u in utterances if not u.final]
    assert interims and all(len(u.before) == pre and len(u.after) == 0 for u in interims)


def test_flush_makes_what_was_said_so_far_final(speech_16k: np.ndarray) -> None:
    segmenter = Segmenter()
    half = speech_16k[: len(speech_16k) // 2]
    before = feed(segmenter, np.concatenate([silence(1.0), half]))
    assert not any(u.final for u in before)
    flushed = segmenter.flush()
    assert [u.final for u in flushed] == [True]
    assert segmenter.flush() == []


def test_downsampling_keeps_speech_level_and_length(tmp_path: Path) -> None:
    samples_48k = read_wav(make_speech(tmp_path, "testing one two three"))
    downsampler = Downsampler()
    out = np.concatenate(
        [downsampler.push(samples_48k[i : i + 960]) for i in range(0, len(samples_48k), 960)]
    )
    assert abs(len(out) - len(samples_48k) / 3) <= 1
    rms_in = np.sqrt(np.mean(samples_48k.astype(np.float64) ** 2))
    rms_out = np.sqrt(np.mean(out.astype(np.float64) ** 2))
    assert rms_out == pytest.approx(rms_in, rel=0.1)


def test_speech_after_a_flush_is_timed_on_the_same_stream_clock(speech_16k: np.ndarray) -> None:
    """A speaker muted mid-sentence and unmuted later: the next utterance's start is where
    its audio came in the stream, not counted from zero again."""
    segmenter = Segmenter()
    feed(segmenter, np.concatenate([silence(1.0), speech_16k[: len(speech_16k) // 2]]))
    segmenter.flush()
    flushed_at_s = segmenter.pushed_samples / OUTPUT_RATE_HZ
    later = feed(segmenter, np.concatenate([silence(1.0), speech_16k, silence(1.5)]))
    finals = [u for u in later if u.final]
    assert len(finals) == 1
    assert flushed_at_s + 0.5 < finals[0].start_s < flushed_at_s + 1.3, (
        flushed_at_s,
        finals[0].start_s,
    )
