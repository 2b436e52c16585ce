"""Where the captions' word error comes from: the 20 sentences of bench/captions.py decoded
offline by the same model, directly and through the captions' own cutting, with and
without the context and margins the live captions use.

    .venv/bin/python bench/captions_offline.py                 # all ways, int8 (~3 min)
    .venv/bin/python bench/captions_offline.py --compute-type float32 --ways direct

Ways (each a corpus WER over the 20 sentences, and decode seconds per second of voiced
or file audio, one CPU thread, no other work in this process):

- direct: each espeak-ng file (sox to 16 kHz) decoded alone, as `Transcriber.final` does.
- direct+context: the same, with the last CONTEXT_FINALS texts as the prompt.
- long-form: the 20 files one after another with 1 s pauses, decoded as one recording
  (faster-whisper's own long-form transcription, conditioned on the previous text).
- endpointed: the stream bench/captions.py plays (48 kHz, 1.5 s pauses), through the
  captions' `Downsampler` and `Segmenter`; each final's voiced audio alone.
- endpointed+margins: the same with the Segmenter's margins (`Utterance.padded`).
- endpointed+margins+context: what the live captions decode.
"""

import argparse
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from tests.media.transcripts import word_error_rate

from bench.captions import SENTENCES, VOICES, speech_of
from townhall.captions.audio import OUTPUT_RATE_HZ, Downsampler, Samples
from townhall.captions.captioner import CONTEXT_FINALS
from townhall.captions.engine import FINAL_BEAM_SIZE
from townhall.captions.segmenter import Segmenter, Utterance
from townhall.config import packaged_captions_model

WAYS = (
    "direct",
    "direct+context",
    "long-form",
    "endpointed",
    "endpointed+margins",
    "endpointed+margins+context",
)


def espeak_16k(folder: Path, n: int, text: str) -> Samples:
    raw, out = folder / f"s{n}-raw.wav", folder / f"s{n}-16k.wav"
    voice = VOICES[n % len(VOICES)]
    subprocess.run(
        ["espeak-ng", *(["-v", voice] if voice else []), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["sox", str(raw), "-r", str(OUTPUT_RATE_HZ), "-c", "1", "-b", "16", str(out)],
        check=True,
        capture_output=True,
    )
    with wave.open(str(out), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)


def endpointed(folder: Path) -> list[Utterance]:
    samples_48k, _spans = speech_of(folder, list(enumerate(SENTENCES)))
    pcm = Downsampler().push(samples_48k)
    segmenter = Segmenter()
    out: list[Utterance] = []
    for first in range(0, len(pcm), 320):
        out += segmenter.push(pcm[first : first + 320])
    return [u for u in out + segmenter.flush() if u.final]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--compute-type", default="int8", help="int8, int8_float32, float32")
    parser.add_argument("--ways", nargs="+", default=list(WAYS), choices=WAYS)
    parser.add_argument("--show", action="store_true", help="every sentence's text")
    args = parser.parse_args()
    from faster_whisper import WhisperModel

    model = WhisperModel(
        str(packaged_captions_model()), device="cpu", compute_type=args.compute_type, cpu_threads=1
    )

    def decode(samples: Samples, prompt: str = "", long_form: bool = False) -> str:
        segments, _ = model.transcribe(
            samples.astype(np.float32) / 32768.0,
            beam_size=FINAL_BEAM_SIZE,
            condition_on_previous_text=long_form,
            initial_prompt=prompt or None,
            without_timestamps=not long_form,
            vad_filter=False,
        )
        return " ".join(" ".join(s.text for s in segments).split())

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        files = [espeak_16k(folder, n, text) for n, text in enumerate(SENTENCES)]
        utterances = endpointed(folder)
        print(f"model {packaged_captions_model()}, {args.compute_type}, beam {FINAL_BEAM_SIZE}")
        print("| way | corpus WER | decode s per audio s |\n|---|---|---|")
        for way in args.ways:
            started = time.perf_counter()
            heard: list[str] = []
            if way == "long-form":
                pause = np.zeros(OUTPUT_RATE_HZ, np.int16)
                stream = np.concatenate([part for f in files for part in (f, pause)])
                heard = [decode(stream, long_form=True)]
                audio_s = sum(len(f) for f in files) / OUTPUT_RATE_HZ
            elif way.startswith("direct"):
                for samples in files:
                    context = " ".join(heard[-CONTEXT_FINALS:]) if "context" in way else ""
                    heard.append(decode(samples, context))
                audio_s = sum(len(f) for f in files) / OUTPUT_RATE_HZ
            else:
                for utterance in utterances:
                    context = " ".join(heard[-CONTEXT_FINALS:]) if "context" in way else ""
                    audio = utterance.padded if "margins" in way else utterance.samples
                    heard.append(decode(audio, context))
                audio_s = sum(u.duration_s for u in utterances)
            rtf = (time.perf_counter() - started) / audio_s
            wer = word_error_rate(" ".join(SENTENCES), " ".join(heard))
            print(f"| {way} | {wer:.3f} | {rtf:.3f} |", flush=True)
            if args.show:
                for text in heard:
                    print(f"    {text}")


if __name__ == "__main__":
    main()
