"""One loop per 20 ms tick sends the shared Opus packet to every WebRTC listener of a Space.

aiortc gives each listener a sender coroutine that wakes per packet, builds an `RtpPacket`
with header extensions and NTP time, protects and sends it: about 66 µs a packet, 0.4% of a
core per listener. Here the room's clock walks its listeners once per tick instead and, for
each, writes the RTP header (that listener's SSRC, sequence, timestamp, payload type and
mid as negotiated), protects it with the listener's own SRTP session and `sendto`s it on
its nominated ICE pair: about 15 µs a packet (bench/audio/fanout_floor.py).

aiortc still does everything else for the peer: ICE (checks, consent), DTLS, receiving
RTCP, sending RTCP sender reports. Its sender is given a track that never yields a frame,
so its coroutine stays parked. The sender's counters are kept up to date (every few ticks)
so its RTCP sender reports and `getStats()` stay truthful.

This reaches into aiortc's and aioice's private attributes (names checked in
`tests/media/test_fanout.py`, so an upgrade that renames them fails loudly).
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.clock import current_ntp_time
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtp import RtpPacket

log = logging.getLogger("townhall.media")

RTP_FIXED = struct.Struct("!BBHII")
SAMPLES_PER_PACKET = 960
STATS_EVERY_TICKS = 10
"""RTCP sender reports go out every 0.5-1.5 s; their counters need not be fresher than 200 ms."""
_SENDER = "_RTCRtpSender__"


class ParkedTrack(MediaStreamTrack):
    """Given to aiortc's sender so it negotiates a send stream but never sends by itself."""

    kind = "audio"

    async def recv(self) -> Any:
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass(slots=True, eq=False)
class FanoutListener:
    """One listener's outbound stream; `ready` once DTLS is up and its UDP path is known."""

    pc: RTCPeerConnection
    dtls: Any = None
    srtp: Any = None
    sendto: Callable[[bytes, tuple[str, int]], None] | None = None
    addr: tuple[str, int] = ("", 0)
    sender: Any = None
    first_byte: int = 0x80
    second_byte: int = 0
    ext: bytes = b""
    ssrc: int = 0
    seq: int = field(default_factory=lambda: random.randrange(1 << 16))
    ts0: int = field(default_factory=lambda: random.getrandbits(32))
    packets: int = 0
    octets: int = 0
    rtp_timestamp: int = 0


def _try_ready(listener: FanoutListener) -> bool:
    """Binds the listener to its SRTP session and UDP path once its DTLS is connected."""
    pc = listener.pc
    transceivers = pc.getTransceivers()
    if not transceivers:
        return False
    transceiver = transceivers[0]
    sender = transceiver.sender
    dtls = sender.transport
    if dtls is None or dtls._state != DtlsState.CONNECTED:
        return False
    pair = dtls.transport._connection._nominated.get(1)
    if pair is None or pair.protocol.transport is None:
        return False
    codec = transceiver._codecs[0]
    template = RtpPacket(payload_type=int(codec.payloadType or 0), ssrc=sender._ssrc)
    template.extensions.mid = transceiver.mid
    header = template.serialize(getattr(sender, _SENDER + "rtp_header_extensions_map"))
    listener.dtls = dtls
    listener.srtp = dtls._tx_srtp
    listener.sendto = pair.protocol.transport.sendto
    listener.addr = pair.remote_addr
    listener.sender = sender
    listener.first_byte = header[0]
    listener.second_byte = 0x80 | (header[1] & 0x7F)  # marker: the stream starts
    listener.ext = header[RTP_FIXED.size :]
    listener.ssrc = sender._ssrc
    return True


class Fanout:
    """The listeners of one Space; `send` is called by the room's clock once per tick."""

    def __init__(self) -> None:
        self._pending: list[FanoutListener] = []
        self._ready: list[FanoutListener] = []
        self._ticks = 0
        self.sent = 0
        self.failed = 0

    def add(self, pc: RTCPeerConnection) -> FanoutListener:
        listener = FanoutListener(pc)
        self._pending.append(listener)
        return listener

    def remove(self, listener: FanoutListener) -> None:
        for group in (self._pending, self._ready):
            if listener in group:
                group.remove(listener)

    def __len__(self) -> int:
        return len(self._pending) + len(self._ready)

    @property
    def ready_count(self) -> int:
        return len(self._ready)

    def send(self, payload: bytes, pts: int) -> None:
        """Writes, protects and sends one packet per connected listener, in one pass."""
        if self._pending:
            self._promote()
        pack = RTP_FIXED.pack
        connected = DtlsState.CONNECTED
        size = len(payload)
        gone: list[FanoutListener] = []
        for s in self._ready:
            if s.dtls._state is not connected:
                gone.append(s)
                continue
            ts = (s.ts0 + pts) & 0xFFFFFFFF
            data = pack(s.first_byte, s.second_byte, s.seq, ts, s.ssrc) + s.ext + payload
            try:
                s.sendto(s.srtp.protect(data), s.addr)  # type: ignore[misc]
            except Exception:
                self.failed += 1
                gone.append(s)
                continue
            s.second_byte &= 0x7F
            s.seq = (s.seq + 1) & 0xFFFF
            s.packets += 1
            s.octets += size
            s.rtp_timestamp = ts
        self.sent += len(self._ready) - len(gone)
        for s in gone:
            self._ready.remove(s)
        self._ticks += 1
        if self._ticks % STATS_EVERY_TICKS == 0:
            self._update_sender_stats()

    def _promote(self) -> None:
        still: list[FanoutListener] = []
        for listener in self._pending:
            try:
                ready = _try_ready(listener)
            except Exception:
                log.exception("fan-out: could not bind a listener's stream")
                continue
            (self._ready if ready else still).append(listener)
        self._pending = still

    def _update_sender_stats(self) -> None:
        """What aiortc's own RTP loop would have recorded, for its sender reports and stats."""
        ntp = current_ntp_time()
        for s in self._ready:
            sender = s.sender
            setattr(sender, _SENDER + "ntp_timestamp", ntp)
            setattr(sender, _SENDER + "rtp_timestamp", s.rtp_timestamp)
            setattr(sender, _SENDER + "packet_count", s.packets)
            setattr(sender, _SENDER + "octet_count", s.octets)
