"""Receiving a speaker: decoded frames into the mixer, with aiortc's receive latency cut."""

import asyncio
import logging
from collections.abc import Callable

from aiortc import RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from townhall.media.mixer import Mixer, Pcm
from townhall.media.opus import MonoResampler

log = logging.getLogger("townhall.media")

RECEIVE_PREFETCH_PACKETS = 1
"""aiortc waits for 4 packets (about 80 ms) before decoding; the mixer's own bounded buffer
absorbs jitter, so one is enough here."""


def tune_receive_latency(receiver: RTCRtpReceiver) -> None:
    """Swap aiortc's audio jitter buffer for one that prefetches less, before any RTP arrives.

    aiortc offers no setting for it, so this replaces its private attribute; a test checks
    the attribute still exists, so an aiortc upgrade that renames it fails loudly.
    """
    attribute = "_RTCRtpReceiver__jitter_buffer"
    if not hasattr(receiver, attribute):
        raise RuntimeError("aiortc's receiver changed: cannot tune its jitter buffer")
    setattr(receiver, attribute, JitterBuffer(capacity=16, prefetch=RECEIVE_PREFETCH_PACKETS))


async def pump_into_mixer(
    track: MediaStreamTrack,
    mixer: Mixer,
    user_id: int,
    tap: Callable[[int, Pcm], None] | None = None,
) -> None:
    """Runs until the track ends; every 20 ms of audio goes to the speaker's buffer, and to
    `tap` (the captions), which sees this speaker's own voice rather than the mix."""
    resampler = MonoResampler()
    try:
        while True:
            frame = await track.recv()
            for pcm in resampler.push(frame):  # type: ignore[arg-type]
                mixer.push(user_id, pcm)
                if tap is not None:
                    tap(user_id, pcm)
    except MediaStreamError:
        pass
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("ingest of speaker %s failed", user_id)
