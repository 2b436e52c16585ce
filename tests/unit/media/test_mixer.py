"""The mixer's arithmetic: what listeners and speakers hear from each tick."""

import numpy as np
import pytest

from townhall.media.mixer import (
    FRAME_SAMPLES,
    INT16_MAX,
    MAX_BUFFERED_FRAMES,
    Mixer,
    Pcm,
    SpeakerBuffer,
    level_dbfs,
    silence,
)


def tone(amplitude: int, frequency_hz: float = 440.0) -> Pcm:
    t = np.arange(FRAME_SAMPLES) / 48_000
    return (amplitude * np.sin(2 * np.pi * frequency_hz * t)).astype(np.int16)


def test_listeners_hear_the_sum_of_unmuted_speakers() -> None:
    mixer = Mixer()
    for speaker in (1, 2):
        mixer.add_speaker(speaker)
    a, b = tone(3000, 440), tone(2000, 660)
    mixer.push(1, a)
    mixer.push(2, b)
    result = mixer.tick()
    assert np.array_equal(result.mix, (a.astype(np.int32) + b).astype(np.int16))


def test_a_muted_speaker_is_silent_whatever_they_send() -> None:
    mixer = Mixer()
    mixer.add_speaker(1)
    mixer.add_speaker(2)
    mixer.set_muted(2, True)
    mixer.push(1, tone(3000))
    mixer.push(2, tone(9000, 660))
    result = mixer.tick()
    assert np.array_equal(result.mix, tone(3000))
    assert 2 in result.levels  # meters still move, so a muted speaker sees their own level
    assert 2 not in result.minus


def test_audio_from_someone_not_on_stage_is_dropped() -> None:
    mixer = Mixer()
    mixer.add_speaker(1)
    mixer.push(1, tone(3000))
    mixer.remove_speaker(1)
    mixer.push(1, tone(3000))
    assert not mixer.tick().mix.any()


def test_speakers_hear_everyone_but_themselves() -> None:
    mixer = Mixer()
    for speaker in (1, 2, 3):
        mixer.add_speaker(speaker)
    voices = {1: tone(1000, 300), 2: tone(1500, 500), 3: tone(2000, 700)}
    for speaker, voice in voices.items():
        mixer.push(speaker, voice)
    result = mixer.tick()
    expected_for_1 = voices[2].astype(np.int32) + voices[3]
    assert np.array_equal(result.minus[1], expected_for_1.astype(np.int16))


def test_loud_voices_together_are_limited_not_wrapped() -> None:
    mixer = Mixer()
    for speaker in range(4):
        mixer.add_speaker(speaker)
        mixer.push(speaker, tone(30_000))
    mix = mixer.tick().mix
    peak = int(np.max(np.abs(mix.astype(np.int32))))
    assert peak <= INT16_MAX
    # Wrap-around would flip the sign of the peaks; limiting keeps the waveform's shape.
    assert np.corrcoef(mix.astype(np.float64), tone(30_000).astype(np.float64))[0, 1] > 0.99


def test_the_limiter_recovers_after_a_loud_passage() -> None:
    mixer = Mixer()
    for speaker in (1, 2):
        mixer.add_speaker(speaker)
    for _ in range(3):
        mixer.push(1, tone(30_000))
        mixer.push(2, tone(30_000))
        mixer.tick()
    for _ in range(10):
        mixer.push(1, tone(1000))
        result = mixer.tick()
    assert np.array_equal(result.mix, tone(1000))


def test_buffers_never_hold_more_than_the_bound_so_latency_cannot_build_up() -> None:
    buffer = SpeakerBuffer()
    frames = [np.full(FRAME_SAMPLES, i, dtype=np.int16) for i in range(10)]
    for frame in frames:
        buffer.push(frame)
    assert len(buffer) == MAX_BUFFERED_FRAMES
    assert buffer.dropped_frames == 10 - MAX_BUFFERED_FRAMES
    first = buffer.pop()
    assert first is not None and int(first[0]) == 10 - MAX_BUFFERED_FRAMES


def test_a_speaker_with_nothing_buffered_is_silence_for_that_tick() -> None:
    mixer = Mixer()
    mixer.add_speaker(1)
    result = mixer.tick()
    assert not result.mix.any() and result.levels == {}
    buffer = mixer.buffer(1)
    assert buffer is not None and buffer.missed_ticks == 1


def test_frames_must_be_twenty_milliseconds_of_mono() -> None:
    with pytest.raises(ValueError):
        SpeakerBuffer().push(np.zeros(FRAME_SAMPLES * 2, dtype=np.int16))


def test_levels_are_in_dbfs() -> None:
    assert level_dbfs(silence()) == -100.0
    full_scale_sine = tone(INT16_MAX)
    assert level_dbfs(full_scale_sine) == pytest.approx(-3.01, abs=0.05)
    assert level_dbfs(tone(INT16_MAX // 10)) == pytest.approx(-23.01, abs=0.1)
