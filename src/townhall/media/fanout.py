"""One loop per 20 ms tick sends the shared Opus packet to every WebRTC listener of a Space.

aiortc gives each listener a sender coroutine that wakes per packet, builds an `RtpPacket`
with header extensions and NTP time, protects and sends it: about 66 µs a packet, 0.4% of a
core per listener. Here the room's clock walks its listeners once per tick instead and, for
each, writes the RTP header (that listener's SSRC, sequence, timestamp, payload type and
mid as negotiated), protects it with the listener's own SRTP session and `sendto`s it on
its nominated ICE pair: about 15 µs a packet (bench/audio/fanout_floor.py).

RTCP sender reports go out from the same loop too: aiortc sends one per listener every
0.5-1.5 s from a task of its own (with SDES, built from objects: about 5% of the event
loop at 300 listeners); here each listener gets one every `SR_INTERVAL_S` (4-6 s, what
libwebrtc does for audio), written from precomputed bytes, in the tick's batch. aiortc's
own RTCP task for the listener is replaced by one that only says BYE when the peer closes.

aiortc still does everything else for the peer: ICE (checks, consent), DTLS, receiving
RTCP. Its sender is given a track that never yields a frame, so its coroutine stays
parked. The sender's counters are kept up to date (every few ticks) so `getStats()` and
its round-trip estimate from receiver reports stay truthful.

This reaches into aiortc's and aioice's private attributes (names checked in
`tests/media/test_fanout.py`, so an upgrade that renames them fails loudly).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.clock import current_ntp_time
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtp import RtcpByePacket, RtcpSdesPacket, RtcpSourceInfo, RtpPacket

log = logging.getLogger("townhall.media")

RTP_FIXED = struct.Struct("!BBHII")
RTCP_SR = struct.Struct("!BBHIQIII")
"""V=2 RC=0, PT=200, length 6 words, SSRC, NTP time, RTP time, packets, octets."""
SR_HEADER = (0x80, 200, 6)
TICK_S = 0.02
SR_INTERVAL_S = 5.0
"""RFC 3550's minimum; libwebrtc's default for audio. Each listener's next one is 4-6 s on."""
SAMPLES_PER_PACKET = 960
STATS_EVERY_TICKS = 10
"""RTCP sender reports go out every 0.5-1.5 s; their counters need not be fresher than 200 ms."""
_SENDER = "_RTCRtpSender__"
MAX_PENDING_BATCHES = 3
"""The send thread 60 ms behind: older ticks are dropped rather than delivered late."""

SendTo = Callable[[bytes, tuple[str, int]], object]
Outgoing = tuple["FanoutListener", bool, bytes]
"""A packet for the send thread: whose, RTCP or not, the plain bytes it protects and sends."""


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
    sendto: SendTo | None = None
    sock: socket.socket | None = None
    """A duplicate of the ICE socket, for the send thread; None: send from the event loop."""
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
    sdes: bytes = b""
    """This listener's RTCP SDES (CNAME), sent after each sender report."""
    next_report_tick: int = 0


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
    listener.sock = _own_socket(pair.protocol.transport)
    listener.sendto = (
        listener.sock.sendto if listener.sock is not None else pair.protocol.transport.sendto
    )
    listener.addr = pair.remote_addr
    listener.sender = sender
    listener.first_byte = header[0]
    listener.second_byte = 0x80 | (header[1] & 0x7F)  # marker: the stream starts
    listener.ext = header[RTP_FIXED.size :]
    listener.ssrc = sender._ssrc
    cname = getattr(sender, _SENDER + "cname") or ""
    chunk = RtcpSourceInfo(ssrc=sender._ssrc, items=[(1, cname.encode("utf8"))])
    listener.sdes = bytes(RtcpSdesPacket(chunks=[chunk]))
    return True


def _quiet_rtcp(sender: Any) -> Callable[[], Any]:
    """What runs in place of aiortc's RTCP loop for a fan-out listener: BYE at the end only."""

    async def run() -> None:
        getattr(sender, _SENDER + "rtcp_started").set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.get_running_loop().create_future()
        with contextlib.suppress(Exception):
            await sender._send_rtcp([RtcpByePacket(sources=[sender._ssrc])])
        getattr(sender, _SENDER + "rtcp_exited").set()

    return run


def _own_socket(transport: Any) -> socket.socket | None:
    """A socket of our own on the same UDP port, usable from another thread.

    The transport is asyncio's or uvloop's (uvicorn runs uvloop when it is installed; its
    `UDPTransport` is no `asyncio.DatagramTransport` subclass, so no isinstance test here).
    A TURN relay's transport has no socket (aioice wraps each datagram): it stays on the
    event loop.
    """
    raw = transport.get_extra_info("socket")
    if raw is None or getattr(raw, "type", None) != socket.SOCK_DGRAM:
        return None
    sock = socket.socket(fileno=os.dup(raw.fileno()))
    sock.setblocking(False)
    return sock


class SendThread:
    """Protects and sends each tick's packets off the event loop, on the machine's other core.

    On loopback and real NICs alike the kernel's work in `sendto` is most of a packet's
    cost; `socket.sendto` releases the GIL during it, and so does pylibsrtp's `protect`
    (a cffi call). Both belong here: with `protect` on the event loop and `sendto` here,
    the two threads handed the GIL back and forth twice a packet, and a 2 µs `protect`
    took 13 µs (py-spy at 500 listeners). Sockets handed to `close_later` are closed by
    this thread after every batch queued before them is sent.
    """

    def __init__(self, name: str) -> None:
        self._batches: deque[list[Outgoing]] = deque()
        self._to_close: deque[socket.socket] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self.dropped_batches = 0
        self.errors = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, batch: list[Outgoing]) -> None:
        while len(self._batches) >= MAX_PENDING_BATCHES:
            self._batches.popleft()
            self.dropped_batches += 1
        self._batches.append(batch)
        self._wake.set()

    def close_later(self, sock: socket.socket) -> None:
        self._to_close.append(sock)
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        batches, to_close = self._batches, self._to_close
        while True:
            self._wake.wait()
            self._wake.clear()
            while batches:
                try:
                    batch = batches.popleft()
                except IndexError:
                    break
                for listener, rtcp, data in batch:
                    sendto, srtp = listener.sendto, listener.srtp
                    if listener.sock is None or sendto is None:
                        continue  # let go of since the tick: its session may be closing
                    try:
                        sendto(
                            srtp.protect_rtcp(data) if rtcp else srtp.protect(data), listener.addr
                        )
                    except Exception:
                        self.errors += 1
            while to_close:
                to_close.popleft().close()
            if self._stopping:
                return


class Fanout:
    """The listeners of one Space; `send` is called by the room's clock once per tick."""

    def __init__(self, name: str = "rtp-send") -> None:
        self._name = name
        self._pending: list[FanoutListener] = []
        self._ready: list[FanoutListener] = []
        self._thread: SendThread | None = None
        self._ticks = 0
        self.sent = 0
        self.failed = 0

    def add(self, pc: RTCPeerConnection) -> FanoutListener:
        """`pc` carries a `ParkedTrack` and has not started its sender (no answer yet)."""
        listener = FanoutListener(pc)
        for sender in pc.getSenders():
            sender._run_rtcp = _quiet_rtcp(sender)  # type: ignore[method-assign]
        self._pending.append(listener)
        return listener

    def remove(self, listener: FanoutListener) -> None:
        for group in (self._pending, self._ready):
            if listener in group:
                group.remove(listener)
        self._release(listener)

    def _release(self, listener: FanoutListener) -> None:
        sock, listener.sock = listener.sock, None
        if sock is not None:
            if self._thread is not None:
                self._thread.close_later(sock)
            else:
                sock.close()

    def close(self) -> None:
        for listener in self._pending + self._ready:
            self._release(listener)
        self._pending.clear()
        self._ready.clear()
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

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
        batch: list[Outgoing] = []
        queue = batch.append
        tick = self._ticks
        for s in self._ready:
            if s.dtls._state is not connected:
                gone.append(s)
                continue
            ts = (s.ts0 + pts) & 0xFFFFFFFF
            data = pack(s.first_byte, s.second_byte, s.seq, ts, s.ssrc) + s.ext + payload
            if s.sock is not None:
                queue((s, False, data))
            else:
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
            if tick >= s.next_report_tick:
                try:
                    self._report(s, tick, queue)
                except Exception:
                    self.failed += 1
                    gone.append(s)
        self.sent += len(self._ready) - len(gone)
        if batch:
            if self._thread is None:
                self._thread = SendThread(self._name)
            self._thread.submit(batch)
        for s in gone:
            self._ready.remove(s)
            self._release(s)
        self._ticks += 1
        if self._ticks % STATS_EVERY_TICKS == 0:
            self._update_sender_stats()

    def _report(self, s: FanoutListener, tick: int, queue: Callable[[Outgoing], None]) -> None:
        """A sender report (with SDES) for the packet just sent, and when the next is due."""
        ntp = current_ntp_time()
        report = RTCP_SR.pack(
            *SR_HEADER, s.ssrc, ntp, s.rtp_timestamp, s.packets & 0xFFFFFFFF, s.octets & 0xFFFFFFFF
        )
        if s.sock is not None:
            queue((s, True, report + s.sdes))
        else:
            s.sendto(s.srtp.protect_rtcp(report + s.sdes), s.addr)  # type: ignore[misc]
        setattr(s.sender, _SENDER + "lsr", (ntp >> 16) & 0xFFFFFFFF)
        setattr(s.sender, _SENDER + "lsr_time", time.time())
        s.next_report_tick = tick + int(SR_INTERVAL_S * (0.8 + 0.4 * random.random()) / TICK_S)

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
