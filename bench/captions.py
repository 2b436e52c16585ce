"""Live captions on this machine's CPU: real-time factor and caption latency, 1-4 speakers.

    .venv/bin/python bench/captions.py                      # 1, 2 and 4 speakers
    .venv/bin/python bench/captions.py --speakers 1 2 --workers 2
    .venv/bin/python bench/captions.py --help

For each number of speakers, every speaker's espeak-ng speech (three sentences with
1.5 s pauses, a different text each) goes in real time, in 20 ms frames, into the same
parts the server uses: a `LiveRoom` (its mixer clock ticking every 20 ms) whose
`SpaceCaptions` feed one captioner per speaker and one shared `CaptionPool`
(`--workers` processes, one CPU thread each, the packaged Whisper tiny.en model unless
`--model`). Speakers start 0.3 s apart, so they overlap.

Measured:
- latency: from the end of a sentence's audio to the last final caption that starts
  within it (what a listener waits after the speaker pauses);
- real-time factor: CPU seconds of final decodes per second of audio decoded (one thread);
- interim captions sent per speaker per second of speech, and dropped;
- word error rate of the finals against the text espeak-ng was given;
- the mixer's late and skipped ticks (captions must not disturb audio).
"""

import argparse
import asyncio
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from tests.media.speech import make_speech, read_wav
from tests.media.transcripts import word_error_rate

from bench.harness import load_average, log, machine_info
from townhall.captions.captioner import Caption, SpaceCaptions
from townhall.captions.engine import check_model_dir
from townhall.captions.pool import CaptionPool
from townhall.config import packaged_captions_model
from townhall.media.mixer import FRAME_SAMPLES, SAMPLE_RATE_HZ
from townhall.media.room import LiveRoom

TEXTS = (
    (
        "Welcome to the garden club.",
        "Tomatoes need sun and water every morning.",
        "Next week we will plant beans along the fence.",
    ),
    (
        "The weather is warm today.",
        "We will walk to the park after lunch.",
        "Bring a hat and something to drink.",
    ),
    (
        "Please remember the meeting on Friday evening.",
        "The library opens at nine in the morning.",
        "Everyone is welcome to join the reading group.",
    ),
    (
        "The new bus line starts in the spring.",
        "It will stop near the school and the market.",
        "Tickets cost the same as before.",
    ),
)
PAUSE_S = 1.5
LEAD_S = 0.5
STAGGER_S = 0.3


@dataclass
class Sentence:
    text: str
    start_wall: float = 0.0
    end_wall: float = 0.0


@dataclass
class RunResult:
    speakers: int
    workers: int
    speech_s: float
    latency_p50_s: float
    latency_p90_s: float
    latency_max_s: float
    sentences_without_final: int
    rtf: float
    interims_per_speaker_s: float
    interims_dropped: int
    finals: int
    wer: float
    mixer_ticks: int
    mixer_late_ticks: int
    mixer_skipped_ticks: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def speech_of(folder: Path, index: int) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """Samples of one speaker and, per sentence, (first sample, end sample, text)."""
    parts = [np.zeros(int(LEAD_S * SAMPLE_RATE_HZ), np.int16)]
    spans = []
    at = len(parts[0])
    for n, text in enumerate(TEXTS[index % len(TEXTS)]):
        samples = read_wav(make_speech(folder, text, f"s{index}-{n}"))
        spans.append((at, at + len(samples), text))
        parts += [samples, np.zeros(int(PAUSE_S * SAMPLE_RATE_HZ), np.int16)]
        at += len(samples) + int(PAUSE_S * SAMPLE_RATE_HZ)
    return np.concatenate(parts), spans


async def speak(
    room: LiveRoom, user_id: int, samples: np.ndarray, spans: list[tuple[int, int, str]]
) -> list[Sentence]:
    """20 ms frames in real time, as ingest hands them over; notes when each sentence ends."""
    sentences = [Sentence(text) for _, _, text in spans]
    started = time.monotonic()
    for n, first in enumerate(range(0, len(samples), FRAME_SAMPLES)):
        frame = samples[first : first + FRAME_SAMPLES]
        frame = np.pad(frame, (0, FRAME_SAMPLES - len(frame)))
        room.mixer.push(user_id, frame)
        room.caption_tap(user_id, frame)
        now = time.time()
        for sentence, (begin, end, _) in zip(sentences, spans, strict=True):
            if first <= begin < first + FRAME_SAMPLES:
                sentence.start_wall = now
            if first < end <= first + FRAME_SAMPLES:
                sentence.end_wall = now
        await asyncio.sleep(max(0.0, started + (n + 1) * 0.02 - time.monotonic()))
    return sentences


async def run(pool: CaptionPool, speakers: int, folder: Path) -> RunResult:
    voices = [speech_of(folder, i) for i in range(speakers)]
    captions: list[tuple[float, Caption]] = []
    load_before = load_average()
    dropped_before = pool.stats.interim_dropped
    decode_before, audio_before = pool.stats.final_decode_s, pool.stats.final_audio_s
    room = LiveRoom(0, lambda user_id, level: None)
    origin = time.time()
    room.captions = SpaceCaptions(
        pool, lambda c: captions.append((time.time(), c)), room.mixer.is_muted
    )
    room.captions.configure(True, origin)
    for user_id in range(1, speakers + 1):
        room.mixer.add_speaker(user_id)
    room.start()

    async def staggered(user_id: int) -> list[Sentence]:
        await asyncio.sleep((user_id - 1) * STAGGER_S)
        samples, spans = voices[user_id - 1]
        return await speak(room, user_id, samples, spans)

    said = await asyncio.gather(*(staggered(u) for u in range(1, speakers + 1)))
    await room.close()  # flushes the captioners and waits for their last finals
    load_after = load_average()

    latencies: list[float] = []
    missing = 0
    errors: list[float] = []
    for user_id, sentences in enumerate(said, start=1):
        finals = [(at, c) for at, c in captions if c.final and c.user_id == user_id]
        for sentence in sentences:
            inside = [
                at
                for at, c in finals
                if sentence.start_wall - 0.5 <= origin + c.offset_ms / 1000 <= sentence.end_wall
            ]
            if inside:
                latencies.append(max(inside) - sentence.end_wall)
            else:
                missing += 1
        heard = " ".join(c.text for _, c in finals)
        errors.append(word_error_rate(" ".join(s.text for s in sentences), heard))
    speech_s = sum(len(samples) / SAMPLE_RATE_HZ for samples, _ in voices)
    interims = sum(1 for _, c in captions if not c.final)
    latencies.sort()
    return RunResult(
        speakers=speakers,
        workers=pool.workers,
        speech_s=round(speech_s, 1),
        latency_p50_s=round(statistics.median(latencies), 2) if latencies else -1,
        latency_p90_s=round(latencies[int(0.9 * (len(latencies) - 1))], 2) if latencies else -1,
        latency_max_s=round(max(latencies), 2) if latencies else -1,
        sentences_without_final=missing,
        rtf=round(
            (pool.stats.final_decode_s - decode_before)
            / max(1e-9, pool.stats.final_audio_s - audio_before),
            3,
        ),
        interims_per_speaker_s=round(interims / speech_s, 2),
        interims_dropped=pool.stats.interim_dropped - dropped_before,
        finals=sum(1 for _, c in captions if c.final),
        wer=round(statistics.mean(errors), 3),
        mixer_ticks=room.ticks,
        mixer_late_ticks=room.late_ticks,
        mixer_skipped_ticks=room.skipped_ticks,
        load_before=load_before,
        load_after=load_after,
    )


def report(results: list[RunResult], command: str, uptime: str, model: Path) -> str:
    lines = [
        "# Live captions: real-time factor and latency",
        "",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- command: `{command}`",
        f"- model: `{model}` (faster-whisper, int8, 1 CPU thread per worker)",
        f"- machine: {json.dumps(machine_info())}",
        f"- `uptime` before: {uptime}",
        "- shared machine: other sessions were running tests and builds on the same 2 cores,",
        "  so latencies are those of a busy machine (see the load averages per run)",
        "",
        "| speakers | workers | latency p50 / p90 / max (s) | sentences without final |"
        " RTF (final decode CPU s / audio s) | interims per speaker-s | interims dropped |"
        " finals | WER | mixer ticks / late / skipped | load 1-min before -> after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.speakers} | {r.workers} | {r.latency_p50_s} / {r.latency_p90_s} / "
            f"{r.latency_max_s} | {r.sentences_without_final} | {r.rtf} | "
            f"{r.interims_per_speaker_s} | {r.interims_dropped} | {r.finals} | {r.wer} | "
            f"{r.mixer_ticks} / {r.mixer_late_ticks} / {r.mixer_skipped_ticks} | "
            f"{r.load_before[0]:.2f} -> {r.load_after[0]:.2f} |"
        )
    lines += [
        "",
        "Latency is from the end of a sentence's audio to its last final caption: the",
        "endpointer's 0.3 s window, waiting for a free worker, and the decode. Interims per",
        "speaker-second counts the interim captions delivered, over the summed speech time",
        "of all speakers (pauses included).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speakers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--model", type=Path, default=packaged_captions_model())
    parser.add_argument("--output", type=Path, default=Path("bench/results/captions.md"))
    args = parser.parse_args()
    command = "python bench/captions.py " + shlex.join(sys.argv[1:])
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    model = check_model_dir(args.model)
    pool = CaptionPool(model, workers=args.workers)

    async def all_runs() -> list[RunResult]:
        await pool.warm_up()
        if not pool.ready:
            raise SystemExit(f"captions unavailable: {pool.failure}")
        results = []
        with tempfile.TemporaryDirectory() as folder:
            for speakers in args.speakers:
                log(f"{speakers} speaker(s), {pool.workers} worker(s)...")
                result = await run(pool, speakers, Path(folder))
                log(json.dumps(asdict(result)))
                results.append(result)
        return results

    try:
        results = asyncio.run(all_runs())
    finally:
        pool.close()
    text = report(results, command, uptime, model)
    args.output.write_text(text)
    args.output.with_suffix(".json").write_text(
        json.dumps([asdict(r) for r in results], indent=2) + "\n"
    )
    print(text)


if __name__ == "__main__":
    main()
