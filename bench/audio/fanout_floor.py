"""What one send loop per 20 ms costs, on real aiortc peers: the floor for Townhall's fan-out.

N server-side aiortc peers (their senders stay idle: the track never yields a frame) are
connected to N aiortc listeners, all in this process. Once per 20 ms one loop goes over
the listeners: a 12-byte RTP header (struct), the peer's own SRTP session
(``RTCDtlsTransport._tx_srtp``), ``sendto`` on the nominated ICE pair's transport. Listeners
count what aiortc's receive path authenticated (SRTP unprotect succeeded).

Prints microseconds per packet for the loop. The listeners live in this process, so the
kernel's loopback receive work is charged to the sending ``sendto``, as on the server.

    .venv/bin/python bench/audio/fanout_floor.py -n 100 --seconds 6
"""

from __future__ import annotations

import argparse
import asyncio
import random
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from bench.audio.common import FRAME, SR, RxStats, install_rx_hook, log, new_pc
from townhall.media.opus import OpusEncoder

RTP_HEADER = struct.Struct("!BBHII")
CONNECT_TIMEOUT_S = 180.0


class NeverTrack(MediaStreamTrack):
    """Keeps aiortc's sender task parked: it awaits a frame that never comes."""

    kind = "audio"

    async def recv(self) -> av.AudioFrame:
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")


@dataclass
class Subscriber:
    srtp: Any
    transport: Any
    addr: tuple[str, int]
    ssrc: int
    pt: int
    seq: int
    ts0: int


def subscriber(pc: RTCPeerConnection) -> Subscriber:
    """Reaches into aiortc/aioice for the SRTP session and the selected UDP path."""
    sender = pc.getSenders()[0]
    transceiver = pc.getTransceivers()[0]
    dtls: Any = sender.transport
    pair = dtls.transport._connection._nominated[1]
    return Subscriber(
        srtp=dtls._tx_srtp,
        transport=pair.protocol.transport,
        addr=pair.remote_addr,
        ssrc=sender._ssrc,
        pt=int(transceiver._codecs[0].payloadType or 0),
        seq=random.randrange(65536),
        ts0=random.getrandbits(32),
    )


async def connect_pairs(n: int) -> tuple[list[RTCPeerConnection], list[RxStats]]:
    pcs: list[RTCPeerConnection] = []
    stats: list[RxStats] = []
    for _ in range(n):
        client = new_pc()
        client.addTransceiver("audio", direction="recvonly")
        st = RxStats()
        stats.append(st)

        def on_track(
            track: MediaStreamTrack, client: RTCPeerConnection = client, st: RxStats = st
        ) -> None:
            for t in client.getTransceivers():
                if t.receiver.track is track:
                    install_rx_hook(t.receiver, st)

        client.on("track", on_track)
        await client.setLocalDescription(await client.createOffer())
        server = new_pc()
        await server.setRemoteDescription(
            RTCSessionDescription(client.localDescription.sdp, "offer")
        )
        server.addTrack(NeverTrack())
        await server.setLocalDescription(await server.createAnswer())
        await client.setRemoteDescription(
            RTCSessionDescription(server.localDescription.sdp, "answer")
        )
        pcs += [server, client]
    while any(p.connectionState != "connected" for p in pcs):  # noqa: ASYNC110 (a poll)
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    return pcs, stats


async def run(n: int, seconds: float) -> dict[str, Any]:
    pcs, stats = await asyncio.wait_for(connect_pairs(n), CONNECT_TIMEOUT_S)
    log(f"{n} pairs connected")
    subs = [subscriber(pc) for pc in pcs[0::2]]
    encoder = OpusEncoder()
    t = np.arange(FRAME) / SR
    loop_s = 0.0
    ticks = 0
    next_tick = time.monotonic()
    end = next_tick + seconds
    while time.monotonic() < end:
        pcm = (3000 * np.sin(2 * np.pi * 440 * (t + ticks * FRAME / SR))).astype(np.int16)
        payload = bytes(encoder.encode(pcm)[0])
        ts_offset = ticks * FRAME
        t0 = time.perf_counter()
        for s in subs:
            header = RTP_HEADER.pack(0x80, s.pt, s.seq, (s.ts0 + ts_offset) & 0xFFFFFFFF, s.ssrc)
            s.transport.sendto(s.srtp.protect(header + payload), s.addr)
            s.seq = (s.seq + 1) & 0xFFFF
        loop_s += time.perf_counter() - t0
        ticks += 1
        next_tick += FRAME / SR
        await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
    await asyncio.sleep(0.5)
    got = [st.count for st in stats]
    await asyncio.gather(*(p.close() for p in pcs))
    per_packet_us = 1e6 * loop_s / max(1, ticks * n)
    return {
        "n": n,
        "ticks": ticks,
        "loop_us_per_packet": round(per_packet_us, 2),
        "core_pct_per_listener": round(per_packet_us * 50 / 1e4, 4),
        "received_min": min(got),
        "received_mean": round(sum(got) / n, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-n", type=int, default=100, help="listeners")
    ap.add_argument("--seconds", type=float, default=6.0)
    a = ap.parse_args()
    print(asyncio.run(run(a.n, a.seconds)), flush=True)


if __name__ == "__main__":
    main()
