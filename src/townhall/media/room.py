"""One live Space's audio: the 20 ms clock, the mixer, the shared encode and the fan-out.

Each tick encodes the mix once and hands the packet to `Fanout`, which sends it to every
WebRTC listener in one pass (see fanout.py); people on stage get their mix-minus through
aiortc's own sender (one encode each).

The clock keeps its own schedule: when the event loop was late (peers being set up can
stall it 80-300 ms), it runs the missed ticks back to back, up to a bound, so listeners
get a steady stream and no latency builds up.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiortc import RTCPeerConnection

from townhall.captions.captioner import SpaceCaptions
from townhall.media.fanout import Fanout, FanoutListener
from townhall.media.hls import HlsWriter
from townhall.media.mixer import FRAME_MS, FRAME_SAMPLES, Mixer, MixResult, Pcm
from townhall.media.opus import OpusEncoder
from townhall.media.tracks import PcmTrack

log = logging.getLogger("townhall.media")

TICK_S = FRAME_MS / 1000
MAX_CATCH_UP_TICKS = 5
"""Past 100 ms late the clock jumps ahead instead: those frames are gone either way."""
SPEAKING_THRESHOLD_DBFS = -45.0
SPEAKING_EVENT_INTERVAL_S = 0.2
"""At most five `speaking` events a second per speaker."""

SpeakingCallback = Callable[[int, float], None]


class LiveRoom:
    def __init__(
        self, space_id: int, on_speaking: SpeakingCallback, hls: HlsWriter | None = None
    ) -> None:
        self.space_id = space_id
        self.hls = hls
        self.mixer = Mixer()
        self._encoder = OpusEncoder()
        self.fanout = Fanout(f"rtp-send-{space_id}")
        self._minus_tracks: dict[int, set[PcmTrack]] = {}
        self._on_speaking = on_speaking
        self._last_speaking: dict[int, float] = {}
        self._pts = 0
        self._task: asyncio.Task[None] | None = None
        self.captions: SpaceCaptions | None = None
        """Set by the media service when this node can caption; on or off with the Space."""
        self.ticks = 0
        self.late_ticks = 0
        self.skipped_ticks = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mixer-{self.space_id}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.fanout.close()
        for tracks in self._minus_tracks.values():
            for pcm_track in tracks:
                pcm_track.stop()
        self._minus_tracks.clear()
        if self.captions is not None:
            await self.captions.close()
        if self.hls is not None:
            await asyncio.to_thread(self.hls.close)

    def add_listener(self, pc: RTCPeerConnection) -> FanoutListener:
        """The peer must carry a `ParkedTrack`; it gets audio from the first tick after DTLS."""
        return self.fanout.add(pc)

    def remove_listener(self, listener: FanoutListener) -> None:
        self.fanout.remove(listener)

    def caption_tap(self, user_id: int, pcm: Pcm) -> None:
        """A speaker's own audio, as ingest hands it to the mixer, for their captioner."""
        if self.captions is not None and self.mixer.buffer(user_id) is not None:
            self.captions.push(user_id, pcm)

    def add_speaker_ears(self, user_id: int) -> PcmTrack:
        track = PcmTrack()
        self._minus_tracks.setdefault(user_id, set()).add(track)
        return track

    def remove_speaker_ears(self, user_id: int, track: PcmTrack) -> None:
        tracks = self._minus_tracks.get(user_id)
        if tracks is not None:
            tracks.discard(track)
            if not tracks:
                del self._minus_tracks[user_id]
        track.stop()

    @property
    def listener_count(self) -> int:
        return len(self.fanout)

    async def _run(self) -> None:
        next_tick = time.monotonic()
        while True:
            now = time.monotonic()
            behind = int((now - next_tick) / TICK_S)
            if behind > MAX_CATCH_UP_TICKS:
                self.skipped_ticks += behind - MAX_CATCH_UP_TICKS
                next_tick += (behind - MAX_CATCH_UP_TICKS) * TICK_S
                behind = MAX_CATCH_UP_TICKS
            if behind > 0:
                self.late_ticks += behind
            try:
                for _ in range(behind + 1):
                    self._tick()
                    next_tick += TICK_S
            except Exception:
                log.exception("space %s: mixer tick failed", self.space_id)
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))

    def _tick(self) -> None:
        result = self.mixer.tick()
        self.ticks += 1
        for packet in self._encoder.encode(result.mix):
            self.fanout.send(bytes(packet), self._pts)
        if self.hls is not None:
            self.hls.push(result.mix)
        self._feed_speakers(result)
        self._pts += FRAME_SAMPLES
        self._report_levels(result)

    def _feed_speakers(self, result: MixResult) -> None:
        for user_id, tracks in self._minus_tracks.items():
            minus: Pcm = result.minus.get(user_id, result.mix)
            for track in tracks:
                track.offer(minus, self._pts)

    def _report_levels(self, result: MixResult) -> None:
        now = time.monotonic()
        for user_id, level in result.levels.items():
            if level < SPEAKING_THRESHOLD_DBFS or self.mixer.is_muted(user_id):
                continue
            if now - self._last_speaking.get(user_id, 0.0) < SPEAKING_EVENT_INTERVAL_S:
                continue
            self._last_speaking[user_id] = now
            self._on_speaking(user_id, level)
