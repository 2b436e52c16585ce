"""Live captions on this machine's CPU: word error rate, caption latency, and how many
people talking at once it captions in real time.

    .venv/bin/python bench/captions.py                      # the whole report (~4 min)
    .venv/bin/python bench/captions.py --skip-speakers      # accuracy only
    .venv/bin/python bench/captions.py --skip-accuracy --speakers 1 2
    .venv/bin/python bench/captions.py --help

Everything goes in real time, in 20 ms frames, into the parts the server uses: a
`LiveRoom` (its mixer clock ticking every 20 ms) whose `SpaceCaptions` feed one
captioner per speaker and one shared `CaptionPool` (TOWNHALL_CAPTIONS_WORKERS processes,
half the cores by default, one CPU thread each, the packaged Whisper tiny.en model unless
`--model`).

1. Accuracy: the 20 fixed SENTENCES, said by one speaker with a pause after each, the
   espeak-ng voices of VOICES taking turns (sentence 1 default, 2 en-gb-x-rp, ...), once
   clean and once with white noise over the whole stream (pauses too) at `--snr-db`
   (10 dB by default; numpy, fixed seed). Per condition: word error rate (corpus: the
   edit distance of all finals against all sentences, over the reference words, so words
   made up in the pauses count; and the mean of the per-sentence rates), latency from the
   end of each sentence's audio to its last final caption (p50 / p99 / max), and the
   sentences that got no final caption.
2. Simultaneous speakers: 1, 2, 3, 4 (then 6, 8 while it keeps up) speakers, each saying three
   of the sentences with 1.5 s pauses (talking about 60% of the time), starting 0.3 s
   apart so they overlap. "Captions N speakers in real time" means every sentence got a
   final caption within REAL_TIME_S of the end of its audio (none missing), so no backlog
   builds up.
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
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import numpy.typing as npt
from tests.media.speech import make_speech, read_wav
from tests.media.transcripts import word_error_rate, words

from bench.harness import load_average, log, machine_info
from townhall.captions.captioner import CONTEXT_FINALS, Caption, SpaceCaptions
from townhall.captions.engine import FINAL_BEAM_SIZE, check_model_dir
from townhall.captions.pool import CaptionPool
from townhall.captions.segmenter import POST_ROLL_S, PRE_ROLL_S
from townhall.config import default_caption_workers, packaged_captions_model
from townhall.media.mixer import FRAME_SAMPLES, SAMPLE_RATE_HZ
from townhall.media.room import LiveRoom

SENTENCES = (
    "Welcome to the garden club.",
    "Tomatoes need sun and water every morning.",
    "Next week we will plant beans along the fence.",
    "The weather is warm today.",
    "We will walk to the park after lunch.",
    "Bring a hat and something to drink.",
    "Please remember the meeting on Friday evening.",
    "The library opens at nine in the morning.",
    "Everyone is welcome to join the reading group.",
    "The new bus line starts in the spring.",
    "It will stop near the school and the market.",
    "Tickets cost the same as before.",
    "My sister bought a red bicycle last summer.",
    "Dinner is ready when the bell rings.",
    "Could you close the window before you leave?",
    "The coffee shop on the corner sells fresh bread.",
    "We talked about the budget for almost an hour.",
    "Our team won the game on Saturday afternoon.",
    "Turn left at the bridge and follow the river.",
    "Thank you all for coming to the town hall tonight.",
)
"""Fixed: change it and results stop comparing with earlier runs (bench/results)."""
VOICES = (None, "en-gb-x-rp")
"""espeak-ng voices taking turns sentence by sentence (None is espeak-ng's default, en)."""
PAUSE_S = 1.5
LEAD_S = 0.5
STAGGER_S = 0.3
SENTENCES_PER_SPEAKER = 3
REAL_TIME_S = 2.0
"""The issue's target: a final caption within 2 s of the end of each utterance."""
NOISE_SEED = 20261126

Samples = npt.NDArray[np.int16]
Span = tuple[int, int, str]


@dataclass
class Sentence:
    text: str
    start_wall: float = 0.0
    end_wall: float = 0.0


@dataclass
class Said:
    """What the captions made of one speaker's sentences."""

    sentences: list[Sentence]
    finals: list[tuple[float, Caption]]
    latencies: list[float]
    heard: list[str]
    """Per sentence, the text of the final captions that start within it."""
    interims: int


@dataclass
class AccuracyResult:
    condition: str
    snr_db: float | None
    sentences: int
    reference_words: int
    wer_corpus: float
    wer_mean: float
    latency_p50_s: float
    latency_p99_s: float
    latency_max_s: float
    sentences_without_final: int
    finals: int
    worst: list[tuple[str, str, float]]
    per_sentence: list[tuple[str, str, float]]
    """Every sentence: (reference, final captions, WER), in the order said."""
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


@dataclass
class RunResult:
    speakers: int
    workers: int
    speech_s: float
    latency_p50_s: float
    latency_p99_s: float
    latency_max_s: float
    sentences_without_final: int
    real_time: bool
    rtf: float
    interims_per_speaker_s: float
    interims_dropped: int
    finals: int
    wer_corpus: float
    mixer_ticks: int
    mixer_late_ticks: int
    mixer_skipped_ticks: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def speech_of(folder: Path, texts: list[tuple[int, str]]) -> tuple[Samples, list[Span]]:
    """One speaker's samples and, per sentence, (first sample, end sample, text); the
    voice of sentence n is VOICES[n % len(VOICES)], n its place in SENTENCES."""
    parts = [np.zeros(int(LEAD_S * SAMPLE_RATE_HZ), np.int16)]
    spans = []
    at = len(parts[0])
    pause = int(PAUSE_S * SAMPLE_RATE_HZ)
    for n, text in texts:
        samples = read_wav(make_speech(folder, text, f"s{n}", VOICES[n % len(VOICES)]))
        spans.append((at, at + len(samples), text))
        parts += [samples, np.zeros(pause, np.int16)]
        at += len(samples) + pause
    return np.concatenate(parts), spans


def with_noise(samples: Samples, spans: list[Span], snr_db: float) -> Samples:
    """White noise over the whole stream, `snr_db` below the speech's power (measured
    over the sentences, pauses left out)."""
    speech = np.concatenate([samples[a:b] for a, b, _ in spans]).astype(np.float64)
    noise_rms = float(np.sqrt(np.mean(speech**2) / 10 ** (snr_db / 10)))
    noise = np.random.default_rng(NOISE_SEED).normal(0.0, noise_rms, len(samples))
    return np.clip(np.rint(samples + noise), -32768, 32767).astype(np.int16)


async def speak(
    room: LiveRoom, user_id: int, samples: Samples, spans: list[Span]
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


async def live(
    pool: CaptionPool, voices: list[tuple[Samples, list[Span]]]
) -> tuple[list[Said], LiveRoom]:
    """Speaker n+1 says voices[n], starting STAGGER_S after speaker n; the room's captions
    are collected with the time each arrived."""
    captions: list[tuple[float, Caption]] = []
    room = LiveRoom(0, lambda user_id, level: None)
    origin = time.time()
    room.captions = SpaceCaptions(
        pool, lambda c: captions.append((time.time(), c)), room.mixer.is_muted
    )
    room.captions.configure(True, origin)
    for user_id in range(1, len(voices) + 1):
        room.mixer.add_speaker(user_id)
    room.start()

    async def staggered(user_id: int) -> list[Sentence]:
        await asyncio.sleep((user_id - 1) * STAGGER_S)
        samples, spans = voices[user_id - 1]
        return await speak(room, user_id, samples, spans)

    said = await asyncio.gather(*(staggered(u) for u in range(1, len(voices) + 1)))
    await room.close()  # flushes the captioners and waits for their last finals
    out = []
    for user_id, sentences in enumerate(said, start=1):
        finals = [(at, c) for at, c in captions if c.final and c.user_id == user_id]
        latencies, heard = [], []
        for sentence in sentences:
            inside = [
                (at, c)
                for at, c in finals
                if sentence.start_wall - 0.5 <= origin + c.offset_ms / 1000 <= sentence.end_wall
            ]
            heard.append(" ".join(c.text for _, c in inside))
            if inside:
                latencies.append(max(at for at, _ in inside) - sentence.end_wall)
        interims = sum(1 for _, c in captions if not c.final and c.user_id == user_id)
        out.append(Said(sentences, finals, latencies, heard, interims))
    return out, room


def percentile(values: list[float], q: float) -> float:
    """Nearest rank; -1 when there is nothing to rank."""
    if not values:
        return -1.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(np.ceil(q * len(ordered))) - 1)], 2)


def corpus_wer(said: list[Said]) -> float:
    """All finals, in order, against all sentences: made-up words count as insertions."""
    reference = " ".join(s.text for one in said for s in one.sentences)
    heard = " ".join(c.text for one in said for _, c in one.finals)
    return round(word_error_rate(reference, heard), 3)


async def accuracy(pool: CaptionPool, folder: Path, snr_db: float | None) -> AccuracyResult:
    samples, spans = speech_of(folder, list(enumerate(SENTENCES)))
    if snr_db is not None:
        samples = with_noise(samples, spans, snr_db)
    load_before = load_average()
    (said,), _room = await live(pool, [(samples, spans)])
    load_after = load_average()
    rates = [word_error_rate(s.text, h) for s, h in zip(said.sentences, said.heard, strict=True)]
    worst = sorted(
        zip(SENTENCES, said.heard, rates, strict=True), key=lambda row: row[2], reverse=True
    )
    return AccuracyResult(
        condition="clean" if snr_db is None else f"white noise, SNR {snr_db:g} dB",
        snr_db=snr_db,
        sentences=len(SENTENCES),
        reference_words=sum(len(words(s)) for s in SENTENCES),
        wer_corpus=corpus_wer([said]),
        wer_mean=round(statistics.mean(rates), 3),
        latency_p50_s=percentile(said.latencies, 0.5),
        latency_p99_s=percentile(said.latencies, 0.99),
        latency_max_s=percentile(said.latencies, 1.0),
        sentences_without_final=len(SENTENCES) - len(said.latencies),
        finals=len(said.finals),
        worst=[(s, h, round(r, 2)) for s, h, r in worst[:4] if r > 0],
        per_sentence=[
            (s, h, round(r, 2)) for s, h, r in zip(SENTENCES, said.heard, rates, strict=True)
        ],
        load_before=load_before,
        load_after=load_after,
    )


async def simultaneous(pool: CaptionPool, speakers: int, folder: Path) -> RunResult:
    voices = []
    for i in range(speakers):
        first = (i * SENTENCES_PER_SPEAKER) % len(SENTENCES)
        picked = [
            (n % len(SENTENCES), SENTENCES[n % len(SENTENCES)])
            for n in range(first, first + SENTENCES_PER_SPEAKER)
        ]
        voices.append(speech_of(folder, picked))
    load_before = load_average()
    dropped_before = pool.stats.interim_dropped
    decode_before, audio_before = pool.stats.final_decode_s, pool.stats.final_audio_s
    said, room = await live(pool, voices)
    load_after = load_average()
    latencies = [x for one in said for x in one.latencies]
    missing = sum(len(one.sentences) - len(one.latencies) for one in said)
    speech_s = sum(len(samples) / SAMPLE_RATE_HZ for samples, _ in voices)
    finals = sum(len(one.finals) for one in said)
    return RunResult(
        speakers=speakers,
        workers=pool.workers,
        speech_s=round(speech_s, 1),
        latency_p50_s=percentile(latencies, 0.5),
        latency_p99_s=percentile(latencies, 0.99),
        latency_max_s=percentile(latencies, 1.0),
        sentences_without_final=missing,
        real_time=missing == 0 and max(latencies, default=0.0) <= REAL_TIME_S,
        rtf=round(
            (pool.stats.final_decode_s - decode_before)
            / max(1e-9, pool.stats.final_audio_s - audio_before),
            3,
        ),
        interims_per_speaker_s=round(sum(one.interims for one in said) / speech_s, 2),
        interims_dropped=pool.stats.interim_dropped - dropped_before,
        finals=finals,
        wer_corpus=corpus_wer(said),
        mixer_ticks=room.ticks,
        mixer_late_ticks=room.late_ticks,
        mixer_skipped_ticks=room.skipped_ticks,
        load_before=load_before,
        load_after=load_after,
    )


def load_cell(before: tuple[float, float, float], after: tuple[float, float, float]) -> str:
    return f"{before[0]:.2f} -> {after[0]:.2f}"


def report(
    accuracy_results: list[AccuracyResult],
    results: list[RunResult],
    header: dict[str, str],
) -> str:
    lines = [
        "# Live captions: word error rate, latency, simultaneous speakers",
        "",
        *(f"- {key}: {value}" for key, value in header.items()),
        "",
    ]
    if accuracy_results:
        lines += [
            f"## Accuracy and latency: the {len(SENTENCES)} fixed sentences, one speaker",
            "",
            "Voices alternate sentence by sentence: "
            + ", ".join(v or "espeak-ng default (en)" for v in VOICES)
            + f"; {PAUSE_S} s pause after each sentence; noise is white, over the whole "
            f"stream, seed {NOISE_SEED}.",
            "",
            "| condition | WER corpus | WER mean per sentence | latency p50 / p99 / max (s) |"
            " sentences without final | finals | load 1-min before -> after |",
            "|---|---|---|---|---|---|---|",
        ]
        for a in accuracy_results:
            lines.append(
                f"| {a.condition} | {a.wer_corpus} | {a.wer_mean} | {a.latency_p50_s} / "
                f"{a.latency_p99_s} / {a.latency_max_s} | {a.sentences_without_final} | "
                f"{a.finals} | {load_cell(a.load_before, a.load_after)} |"
            )
        lines += ["", "Worst sentences (reference -> final captions, WER):", ""]
        for a in accuracy_results:
            for reference, heard, rate in a.worst:
                lines.append(f'- {a.condition}: "{reference}" -> "{heard}" ({rate})')
        lines.append("")
    if results:
        keeps_up = [r.speakers for r in results if r.real_time]
        most = max(keeps_up, default=0)
        lines += [
            "## Simultaneous speakers",
            "",
            f"Each speaker says {SENTENCES_PER_SPEAKER} of the sentences, {PAUSE_S} s pauses, "
            f"starting {STAGGER_S} s apart. Real time = every sentence has a final caption "
            f"within {REAL_TIME_S} s of the end of its audio.",
            "",
            "| speakers | workers | latency p50 / p99 / max (s) | sentences without final |"
            " real time | RTF (final decode CPU s / audio s) | interims per speaker-s |"
            " interims dropped | finals | WER corpus | mixer ticks / late / skipped |"
            " load 1-min before -> after |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in results:
            lines.append(
                f"| {r.speakers} | {r.workers} | {r.latency_p50_s} / {r.latency_p99_s} / "
                f"{r.latency_max_s} | {r.sentences_without_final} | "
                f"{'yes' if r.real_time else 'no'} | {r.rtf} | {r.interims_per_speaker_s} | "
                f"{r.interims_dropped} | {r.finals} | {r.wer_corpus} | "
                f"{r.mixer_ticks} / {r.mixer_late_ticks} / {r.mixer_skipped_ticks} | "
                f"{load_cell(r.load_before, r.load_after)} |"
            )
        lines += [
            "",
            f"**Verdict: this machine captions {most} speakers in real time** "
            f"(with {results[0].workers} worker(s); the most speakers tried that kept every "
            f"final within {REAL_TIME_S} s).",
            "",
        ]
    lines += [
        "Latency is from the end of a sentence's audio to its last final caption: the",
        "endpointer's 0.3 s window, waiting for a free worker, and the decode. p99 of 20",
        "sentences is their maximum. Interims per speaker-second counts the interim captions",
        "delivered over the summed stream time of all speakers (pauses included).",
        "",
    ]
    return "\n".join(lines)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join((__doc__ or "").split("\n\n")[1:]),
    )
    parser.add_argument(
        "--speakers",
        type=int,
        nargs="+",
        default=[1, 2, 3, 4],
        help="simultaneous speakers to try (default 1 2 3 4; then two more at a time, "
        "from 4 and up to --most, while it keeps up)",
    )
    parser.add_argument("--most", type=int, default=8, help="most speakers to try (8)")
    parser.add_argument(
        "--workers",
        type=int,
        default=default_caption_workers(),
        help="caption worker processes (default: TOWNHALL_CAPTIONS_WORKERS' default, "
        f"half the cores: {default_caption_workers()})",
    )
    parser.add_argument("--snr-db", type=float, default=10.0, help="noisy condition's SNR")
    parser.add_argument("--skip-accuracy", action="store_true", help="no 20-sentence part")
    parser.add_argument("--skip-speakers", action="store_true", help="no speakers part")
    parser.add_argument("--model", type=Path, default=packaged_captions_model())
    parser.add_argument("--output", type=Path, default=Path("bench/results/captions.md"))
    args = parser.parse_args()
    command = " ".join([".venv/bin/python bench/captions.py", shlex.join(sys.argv[1:])]).strip()
    uptime_before = uptime()
    model = check_model_dir(args.model)
    pool = CaptionPool(model, workers=args.workers)
    started = datetime.now(UTC)

    async def all_runs() -> tuple[list[AccuracyResult], list[RunResult]]:
        await pool.warm_up()
        if not pool.ready:
            raise SystemExit(f"captions unavailable: {pool.failure}")
        accuracy_results: list[AccuracyResult] = []
        results: list[RunResult] = []
        with tempfile.TemporaryDirectory() as folder:
            if not args.skip_accuracy:
                for snr_db in (None, args.snr_db):
                    log(f"accuracy, {'clean' if snr_db is None else f'SNR {snr_db} dB'}...")
                    accuracy_result = await accuracy(pool, Path(folder), snr_db)
                    log(json.dumps(asdict(accuracy_result)))
                    accuracy_results.append(accuracy_result)
            if not args.skip_speakers:
                counts = list(args.speakers)
                while counts:
                    speakers = counts.pop(0)
                    log(f"{speakers} speaker(s) at once, {pool.workers} worker(s)...")
                    result = await simultaneous(pool, speakers, Path(folder))
                    log(json.dumps(asdict(result)))
                    results.append(result)
                    more = speakers + 2
                    if result.real_time and not counts and speakers >= 4 and more <= args.most:
                        counts.append(more)  # it kept up: try two more people
        return accuracy_results, results

    try:
        accuracy_results, results = asyncio.run(all_runs())
    finally:
        pool.close()
    header: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "command": f"`{command}`",
        "model": f"`{model}` (faster-whisper, int8, beam {FINAL_BEAM_SIZE} for finals, "
        f"1 CPU thread per worker, {pool.workers} worker(s))",
        "decoding": f"finals with the speaker's last {CONTEXT_FINALS} finals as context; "
        f"up to {PRE_ROLL_S} s of audio before the Endpointer's cut and {POST_ROLL_S} s after",
        "machine": json.dumps(machine_info()),
        "`uptime` before": uptime_before,
        "`uptime` after": uptime(),
        "shared machine": "the lead's test run used the same 2 cores: latencies are those "
        "of a busy machine (load averages per run in the tables)",
    }
    text = report(accuracy_results, results, header)
    args.output.write_text(text)
    args.output.with_suffix(".json").write_text(
        json.dumps(
            {
                **header,
                "sentences": SENTENCES,
                "voices": VOICES,
                "accuracy": [asdict(a) for a in accuracy_results],
                "speakers": [asdict(r) for r in results],
            },
            indent=2,
        )
        + "\n"
    )
    print(text)


if __name__ == "__main__":
    main()
