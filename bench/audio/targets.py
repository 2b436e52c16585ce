"""Signalling adapters: everything server-specific about joining lives here.

From ``../shared/bench/janus/targets.py`` (same Janus requests, same DTLS-role trick for
Streaming), typed, on httpx instead of aiohttp.

A target has:

    await t.start()                      open sessions / HTTP clients
    await t.prepare()                    one-off server-side set-up (e.g. rtp_forward)
    t_offer = await t.connect(pc, role)  role "speaker" (pc already has its sendonly track) or
                                         "listener" (the adapter adds a recvonly transceiver
                                         or answers a server offer); returns time.monotonic()
                                         when the offer was POSTed (or requested)
    await t.disconnect(pc)               hang up one peer
    await t.close()

Targets:
    janus-ab      Janus AudioBridge participant (speaker unmuted, listeners muted)
    janus-stream  Janus Streaming mountpoint viewer; its speaker is an AudioBridge participant
                  and prepare() adds an AudioBridge rtp_forward to the mountpoint's RTP port
    whip          POST application/sdp offer -> 201 answer + Location (WHIP for the speaker,
                  WHEP for listeners); DELETE Location on hang-up. Townhall speaks this.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import string
import time
from typing import Any, Protocol

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription

TARGETS = ("janus-ab", "janus-stream", "whip")
HTTP_TIMEOUT_S = 90.0
HTTP_CONNECTIONS = 64
KEEPALIVE_S = 4.0
"""Below uvicorn's 5 s keep-alive: a request must not race the server closing its connection."""


def _tx() -> str:
    return "".join(random.choices(string.ascii_letters, k=12))


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=HTTP_TIMEOUT_S,
        limits=httpx.Limits(
            max_connections=HTTP_CONNECTIONS,
            max_keepalive_connections=HTTP_CONNECTIONS,
            keepalive_expiry=KEEPALIVE_S,
        ),
    )


class Target(Protocol):
    async def start(self) -> None: ...
    async def prepare(self) -> None: ...
    async def connect(self, pc: RTCPeerConnection, role: str) -> float: ...
    async def disconnect(self, pc: RTCPeerConnection) -> None: ...
    async def close(self) -> None: ...


# ----------------------------------------------------------------------------- Janus


class JanusSession:
    """One Janus session over the REST transport, one handle per peer, and one long-poll
    task that hands asynchronous plugin replies to their waiters by transaction."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http: httpx.AsyncClient | None = None
        self.sid: int | None = None
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.poll_task: asyncio.Task[None] | None = None
        self.n_events = 0

    @property
    def client(self) -> httpx.AsyncClient:
        if self.http is None:
            raise RuntimeError("session not started")
        return self.http

    async def start(self) -> None:
        self.http = _http()
        r = await self._post(self.base, {"janus": "create"})
        self.sid = int(r["data"]["id"])
        self.poll_task = asyncio.create_task(self._poll())

    async def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        body.setdefault("transaction", _tx())
        resp = await self.client.post(url, json=body)
        out: dict[str, Any] = resp.json()
        return out

    async def _poll(self) -> None:
        url = f"{self.base}/{self.sid}?maxev=50"
        while True:
            try:
                resp = await self.client.get(url)
                evs = resp.json()
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(0.2)
                continue
            for ev in evs if isinstance(evs, list) else [evs]:
                self.n_events += 1
                fut = self.waiters.pop(str(ev.get("transaction")), None)
                if fut is not None and not fut.done():
                    fut.set_result(ev)
                # everything else (joined, webrtcup, media, hangup) is dropped

    async def attach(self, plugin: str) -> int:
        r = await self._post(f"{self.base}/{self.sid}", {"janus": "attach", "plugin": plugin})
        if r.get("janus") != "success":
            raise RuntimeError(f"attach failed: {r}")
        return int(r["data"]["id"])

    async def message(
        self,
        hid: int,
        body: dict[str, Any],
        jsep: dict[str, Any] | None = None,
        reply_timeout_s: float = 60.0,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(plugin data, jsep) of a synchronous or asynchronous plugin reply."""
        tx = _tx()
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiters[tx] = fut
        msg: dict[str, Any] = {"janus": "message", "transaction": tx, "body": body}
        if jsep:
            msg["jsep"] = jsep
        r = await self._post(f"{self.base}/{self.sid}/{hid}", msg)
        if r.get("janus") == "success":
            self.waiters.pop(tx, None)
            return dict(r["plugindata"]["data"]), r.get("jsep")
        if r.get("janus") != "ack":
            self.waiters.pop(tx, None)
            raise RuntimeError(f"janus error: {r}")
        ev = await asyncio.wait_for(fut, reply_timeout_s)
        if ev.get("janus") == "error":
            raise RuntimeError(f"janus error: {ev}")
        return dict(ev.get("plugindata", {}).get("data", {})), ev.get("jsep")

    async def detach(self, hid: int) -> None:
        try:
            await self._post(f"{self.base}/{self.sid}/{hid}", {"janus": "detach"})
        except Exception:  # best effort at teardown
            return

    async def close(self) -> None:
        if self.poll_task is not None:
            self.poll_task.cancel()
        if self.sid is not None and self.http is not None:
            with contextlib.suppress(Exception):  # best effort at teardown
                await self._post(f"{self.base}/{self.sid}", {"janus": "destroy"})
        if self.http is not None:
            await self.http.aclose()


class _JanusBase:
    def __init__(self, base: str, room: int) -> None:
        self.s = JanusSession(base)
        self.room = room
        self.handles: dict[int, int] = {}

    async def start(self) -> None:
        await self.s.start()

    async def prepare(self) -> None:
        return None

    async def disconnect(self, pc: RTCPeerConnection) -> None:
        hid = self.handles.pop(id(pc), None)
        if hid is not None:
            await self.s.detach(hid)

    async def close(self) -> None:
        await self.s.close()

    async def _ab_join(self, pc: RTCPeerConnection, display: str, muted: bool) -> float:
        hid = await self.s.attach("janus.plugin.audiobridge")
        self.handles[id(pc)] = hid
        await pc.setLocalDescription(await pc.createOffer())
        t_offer = time.monotonic()
        data, jsep = await self.s.message(
            hid,
            {"request": "join", "room": self.room, "display": display, "muted": muted},
            jsep={"type": "offer", "sdp": pc.localDescription.sdp, "trickle": False},
        )
        if data.get("audiobridge") != "joined" or not jsep:
            raise RuntimeError(f"join failed: {data}")
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], jsep["type"]))
        return t_offer


class JanusAudioBridge(_JanusBase):
    _n = itertools.count(1)

    async def connect(self, pc: RTCPeerConnection, role: str) -> float:
        if role == "listener":
            pc.addTransceiver("audio", direction="recvonly")
            return await self._ab_join(pc, f"listener-{next(self._n)}", True)
        return await self._ab_join(pc, "speaker", False)


class JanusStreaming(_JanusBase):
    def __init__(
        self, base: str, room: int, mountpoint: int, fwd_port: int, fwd_host: str = "127.0.0.1"
    ) -> None:
        super().__init__(base, room)
        self.mp = mountpoint
        self.fwd_host = fwd_host
        self.fwd_port = fwd_port
        self.fwd_pt = 111

    async def prepare(self) -> None:
        """Make the AudioBridge room forward its mix as plain RTP to the mountpoint's port."""
        hid = await self.s.attach("janus.plugin.audiobridge")
        data, _ = await self.s.message(hid, {"request": "listforwarders", "room": self.room})
        if not any(f.get("port") == self.fwd_port for f in data.get("rtp_forwarders", [])):
            data, _ = await self.s.message(
                hid,
                {
                    "request": "rtp_forward",
                    "room": self.room,
                    "host": self.fwd_host,
                    "port": self.fwd_port,
                    "codec": "opus",
                    "ptype": self.fwd_pt,
                    "always_on": True,
                },
            )
            if "stream_id" not in data:
                raise RuntimeError(f"rtp_forward failed: {data}")
        await self.s.detach(hid)

    async def connect(self, pc: RTCPeerConnection, role: str) -> float:
        if role != "listener":
            raise ValueError("janus-stream only hosts listeners; its speaker uses janus-ab")
        hid = await self.s.attach("janus.plugin.streaming")
        self.handles[id(pc)] = hid
        t_offer = time.monotonic()
        data, jsep = await self.s.message(hid, {"request": "watch", "id": self.mp})
        if not jsep:
            raise RuntimeError(f"watch failed: {data}")
        await pc.setRemoteDescription(RTCSessionDescription(jsep["sdp"], jsep["type"]))
        # Answer a=setup:passive, so Janus is the DTLS client and starts the handshake as
        # soon as ICE completes; with aiortc as the client its first ClientHello races
        # Janus' DTLS set-up and is lost, adding OpenSSL's 1 s retransmit to every join
        # (reference harness: join p50 ~1040 ms against ~40 ms).
        for t in pc.getTransceivers():
            t.receiver.transport._set_role("server")
        await pc.setLocalDescription(await pc.createAnswer())
        await self.s.message(
            hid,
            {"request": "start"},
            jsep={"type": "answer", "sdp": pc.localDescription.sdp, "trickle": False},
        )
        return t_offer


# ----------------------------------------------------------------------------- WHIP / WHEP


class WhipWhep:
    """Plain HTTP SDP exchange: POST application/sdp offer -> 201 + answer (+ Location)."""

    def __init__(
        self,
        whip_url: str | None,
        whep_url: str | None,
        token: str | None = None,
        listener_tokens: list[str] | None = None,
    ) -> None:
        self.urls = {"speaker": whip_url, "listener": whep_url}
        self.token = token
        self.listener_tokens = listener_tokens or []
        self.n_listeners = 0
        self.http: httpx.AsyncClient | None = None
        self.locations: dict[int, tuple[str, str | None]] = {}

    async def start(self) -> None:
        self.http = _http()

    async def prepare(self) -> None:
        return None

    def _token(self, role: str) -> str | None:
        if role == "listener" and self.listener_tokens:
            token = self.listener_tokens[self.n_listeners % len(self.listener_tokens)]
            self.n_listeners += 1
            return token
        return self.token

    async def connect(self, pc: RTCPeerConnection, role: str) -> float:
        if self.http is None:
            raise RuntimeError("target not started")
        url = self.urls[role]
        if not url:
            raise ValueError(f"no URL for the {role}: pass --whip-url / --whep-url")
        if role == "listener":
            pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        headers = {"Content-Type": "application/sdp"}
        token = self._token(role)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        t_offer = time.monotonic()
        r = await self.http.post(url, content=pc.localDescription.sdp, headers=headers)
        if r.status_code not in (200, 201):
            raise RuntimeError(f"{url}: HTTP {r.status_code}: {r.text[:200]}")
        location = r.headers.get("Location")
        if location:
            self.locations[id(pc)] = (str(httpx.URL(url).join(location)), token)
        await pc.setRemoteDescription(RTCSessionDescription(r.text, "answer"))
        return t_offer

    async def disconnect(self, pc: RTCPeerConnection) -> None:
        entry = self.locations.pop(id(pc), None)
        if entry is None or self.http is None:
            return
        location, token = entry
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            await self.http.delete(location, headers=headers)
        except httpx.HTTPError:
            return

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()


# ----------------------------------------------------------------------------- CLI glue


def add_target_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--target", default="whip", choices=TARGETS)
    ap.add_argument("--janus-url", default="http://127.0.0.1:8088/janus")
    ap.add_argument("--room", type=int, default=1234, help="Janus AudioBridge room")
    ap.add_argument("--mountpoint", type=int, default=1, help="Janus Streaming mountpoint")
    ap.add_argument(
        "--forward-port", type=int, default=5002, help="mountpoint RTP port (janus-stream)"
    )
    ap.add_argument("--whip-url", help="speaker ingest URL (target whip)")
    ap.add_argument("--whep-url", help="listener egress URL (target whip)")
    ap.add_argument("--token", help="bearer token of the speaker (and of listeners, unless below)")
    ap.add_argument(
        "--listener-tokens-file", help="one bearer token a line; listener i uses line i mod count"
    )


def make_target(a: argparse.Namespace, role: str) -> Target:
    if a.target == "janus-ab" or (a.target == "janus-stream" and role == "speaker"):
        return JanusAudioBridge(a.janus_url, a.room)
    if a.target == "janus-stream":
        return JanusStreaming(a.janus_url, a.room, a.mountpoint, a.forward_port)
    if a.target == "whip":
        tokens: list[str] = []
        if a.listener_tokens_file:
            with open(a.listener_tokens_file) as f:
                tokens = [line.strip() for line in f if line.strip()]
        return WhipWhep(a.whip_url, a.whep_url, a.token, tokens)
    raise ValueError(a.target)
