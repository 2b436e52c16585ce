"""The Space's mix as HLS (AAC in 1 s MPEG-TS segments), written off the event loop.

The same files serve listeners past the WebRTC cap, logged-out listeners on the share page,
and later the recording. Closing writes #EXT-X-ENDLIST, turning the live playlist into VOD
(of the last minute only, unless the room is recorded: see `LIVE_WINDOW_SEGMENTS`).
A recorded Space's writer also copies every AAC packet into a fragmented `.m4a` (no second
encode) and keeps earlier rooms' playlists: see recording.py.
"""

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from townhall.media import recording
from townhall.media.mixer import FRAME_SAMPLES, SAMPLE_RATE_HZ, Pcm

log = logging.getLogger("townhall.media")

SEGMENT_S = 1
AAC_BITRATE_BPS = 64_000
PLAYLIST_NAME = "index.m3u8"
QUEUE_FRAMES = 500
"""Ten seconds of audio may wait for the disk; past that, frames are dropped, not the mix."""
LIVE_WINDOW_SEGMENTS = 60
"""Segments the playlist of a room that is not recorded lists: the last minute, plenty for
players, which start 3 segments from the end. FFmpeg's muxer keeps about 12 KB of memory
per listed segment; listing all of them (`hls_list_size` 0) grew the server by 0.7 MB a
minute for as long as a room was open (bench/results/soak_memory.md). Segments that left
the list are deleted too, so an unrecorded room's disk use stays flat as well. A recorded
room lists and keeps them all: its playlist is the recording's timeline (recording.py)."""


class HlsWriter:
    def __init__(
        self,
        directory: Path,
        record: bool = False,
        live_window_segments: int = LIVE_WINDOW_SEGMENTS,
    ) -> None:
        self.directory = directory
        self.record = record
        self.live_window_segments = live_window_segments
        # Segments are cached forever, so a room opened again must never reuse a name.
        self.epoch = int(time.time())
        directory.mkdir(parents=True, exist_ok=True)
        if record:
            recording.retire_live_playlist(directory)
        self._queue: queue.Queue[Pcm | None] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._run, name=f"hls-{directory.name}", daemon=True)
        self.dropped_frames = 0
        self._thread.start()

    @property
    def playlist(self) -> Path:
        return self.directory / PLAYLIST_NAME

    def push(self, pcm: Pcm) -> None:
        try:
            self._queue.put_nowait(pcm)
        except queue.Full:
            self.dropped_frames += 1

    def close(self) -> None:
        """Blocks until the playlist is final; call it from a worker thread."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            output = av.open(
                str(self.playlist),
                "w",
                format="hls",
                options={
                    "hls_time": str(SEGMENT_S),
                    "hls_list_size": "0" if self.record else str(self.live_window_segments),
                    "hls_segment_type": "mpegts",
                    "hls_flags": "independent_segments+program_date_time+temp_file"
                    + ("" if self.record else "+delete_segments"),
                    "hls_segment_filename": str(self.directory / f"seg{self.epoch}-%05d.ts"),
                },
            )
        except Exception:
            log.exception("cannot open the HLS output in %s", self.directory)
            return
        stream = output.add_stream("aac", rate=SAMPLE_RATE_HZ)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        stream.bit_rate = AAC_BITRATE_BPS
        part = self._open_part(stream) if self.record else None
        pts = 0
        try:
            while True:
                pcm = self._queue.get()
                if pcm is None:
                    break
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(pcm).reshape(1, -1), format="s16", layout="mono"
                )
                frame.sample_rate = SAMPLE_RATE_HZ
                frame.pts = pts
                pts += FRAME_SAMPLES
                for packet in stream.encode(frame):
                    if part is not None:
                        part.write(packet)
                    output.mux(packet)
            for packet in stream.encode(None):
                if part is not None:
                    part.write(packet)
                output.mux(packet)
        except Exception:
            log.exception("HLS writing in %s failed", self.directory)
        finally:
            output.close()
            if part is not None:
                part.close()

    def _open_part(self, encoder: av.audio.stream.AudioStream) -> "_Part | None":
        try:
            return _Part(self.directory / recording.part_name(self.epoch), encoder)
        except Exception:
            log.exception("cannot open the recording file in %s", self.directory)
            return None


class _Part:
    """The recording's download, fragment by fragment, from the packets HLS gets."""

    def __init__(self, path: Path, encoder: av.audio.stream.AudioStream) -> None:
        self._output = av.open(str(path), "w", format="mp4", options=recording.PART_OPTIONS)
        self._encoder = encoder
        self._stream: av.audio.stream.AudioStream | None = None
        self.failed = False

    def write(self, packet: "av.Packet[Any]") -> None:
        if self.failed:
            return
        try:
            if self._stream is None:
                # The encoder's extradata (AudioSpecificConfig) exists once it has run.
                self._stream = self._output.add_stream_from_template(self._encoder)
            copy = av.Packet(bytes(packet))
            copy.pts, copy.dts, copy.duration = packet.pts, packet.dts, packet.duration
            copy.time_base = packet.time_base
            copy.stream = self._stream
            self._output.mux(copy)
        except Exception:
            # The segments still have everything: the download is rebuilt from them.
            log.exception("recording file write failed; the segments still have it")
            self.failed = True

    def close(self) -> None:
        try:
            self._output.close()
        except Exception:
            log.exception("closing the recording file failed")
