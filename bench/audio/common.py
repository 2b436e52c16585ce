"""Target-agnostic pieces: loopback ICE, the click-marked test signal, the speaker's track,
the click detector, the cheap receive hook, /proc sampling.

From ``../shared/bench/janus/common.py`` (same signal, detector and hook, so numbers compare
with the Janus reference run), typed and split into small functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import RtpPacket

SR = 48_000
FRAME = 960
"""20 ms at 48 kHz."""
CLICK_PERIOD_S = 2.0
CLICK_HZ = 1000.0
CLICK_LEN_S = 0.030
CLICK_AMP = 0.7
"""Full scale is 1.0."""
SPEECH_PEAK = 0.2
DETECT_THRESH = 0.35
"""Threshold on the 1 kHz envelope (full scale 1.0)."""
GATE_BEFORE_S = 0.12
GATE_AFTER_S = 0.2
"""Speech is silenced from 120 ms before to 200 ms after each click: an unambiguous marker."""
REFRACTORY_SAMPLES = SR
"""One onset per second at most (clicks are 2 s apart)."""

CLK_TCK = os.sysconf("SC_CLK_TCK")

Floats = npt.NDArray[np.float32]
Int16s = npt.NDArray[np.int16]


def log(message: str) -> None:
    """Progress to stderr; stdout is for results."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- ICE


def _loopback_only(use_ipv4: bool = True, use_ipv6: bool = False) -> list[str]:
    return ["127.0.0.1"]


def force_loopback_ice() -> None:
    """aioice never offers 127.0.0.1; make this process's peers offer only that address.

    Call before creating peer connections. Only the client side is patched: the server
    under test gathers its candidates as it would in production.
    """
    import aioice.ice

    aioice.ice.get_host_addresses = _loopback_only


def new_pc() -> RTCPeerConnection:
    """A peer without STUN/TURN servers (host candidates only)."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


# ----------------------------------------------------------------------------- test signal


def _espeak_speech(text: str) -> Floats | None:
    if not shutil.which("espeak-ng"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-s", "160", "-w", str(path), text],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with wave.open(str(path)) as w:
            rate = w.getframerate()
            channels = w.getnchannels()
            raw = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)
    if channels > 1:
        raw = raw.reshape(-1, channels)[:, 0]
    t_in = np.arange(len(raw)) / rate
    t_out = np.arange(int(len(raw) * SR / rate)) / SR
    return np.interp(t_out, t_in, raw).astype(np.float32)


def _synthetic_speech(seconds: float) -> Floats:
    """Speech-like fallback without espeak-ng: an amplitude-modulated harmonic stack."""
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    stack = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) ** 2
    return np.asarray(stack * envelope, dtype=np.float32)


def _speech_mono48k(seconds: float) -> Floats:
    text = (
        "Welcome to the space. This is a load test of a live audio room. "
        "The speaker keeps talking while many listeners tune in. "
        "One two three four five six seven eight nine ten. "
    ) * 3
    x = _espeak_speech(text)
    if x is None:
        x = _synthetic_speech(seconds)
    n = int(seconds * SR)
    x = np.resize(x, n) if len(x) < n else x[:n]
    scaled: Floats = (x / (np.max(np.abs(x)) + 1e-9) * SPEECH_PEAK).astype(np.float32)
    return scaled


def make_signal(
    seconds: float = 20.0, wav_path: str | None = None, period_s: float = CLICK_PERIOD_S
) -> tuple[Int16s, list[int]]:
    """Speech with a 30 ms 1 kHz click every period_s (speech gated around each click).

    Returns int16 mono 48 kHz samples and the click onsets (sample indices).
    """
    seconds = period_s * max(1, round(seconds / period_s))
    x = _speech_mono48k(seconds)
    period = int(period_s * SR)
    clicks = list(range(period // 2, len(x), period))
    n_click = int(CLICK_LEN_S * SR)
    tt = np.arange(n_click) / SR
    idx = np.arange(n_click)
    ramp = np.minimum(1.0, np.minimum(idx, n_click - 1 - idx) / 24.0)
    for c in clicks:
        x[max(0, c - int(GATE_BEFORE_S * SR)) : c + int(GATE_AFTER_S * SR)] = 0.0
        x[c : c + n_click] = CLICK_AMP * np.sin(2 * np.pi * CLICK_HZ * tt) * ramp
    pcm = np.clip(x * 32767, -32768, 32767).astype(np.int16)
    if wav_path:
        with wave.open(wav_path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes(pcm.tobytes())
    return pcm, clicks


ClickCallback = Callable[[float, int], None]


class ClickTrack(MediaStreamTrack):
    """Loops the signal in real time (20 ms frames) and reports each click's "mouth" time.

    Mouth time = time.monotonic() when the frame is handed to the encoder, plus the onset's
    offset inside the frame. CLOCK_MONOTONIC is system-wide on Linux, so other processes
    can compare their own monotonic timestamps with it.
    """

    kind = "audio"

    def __init__(self, pcm: Int16s, clicks: Sequence[int], on_click: ClickCallback) -> None:
        super().__init__()
        self._pcm = pcm
        self._clicks = list(clicks)
        self._on_click = on_click
        self._start: float | None = None
        self._ts = 0
        self._n = 0

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._ts += FRAME
            wait = self._start + self._ts / SR - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        length = len(self._pcm)
        pos = self._ts % length
        seg = self._pcm[pos : pos + FRAME]
        if len(seg) < FRAME:
            seg = np.concatenate([seg, self._pcm[: FRAME - len(seg)]])
        frame = av.AudioFrame.from_ndarray(seg.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SR
        frame.pts = self._ts
        frame.time_base = fractions.Fraction(1, SR)
        now = time.monotonic()
        for c in self._clicks:
            offset = (c - pos) % length
            if offset < FRAME:
                self._n += 1
                self._on_click(now + offset / SR, self._n)
        return frame


class ClickDetector:
    """Streaming 1 kHz onset detector over contiguous 48 kHz PCM.

    Complex demodulation at 1 kHz and a 1 ms boxcar (one cycle); an onset is where the
    envelope first crosses DETECT_THRESH, then nothing for a second.
    """

    WIDTH = 48

    def __init__(self) -> None:
        self.n = 0
        self.tail: npt.NDArray[np.complex128] = np.zeros(0, np.complex128)
        self.last_onset_n = -(10**9)
        self.kernel: Floats = np.full(self.WIDTH, 1.0 / self.WIDTH, np.float32)

    def feed(self, x: Floats) -> list[int]:
        """x: float samples in [-1, 1]. Returns onset offsets relative to x[0] (may be < 0)."""
        idx = self.n + np.arange(len(x))
        z = x * np.exp(-2j * np.pi * CLICK_HZ * idx / SR)
        zz = np.concatenate([self.tail, z])
        env = 2 * np.abs(np.convolve(zz, self.kernel, mode="valid"))
        base = self.n - len(self.tail)
        onsets: list[int] = []
        for k in np.nonzero(env > DETECT_THRESH)[0]:
            # env[k] is the window ending at zz[k + WIDTH - 1]; its centre ~ the onset.
            nn = int(base + k + self.WIDTH - 1 - self.WIDTH // 2)
            if nn - self.last_onset_n > REFRACTORY_SAMPLES:
                self.last_onset_n = nn
                onsets.append(nn - self.n)
        self.tail = zz[-(self.WIDTH - 1) :]
        self.n += len(x)
        return onsets


def frame_to_mono_float(frame: av.AudioFrame) -> Floats:
    """First channel of a decoded frame (packed or planar, s16 or float) as float32."""
    a = frame.to_ndarray()
    channels = frame.layout.nb_channels
    a = a.reshape(-1)[::channels] if a.shape[0] == 1 and channels > 1 else a[0]
    if a.dtype == np.int16:
        return (a.astype(np.float32) / 32768.0).astype(np.float32)
    return a.astype(np.float32)


# ----------------------------------------------------------------------------- receive side


class RxStats:
    """What one listener received; updated from the receive hook, read by the window."""

    __slots__ = (
        "bytes",
        "count",
        "cycles",
        "dec",
        "det",
        "err",
        "ext_first",
        "ext_max",
        "first_t",
        "last_seq",
        "onsets",
        "probe",
        "t_answer",
        "t_connected",
        "t_offer",
        "t_sched",
    )

    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0
        self.first_t: float | None = None
        self.ext_max: int | None = None
        self.ext_first: int | None = None
        self.cycles = 0
        self.last_seq: int | None = None
        self.t_sched: float | None = None
        self.t_offer: float | None = None
        self.t_answer: float | None = None
        self.t_connected: float | None = None
        self.probe = False
        self.dec: av.AudioCodecContext | None = None
        self.det: ClickDetector | None = None
        self.onsets: list[float] = []
        self.err: str | None = None

    def snapshot(self) -> tuple[int, int | None, int]:
        return (self.count, self.ext_max, self.bytes)

    def count_packet(self, packet: RtpPacket, now: float) -> None:
        self.count_seq(packet.sequence_number, len(packet.payload), now)

    def count_seq(self, seq: int, size: int, now: float) -> None:
        self.count += 1
        self.bytes += size
        if self.last_seq is None:
            self.first_t = now
            self.ext_first = self.ext_max = seq
        else:
            if seq < 0x4000 and self.last_seq > 0xC000:
                self.cycles += 1
            ext = self.cycles * 65536 + seq
            if self.ext_max is None or ext > self.ext_max:
                self.ext_max = ext
        self.last_seq = seq

    def decode_for_clicks(self, payload: bytes, now: float) -> None:
        if self.dec is None or self.det is None:
            codec = av.CodecContext.create("libopus", "r")
            assert isinstance(codec, av.AudioCodecContext)
            codec.format = "s16"
            codec.layout = "mono"
            codec.sample_rate = SR
            self.dec = codec
            self.det = ClickDetector()
        for frame in self.dec.decode(av.Packet(payload)):
            for offset in self.det.feed(frame_to_mono_float(frame)):
                self.onsets.append(now + offset / SR)


def install_rx_hook(receiver: RTCRtpReceiver, st: RxStats) -> None:
    """Replace aiortc's receive path (jitter buffer, decoder thread, frame queue) by a counter.

    Probe listeners also decode every packet in arrival order and timestamp click onsets at
    packet arrival (no client jitter buffer or playout in the latency).
    """

    async def hook(packet: RtpPacket, arrival_time_ms: int | None = None) -> None:
        now = time.monotonic()
        st.count_packet(packet, now)
        if st.probe and packet.payload:
            try:
                st.decode_for_clicks(packet.payload, now)
            except Exception as exc:  # keep counting even if decoding breaks
                st.err = repr(exc)

    setattr(receiver, "_handle_rtp_packet", hook)  # noqa: B010 (a private method)


def _is_rtp(data: bytes) -> bool:
    """RTP (not RTCP, STUN or DTLS), RFC 7983 demultiplexing + RFC 5761 RTCP types."""
    return len(data) >= 12 and 128 <= data[0] <= 191 and not 192 <= data[1] <= 223


def install_raw_counter(pc: RTCPeerConnection, st: RxStats) -> bool:
    """Count SRTP packets as they come off the socket, before aiortc sees them.

    The RTP header (sequence number) is not encrypted in SRTP, so a counting listener needs
    neither the SRTP unprotect nor aiortc's per-packet queue and task hops: this is what
    lets one process hold hundreds of listeners. STUN (ICE consent), DTLS and RTCP still go
    through aioice and aiortc as usual. Returns False when aiortc/aioice internals moved.
    """
    installed = False
    with contextlib.suppress(AttributeError, IndexError):
        for t in pc.getTransceivers():
            conn: Any = t.receiver.transport.transport._connection
            for proto in conn._protocols:
                original = proto.datagram_received

                def fast(data: bytes, addr: Any, original: Any = original) -> None:
                    if _is_rtp(data):
                        st.count_seq((data[2] << 8) | data[3], len(data), time.monotonic())
                    else:
                        original(data, addr)

                proto.datagram_received = fast
                installed = True
    return installed


# ----------------------------------------------------------------------------- /proc


def proc_cpu_s(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (all threads), or of one of its threads."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
    raw = Path(path).read_text()
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_field(pid: int, name: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return None


def proc_rss_mb(pid: int) -> float | None:
    kib = proc_status_field(pid, "VmRSS")
    return kib / 1024.0 if kib is not None else None


def proc_threads(pid: int) -> int | None:
    return proc_status_field(pid, "Threads")


def proc_fds(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return None


def sched_wait_s(pid: int, tid: int | None = None) -> float:
    """Seconds a process's threads (or one thread) spent runnable but waiting for a CPU."""
    tids = [tid] if tid is not None else [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    total = 0
    for t in tids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()[1])
    return total / 1e9


def cpu_pressure_s() -> float | None:
    """PSI: seconds (since boot) during which some runnable task waited for a CPU."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        return int(line.rsplit("total=", 1)[1]) / 1e6
    return None


def sys_cpu() -> tuple[int, int]:
    """(total jiffies, idle jiffies) of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]


def machine_busy_pct(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[0] - before[0]
    idle = after[1] - before[1]
    return 100.0 * (total - idle) / max(1, total)


def udp_errors() -> dict[str, int]:
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    d = dict(zip(rows[0][1:], map(int, rows[1][1:]), strict=True))
    return {k: d.get(k, 0) for k in ("RcvbufErrors", "InErrors", "SndbufErrors")}


def udp_rx_queues(ports: Sequence[int]) -> list[int]:
    """Bytes waiting unread in the kernel receive queues of the given local UDP ports."""
    want = set(ports)
    out: list[int] = []
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            p = line.split()
            if int(p[1].split(":")[1], 16) in want:
                out.append(int(p[4].split(":")[1], 16))
    return out


def pc_local_ports(pc: RTCPeerConnection) -> list[int]:
    """Local UDP ports of a peer's ICE sockets (reaches into aiortc/aioice internals)."""
    ports: list[int] = []
    with contextlib.suppress(Exception):
        for t in pc.getTransceivers():
            conn: Any = t.receiver.transport.transport._connection
            for proto in conn._protocols:
                ports.append(int(proto.transport.get_extra_info("sockname")[1]))
    return ports


def pct(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), p))


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def load_clicks(path: str) -> list[float]:
    """Mouth times (monotonic) the speaker wrote, one JSON object a line."""
    out: list[float] = []
    with contextlib.suppress(FileNotFoundError), open(path) as f:
        for line in f:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                out.append(float(json.loads(line)["t"]))
    return sorted(out)
