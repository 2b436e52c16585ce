"""The aiortc track the server sends to people on stage: their PCM mix-minus."""

from __future__ import annotations

import asyncio
from typing import TypeVar

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from townhall.media.mixer import Pcm
from townhall.media.opus import pcm_to_frame

T = TypeVar("T")
QUEUE_FRAMES = 5
"""100 ms: a sender that falls further behind skips ahead instead of adding latency."""


def _offer_latest(queue: asyncio.Queue[T], item: T) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


class PcmTrack(MediaStreamTrack):
    """A speaker's mix-minus as raw frames; aiortc encodes it for that speaker alone."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._queue: asyncio.Queue[av.AudioFrame | None] = asyncio.Queue(maxsize=QUEUE_FRAMES)

    def offer(self, pcm: Pcm, pts: int) -> None:
        _offer_latest(self._queue, pcm_to_frame(pcm, pts))

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        return frame

    def stop(self) -> None:
        if self.readyState == "live":
            _offer_latest(self._queue, None)
        super().stop()
