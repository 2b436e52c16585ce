"""The Space's mix as HLS (AAC in 1 s MPEG-TS segments), written off the event loop.

The same files serve listeners past the WebRTC cap, logged-out listeners on the share page,
and later the recording. Closing writes #EXT-X-ENDLIST, turning the live playlist into VOD.
"""

import logging
import queue
import threading
import time
from pathlib import Path

import av
import numpy as np

from townhall.media.mixer import FRAME_SAMPLES, SAMPLE_RATE_HZ, Pcm

log = logging.getLogger("townhall.media")

SEGMENT_S = 1
AAC_BITRATE_BPS = 64_000
PLAYLIST_NAME = "index.m3u8"
QUEUE_FRAMES = 500
"""Ten seconds of audio may wait for the disk; past that, frames are dropped, not the mix."""


class HlsWriter:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Segments are cached forever, so a room opened again must never reuse a name.
        self.epoch = int(time.time())
        directory.mkdir(parents=True, exist_ok=True)
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
                    "hls_list_size": "0",
                    "hls_segment_type": "mpegts",
                    "hls_flags": "independent_segments+program_date_time+temp_file",
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
                    output.mux(packet)
            for packet in stream.encode(None):
                output.mux(packet)
        except Exception:
            log.exception("HLS writing in %s failed", self.directory)
        finally:
            output.close()
