"""A recorded Space's files: the live HLS segments, kept, plus one downloadable `.m4a`.

```
 data dir/hls/{space_id}/                      (one prefix per Space: an object store's layout)
   seg{epoch}-{n}.ts      1 s AAC segments, the live ones, never rewritten  ─┐ the recording
   index.m3u8             the open (or last) room's playlist                 │ (recording.m3u8
   epoch-{epoch}.m3u8     playlists of earlier rooms of the same Space       ─┘  joins them)
   part-{epoch}.m4a       fragmented MP4 of the same AAC packets, 1 s fragments, flushed
                          as written: a kill -9 leaves a playable prefix
   recording.m4a          the download, remuxed from the parts when the recording closes
 data dir/clips/{clip_id}.m4a
```
Nothing is encoded twice: the HLS writer's AAC packets go to both the segments and the part.
A room opened again (after an idle spell or a restart) starts a new epoch; the recording
is the epochs one after the other, and `Timeline` maps a wall-clock time to an offset in it
from the segments' program date times.
"""

import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av

log = logging.getLogger("townhall.media")

LIVE_PLAYLIST = "index.m3u8"
RECORDING_PLAYLIST = "recording.m3u8"
DOWNLOAD_NAME = "recording.m4a"
ENDLIST = "#EXT-X-ENDLIST"
AAC_FRAME_SAMPLES = 1024
SAMPLE_RATE_HZ = 48_000
PART_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",
    # Each fragment reaches the disk when it is complete, not when a 32 KiB buffer fills.
    "flush_packets": "1",
}
EPOCH_PLAYLIST = re.compile(r"epoch-(\d+)\.m3u8")
SEGMENT = re.compile(r"seg(\d+)-\d+\.ts")


def part_name(epoch: int) -> str:
    return f"part-{epoch}.m4a"


@dataclass(frozen=True)
class Segment:
    name: str
    duration_s: float
    offset_s: float
    """Where it starts in the whole recording."""


@dataclass(frozen=True)
class Epoch:
    """One room's stretch of the recording."""

    number: int
    started_at: datetime | None
    offset_s: float
    duration_s: float
    ended: bool


@dataclass(frozen=True)
class Timeline:
    epochs: list[Epoch]
    segments: list[Segment]

    @property
    def duration_s(self) -> float:
        return sum(epoch.duration_s for epoch in self.epochs)

    @property
    def ended(self) -> bool:
        return all(epoch.ended for epoch in self.epochs)

    def offset_ms_at(self, at: datetime) -> int | None:
        """Where a moment lies in the recording; None when nothing was recorded then."""
        chosen: Epoch | None = None
        for epoch in self.epochs:
            if epoch.started_at is not None and epoch.started_at <= at:
                chosen = epoch
        if chosen is None or chosen.started_at is None:
            return None
        into_s = (at - chosen.started_at).total_seconds()
        if into_s > chosen.duration_s + 1.0:
            return None  # between rooms: nothing was recording
        return round((chosen.offset_s + min(into_s, chosen.duration_s)) * 1000)


def _parse_playlist(text: str) -> tuple[list[tuple[str, float]], datetime | None, bool]:
    segments: list[tuple[str, float]] = []
    first_date: datetime | None = None
    duration: float | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:") and first_date is None:
            first_date = datetime.fromisoformat(line.split(":", 1)[1])
        elif line and not line.startswith("#") and duration is not None:
            segments.append((line, duration))
            duration = None
    return segments, first_date, ENDLIST in text


def _epoch_of(path: Path, segment_names: list[tuple[str, float]]) -> int:
    found = EPOCH_PLAYLIST.fullmatch(path.name)
    if found:
        return int(found.group(1))
    if segment_names:
        match = SEGMENT.fullmatch(segment_names[0][0])
        if match:
            return int(match.group(1))
    return 1 << 62  # an open playlist without a segment yet: last


def playlists(directory: Path) -> list[Path]:
    found = sorted(directory.glob("epoch-*.m3u8"))
    live = directory / LIVE_PLAYLIST
    if live.is_file():
        found.append(live)
    return found


def read_timeline(directory: Path) -> Timeline:
    parsed = []
    for path in playlists(directory):
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        segments, started_at, ended = _parse_playlist(text)
        parsed.append((_epoch_of(path, segments), segments, started_at, ended))
    parsed.sort(key=lambda item: item[0])
    epochs: list[Epoch] = []
    all_segments: list[Segment] = []
    offset_s = 0.0
    for number, segments, started_at, ended in parsed:
        start = offset_s
        for name, duration in segments:
            all_segments.append(Segment(name, duration, offset_s))
            offset_s += duration
        epochs.append(Epoch(number, started_at, start, offset_s - start, ended))
    return Timeline(epochs, all_segments)


def recording_playlist(directory: Path) -> str:
    """The epochs as one VOD playlist (an EVENT playlist while still recording)."""
    timeline = read_timeline(directory)
    target = max((round(s.duration_s + 0.5) for s in timeline.segments), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:" + ("VOD" if timeline.ended else "EVENT"),
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    boundaries = {epoch.offset_s for epoch in timeline.epochs[1:]}
    for segment in timeline.segments:
        if segment.offset_s in boundaries:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXTINF:{segment.duration_s:.6f},")
        lines.append(segment.name)
    if timeline.ended:
        lines.append(ENDLIST)
    return "\n".join(lines) + "\n"


def end_playlist(path: Path) -> bool:
    """Marks a playlist whose writer is gone as finished; True when it had to."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return False
    if ENDLIST in text:
        return False
    with path.open("a") as out:
        out.write(("" if text.endswith("\n") else "\n") + ENDLIST + "\n")
    return True


def retire_live_playlist(directory: Path) -> None:
    """A new room keeps the previous room's playlist, finished, as an epoch of the recording."""
    live = directory / LIVE_PLAYLIST
    if not live.is_file():
        return
    end_playlist(live)
    segments, _, _ = _parse_playlist(live.read_text())
    if not segments:
        live.unlink()
        return
    os.replace(live, directory / f"epoch-{_epoch_of(live, segments)}.m3u8")


def close_interrupted(directory: Path) -> bool:
    """After a crash: every playlist ends; the next room or the finalizer takes it from here."""
    return any([end_playlist(path) for path in playlists(directory)])


def remux_aac(
    inputs: list[Path], output: Path, start_s: float = 0.0, end_s: float | None = None
) -> float:
    """Copies the AAC packets of `inputs` (one after the other, as one timeline) into an
    `.m4a`, keeping those between `start_s` and `end_s`; no re-encode. Returns seconds kept.

    An input cut short by a crash is read up to where it breaks."""
    temporary = output.with_name(output.name + ".tmp")
    out = av.open(str(temporary), "w", format="mp4", options={"movflags": "+faststart"})
    stream = None
    position = 0  # in samples, over the whole timeline
    kept = 0
    try:
        for path in inputs:
            try:
                source = av.open(str(path))
            except (av.error.FFmpegError, OSError):
                log.warning("cannot read %s; skipped", path)
                continue
            with source:
                if not source.streams.audio:
                    continue
                audio_in = source.streams.audio[0]
                if stream is None:
                    stream = out.add_stream_from_template(audio_in)
                try:
                    for packet in source.demux(audio_in):
                        if packet.size == 0:
                            continue
                        at_s = position / SAMPLE_RATE_HZ
                        position += AAC_FRAME_SAMPLES
                        if at_s < start_s or (end_s is not None and at_s >= end_s):
                            continue
                        packet.stream = stream
                        packet.time_base = Fraction(1, SAMPLE_RATE_HZ)
                        packet.pts = packet.dts = kept
                        packet.duration = AAC_FRAME_SAMPLES
                        kept += AAC_FRAME_SAMPLES
                        out.mux(packet)
                except (av.error.FFmpegError, OSError) as exc:
                    log.warning("%s is cut short (%s); kept what came before", path, exc)
    finally:
        out.close()
    if stream is None:
        temporary.unlink(missing_ok=True)
        return 0.0
    os.replace(temporary, output)
    return kept / SAMPLE_RATE_HZ


def segment_paths(directory: Path, timeline: Timeline, start_s: float, end_s: float) -> list[Path]:
    return [
        directory / segment.name
        for segment in timeline.segments
        if segment.offset_s < end_s and segment.offset_s + segment.duration_s > start_s
    ]


def cut_clip(directory: Path, output: Path, start_s: float, end_s: float) -> float:
    """A clip as its own `.m4a`, from the segments it overlaps; returns its length in seconds."""
    timeline = read_timeline(directory)
    paths = segment_paths(directory, timeline, start_s, end_s)
    if not paths:
        return 0.0
    first = next(s for s in timeline.segments if directory / s.name == paths[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    return remux_aac(paths, output, start_s - first.offset_s, end_s - first.offset_s)


@dataclass(frozen=True)
class Finished:
    duration_ms: int
    size_bytes: int


def finalize(directory: Path) -> Finished | None:
    """Ends every playlist and writes the download from the parts (or, failing that, from
    the segments). Idempotent. None when nothing was recorded."""
    close_interrupted(directory)
    timeline = read_timeline(directory)
    if not timeline.segments:
        return None
    download = directory / DOWNLOAD_NAME
    parts = [directory / part_name(e.number) for e in timeline.epochs]
    parts = [path for path in parts if path.is_file()]
    if not download.is_file() or parts:
        seconds = remux_aac(parts, download) if parts else 0.0
        if seconds < timeline.duration_s - 1.5 * len(timeline.epochs):
            # A part is missing or short: the segments have it all.
            remux_aac([directory / s.name for s in timeline.segments], download)
        for path in parts:
            path.unlink(missing_ok=True)
    size = sum(path.stat().st_size for path in directory.iterdir() if path.is_file())
    return Finished(round(timeline.duration_s * 1000), size)


def delete_files(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
