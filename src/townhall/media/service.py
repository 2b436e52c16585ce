"""WebRTC sessions of every live Space on this node, and the rooms that mix them.

```
 publish(offer) ─ grant? ─> RTCPeerConnection ─ remote track ─> pump_into_mixer ─> LiveRoom
                                 <─ mix-minus track (PcmTrack) ────────────────────┘
 listen(offer)  ─ grant? ─> RTCPeerConnection (ParkedTrack) <─ Fanout (one loop) ─ LiveRoom
 space:{id} events ─> watcher: mute/unmute -> mixer; demoted/removed/left -> close sessions;
                               space.ended -> close the room and every session;
                               a recorded room's reactions and `speaking` -> on_moments
```
A recorded Space's room opens when the Space goes live and stays open (mixing silence if
need be) until it ends, so the recording's clock is the Space's.
The server enforces mute and removal itself: it stops mixing a muted speaker's audio
within one tick of the event, whatever their browser keeps sending.
"""

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from townhall.captions.captioner import Caption, SpaceCaptions
from townhall.captions.pool import CaptionPool
from townhall.config import IceServer
from townhall.domain.errors import DomainError, NotFound
from townhall.media.fanout import FanoutListener, ParkedTrack
from townhall.media.hls import HlsWriter
from townhall.media.ingest import pump_into_mixer, tune_receive_latency
from townhall.media.peers import (
    HostAddresses,
    PeerFactory,
    restore_host_addresses,
    use_host_addresses,
)
from townhall.media.room import LiveRoom
from townhall.media.sdp import BadSdp, check_offer
from townhall.media.tracks import PcmTrack
from townhall.realtime.bus import EventBus

log = logging.getLogger("townhall.media")

Grant = Callable[[int, int], Awaitable[Any]]
"""(user_id, space_id) -> a grant with `.muted`, or raises a DomainError."""
Frame = Callable[[str, int, dict[str, Any]], dict[str, Any]]
Recorded = Callable[[int], Awaitable[bool]]
"""space_id -> whether its audio is to be kept: asked when a room opens."""
Moment = tuple[str, str, dict[str, Any]]
"""(type, at, data) of an ephemeral event a replay shows: reactions, who was speaking."""
OnMoments = Callable[[int, list[Moment]], Awaitable[None]]
OnRoomClosed = Callable[[int, bool], Awaitable[None]]
"""(space_id, recorded) once the room's files are final."""
MOMENT_TYPES = frozenset({"speaking", "reaction", "reactions"})
MOMENT_FLUSH_S = 1.0
MOMENTS_KEPT_UNSAVED = 20_000
"""Moments kept for the next flush while they cannot be saved (the database down): about
20 minutes of a busy Space; older ones beyond that are dropped, and the log says so."""
ROOM_IDLE_S = 30.0
"""How long a room with no connections keeps mixing before it closes (reloads come back)."""


@dataclass(frozen=True)
class CaptionWiring:
    """What the media layer needs to caption Spaces, when this node can."""

    pool: CaptionPool
    state_of: Callable[[int], Awaitable[tuple[bool, float | None]]]
    """space_id -> (captions on, Unix time the Space went live)."""
    deliver: Callable[[int, Caption], None]
    """(space_id, caption): publish an interim caption, store and publish a final one."""


class WebRtcFull(Exception):
    """This Space has as many WebRTC listeners as the node takes: listen over HLS instead."""

    code = "webrtc_full"

    def __init__(self, space_id: int) -> None:
        super().__init__("This Space is full for live WebRTC audio: listen over HLS instead.")
        self.hls_url = f"/spaces/{space_id}/hls/index.m3u8"


class MediaElsewhere(Exception):
    """Another node owns this Space's media: signalling goes to `owner_url`."""

    def __init__(self, space_id: int, owner_url: str) -> None:
        super().__init__(f"space {space_id}'s media is on {owner_url}")
        self.space_id = space_id
        self.owner_url = owner_url


Claim = Callable[[int], Awaitable[str | None]]
"""space_id -> None when this node may open the room, else the owning node's URL."""
Release = Callable[[int], Awaitable[None]]


@dataclass
class PeerSession:
    id: str
    space_id: int
    user_id: int
    kind: str
    pc: RTCPeerConnection
    tasks: list["asyncio.Task[None]"] = field(default_factory=list)
    listener: FanoutListener | None = None
    ears: PcmTrack | None = None
    closed: bool = False
    closing: "asyncio.Future[None] | None" = None
    """The close under way or done: whoever else closes the session waits for it."""
    negotiated: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the offer is answered or refused: the peer connection may close from then."""


class MediaService:
    def __init__(
        self,
        bus: EventBus,
        publish_grant: Grant,
        listen_grant: Grant,
        make_frame: Frame,
        channel_for: Callable[[int], str],
        hls_root: Path | None = None,
        ice_servers: tuple[IceServer, ...] = (),
        listener_cap: int | None = None,
        host_addresses: tuple[str, ...] = (),
        recorded: Recorded | None = None,
        on_moments: OnMoments | None = None,
        on_room_closed: OnRoomClosed | None = None,
        captions: CaptionWiring | None = None,
        claim: Claim | None = None,
        release: Release | None = None,
        locate: Claim | None = None,
    ) -> None:
        self._locate = locate
        self._captions = captions
        self._claim = claim
        self._release = release
        self._hls_root = hls_root
        self._recorded = recorded
        self._on_moments = on_moments
        self._on_room_closed = on_room_closed
        self._recording_rooms: set[int] = set()
        self._moments: dict[int, list[Moment]] = {}
        self.host_addresses = HostAddresses(host_addresses)
        use_host_addresses(self.host_addresses)
        self._peers = PeerFactory()
        self.ice_servers = ice_servers
        self.listener_cap = listener_cap
        """WebRTC listeners per Space; None: no cap."""
        self._bus = bus
        self._publish_grant = publish_grant
        self._listen_grant = listen_grant
        self._make_frame = make_frame
        self._channel_for = channel_for
        self._rooms: dict[int, LiveRoom] = {}
        self._watchers: dict[int, asyncio.Task[None]] = {}
        self._sessions: dict[str, PeerSession] = {}
        self._closing: set[asyncio.Future[None]] = set()
        """Sessions being closed (no longer in `_sessions`): `close` waits for them."""
        self._idle_timers: dict[int, asyncio.TimerHandle] = {}
        self._background: set[asyncio.Future[None]] = set()
        self.room_idle_s = ROOM_IDLE_S

    # Rooms ------------------------------------------------------------------------------

    def room(self, space_id: int) -> LiveRoom | None:
        return self._rooms.get(space_id)

    def open_room_ids(self) -> list[int]:
        return list(self._rooms)

    def is_recording(self, space_id: int) -> bool:
        return space_id in self._recording_rooms

    async def open_room(self, space_id: int) -> LiveRoom:
        """Opens the room (if it is not open), recording it if the Space says so.

        Raises MediaElsewhere when another node owns the Space's media."""
        timer = self._idle_timers.pop(space_id, None)
        if timer is not None:
            timer.cancel()
        room = self._rooms.get(space_id)
        if room is not None:
            return room
        if self._claim is not None:
            owner_url = await self._claim(space_id)
            if owner_url is not None:
                raise MediaElsewhere(space_id, owner_url)
            room = self._rooms.get(space_id)  # opened while we asked
            if room is not None:
                return room
        record = self._recorded is not None and await self._recorded(space_id)
        return self._ensure_room(space_id, record)

    def _ensure_room(self, space_id: int, record: bool = False) -> LiveRoom:
        timer = self._idle_timers.pop(space_id, None)
        if timer is not None:
            timer.cancel()
        room = self._rooms.get(space_id)
        if room is None:
            record = record and self._hls_root is not None
            hls = (
                HlsWriter(self._hls_root / str(space_id), record=record) if self._hls_root else None
            )
            if record:
                self._recording_rooms.add(space_id)
                self._moments[space_id] = []
            room = LiveRoom(
                space_id, lambda user_id, level: self._speaking(space_id, user_id, level), hls
            )
            self._rooms[space_id] = room
            if self._captions is not None:
                self._attach_captions(room, self._captions)
            room.start()
            subscription = self._bus.subscribe(self._channel_for(space_id))
            self._watchers[space_id] = asyncio.create_task(
                self._watch(space_id, subscription), name=f"media-watch-{space_id}"
            )
            if record:
                task = asyncio.create_task(
                    self._flush_moments_every(space_id), name=f"moments-{space_id}"
                )
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            log.info("space %s: audio room opened%s", space_id, " (recording)" if record else "")
        return room

    async def _flush_moments_every(self, space_id: int) -> None:
        while space_id in self._recording_rooms:
            await asyncio.sleep(MOMENT_FLUSH_S)
            await self._flush_moments(space_id)

    async def _flush_moments(self, space_id: int) -> None:
        batch = self._moments.get(space_id)
        if not batch or self._on_moments is None:
            return
        self._moments[space_id] = []
        try:
            await self._on_moments(space_id, batch)
        except Exception as exc:
            pending = self._moments.get(space_id)
            if pending is None:  # the room closed meanwhile: nothing will flush them
                log.exception("space %s: %d replay moments lost", space_id, len(batch))
                return
            # Kept for the next flush, so a database that is down a while loses nothing.
            kept = batch + pending
            dropped = len(kept) - MOMENTS_KEPT_UNSAVED
            if dropped > 0:
                log.error("space %s: %d replay moments lost (kept too long)", space_id, dropped)
                kept = kept[dropped:]
            self._moments[space_id] = kept
            log.warning(
                "space %s: %d replay moments not saved yet, trying again: %s",
                space_id,
                len(kept),
                type(exc).__name__,
            )

    def _attach_captions(self, room: LiveRoom, wiring: CaptionWiring) -> None:
        space_id = room.space_id
        captions = SpaceCaptions(
            wiring.pool, lambda caption: wiring.deliver(space_id, caption), room.mixer.is_muted
        )
        room.captions = captions

        async def configure() -> None:
            try:
                enabled, origin_s = await wiring.state_of(space_id)
            except Exception:
                log.exception("space %s: cannot tell whether captions are on", space_id)
                return
            captions.configure(enabled, origin_s)

        task = asyncio.ensure_future(configure())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _speaking(self, space_id: int, user_id: int, level: float) -> None:
        message = self._make_frame(
            "speaking", space_id, {"user_id": str(user_id), "level": round(level, 1)}
        )
        asyncio.get_running_loop().create_task(
            self._bus.publish(self._channel_for(space_id), message)
        )

    async def _watch(self, space_id: int, subscription: Any) -> None:
        with subscription:
            async for message in subscription:
                try:
                    await self._apply(space_id, message)
                except Exception:
                    log.exception("space %s: applying %s failed", space_id, message.get("type"))
                if self._watchers.get(space_id) is not asyncio.current_task():
                    return  # the room closed (on space.ended, by this watcher itself)

    async def _apply(self, space_id: int, message: dict[str, Any]) -> None:
        kind = message.get("type")
        data = message.get("data") or {}
        room = self._rooms.get(space_id)
        if room is None:
            return
        if kind in MOMENT_TYPES:
            moments = self._moments.get(space_id)
            if moments is not None:
                moments.append((str(kind), str(message.get("at")), dict(data)))
            return
        if kind == "space.ended":
            await self.close_room(space_id)
            return
        space = data.get("space")
        captions = room.captions
        if kind == "space.updated" and captions and isinstance(space, dict) and "captions" in space:
            captions.configure(bool(space["captions"]), None)
        user_id = int(data["user_id"]) if "user_id" in data else None
        if user_id is None:
            return
        if kind == "participant.muted":
            room.mixer.set_muted(user_id, True)
        elif kind == "participant.unmuted":
            room.mixer.set_muted(user_id, False)
        elif kind == "participant.role_changed" and data.get("role") == "listener":
            await self._close_user(space_id, user_id, kinds={"publish"})
        elif kind in ("participant.removed", "participant.left"):
            await self._close_user(space_id, user_id, kinds={"publish", "listen"})

    def _close_when_idle(self, space_id: int) -> None:
        """A room nobody is connected to stops mixing and encoding after a while (unless it
        is recording: the recording runs as long as the Space)."""
        if space_id in self._idle_timers or space_id in self._recording_rooms:
            return

        def expire() -> None:
            self._idle_timers.pop(space_id, None)
            if not any(s.space_id == space_id for s in self._sessions.values()):
                task = asyncio.ensure_future(self.close_room(space_id))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

        self._idle_timers[space_id] = asyncio.get_running_loop().call_later(
            self.room_idle_s, expire
        )

    async def close_room(self, space_id: int) -> None:
        timer = self._idle_timers.pop(space_id, None)
        if timer is not None:
            timer.cancel()
        await self._close_user(space_id, None, kinds={"publish", "listen"})
        room = self._rooms.pop(space_id, None)
        watcher = self._watchers.pop(space_id, None)
        if watcher is not None and watcher is not asyncio.current_task():
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if room is not None:
            await room.close()
            log.info("space %s: audio room closed", space_id)
        recorded = space_id in self._recording_rooms
        if recorded:
            await self._flush_moments(space_id)
            self._recording_rooms.discard(space_id)
            unsaved = self._moments.pop(space_id, None)
            if unsaved:
                log.error("space %s: %d replay moments lost", space_id, len(unsaved))
        if room is not None and self._release is not None:
            await self._release(space_id)
        if room is not None and self._on_room_closed is not None:
            try:
                await self._on_room_closed(space_id, recorded)
            except Exception:
                log.exception("space %s: after closing the room", space_id)

    # Sessions ---------------------------------------------------------------------------

    async def publish(self, space_id: int, user_id: int, offer_sdp: str) -> tuple[str, str]:
        # Who may publish first: someone not allowed learns nothing from how their body parses.
        grant = await self._publish_grant(user_id, space_id)
        check_offer(offer_sdp)
        await self._close_user(space_id, user_id, kinds={"publish"})  # a reconnect replaces
        room = await self.open_room(space_id)
        session = self._new_session(space_id, user_id, "publish")

        @session.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind != "audio" or session.closed:
                return
            session.tasks.append(
                asyncio.create_task(
                    pump_into_mixer(track, room.mixer, user_id, tap=room.caption_tap)
                )
            )

        await self._negotiate(
            session, offer_sdp, before_answer=lambda: self._attach_ears(session, room)
        )
        room.mixer.add_speaker(user_id)
        room.mixer.set_muted(user_id, bool(grant.muted))
        log.info("space %s: %s publishing (session %s)", space_id, user_id, session.id)
        return session.id, session.pc.localDescription.sdp

    def _attach_ears(self, session: PeerSession, room: LiveRoom) -> None:
        for receiver in session.pc.getReceivers():
            tune_receive_latency(receiver)
        session.ears = room.add_speaker_ears(session.user_id)
        session.pc.addTrack(session.ears)

    async def listen(self, space_id: int, user_id: int, offer_sdp: str) -> tuple[str, str]:
        await self._listen_grant(user_id, space_id)
        check_offer(offer_sdp)
        if self.listener_cap is not None:
            current = self._rooms.get(space_id)
            if self.listener_cap <= (current.listener_count if current else 0):
                raise WebRtcFull(space_id)
        room = await self.open_room(space_id)
        session = self._new_session(space_id, user_id, "listen")

        def attach() -> None:
            session.pc.addTrack(ParkedTrack())
            session.listener = room.add_listener(session.pc)

        await self._negotiate(session, offer_sdp, before_answer=attach)
        return session.id, session.pc.localDescription.sdp

    def _rtc_ice_servers(self) -> list[RTCIceServer]:
        return [
            RTCIceServer(
                urls=list(server.urls), username=server.username, credential=server.credential
            )
            for server in self.ice_servers
        ]

    def _new_session(self, space_id: int, user_id: int, kind: str) -> PeerSession:
        pc = self._peers.new_peer(RTCConfiguration(iceServers=self._rtc_ice_servers()))
        session = PeerSession(secrets.token_urlsafe(16), space_id, user_id, kind, pc)
        self._sessions[session.id] = session

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._close_session(session)

        return session

    async def _negotiate(
        self, session: PeerSession, offer_sdp: str, before_answer: Callable[[], None]
    ) -> None:
        try:
            try:
                await session.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
                before_answer()
                answer = await session.pc.createAnswer()
                await session.pc.setLocalDescription(answer)
            finally:
                session.negotiated.set()
        except DomainError:
            await self._close_session(session)
            raise
        except Exception as exc:
            await self._close_session(session)
            raise BadSdp(
                f"Could not use that offer: {str(exc)[:200] or type(exc).__name__}"
            ) from exc

    async def hang_up(self, space_id: int, session_id: str, user_id: int) -> None:
        session = self._sessions.get(session_id)
        if session is None and space_id not in self._rooms and self._locate is not None:
            owner_url = await self._locate(space_id)
            if owner_url is not None:
                raise MediaElsewhere(space_id, owner_url)
        if session is None or session.space_id != space_id or session.user_id != user_id:
            raise NotFound("No such session.", code="session_not_found")
        await self._close_session(session)

    async def _close_user(self, space_id: int, user_id: int | None, kinds: set[str]) -> None:
        for session in list(self._sessions.values()):
            if session.space_id != space_id or session.kind not in kinds:
                continue
            if user_id is None or session.user_id == user_id:
                await self._close_session(session)

    async def _close_session(self, session: PeerSession) -> None:
        """Closes the session once; whoever comes while it is closing waits until it is closed.

        The close runs in a task of its own, shielded: a caller cancelled meanwhile (a request
        dropped, the loop shutting down) does not leave the peer connection half closed with
        its UDP sockets open, and `close` waits for every close under way."""
        if session.closing is None:
            session.closed = True
            self._sessions.pop(session.id, None)
            closing = session.closing = asyncio.ensure_future(self._finish_session(session))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        await asyncio.shield(session.closing)

    async def _finish_session(self, session: PeerSession) -> None:
        try:
            # aioice keeps the sockets it gathers for an answer even when the connection was
            # closed meanwhile, and nothing would close them: the close waits for the answer
            # (and so does leaving the room, which making the answer may have joined).
            await session.negotiated.wait()
            self._detach_session(session)
            for task in session.tasks:
                task.cancel()
            for task in session.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        finally:
            await session.pc.close()
        log.info(
            "space %s: %s session %s of %s closed",
            session.space_id,
            session.kind,
            session.id,
            session.user_id,
        )

    def _detach_session(self, session: PeerSession) -> None:
        room = self._rooms.get(session.space_id)
        if room is not None:
            if not any(s.space_id == session.space_id for s in self._sessions.values()):
                self._close_when_idle(session.space_id)
            if session.listener is not None:
                room.remove_listener(session.listener)
            if session.ears is not None:
                room.remove_speaker_ears(session.user_id, session.ears)
            if session.kind == "publish" and not self._has_session(
                session.user_id, session.space_id, "publish"
            ):
                room.mixer.remove_speaker(session.user_id)
                if room.captions is not None:
                    room.captions.remove_speaker(session.user_id)

    def _has_session(self, user_id: int, space_id: int, kind: str) -> bool:
        return any(
            s.user_id == user_id and s.space_id == space_id and s.kind == kind
            for s in self._sessions.values()
        )

    def session_count(self, space_id: int | None = None) -> int:
        return sum(1 for s in self._sessions.values() if space_id is None or s.space_id == space_id)

    async def close(self) -> None:
        """Closes every room and every peer connection, those already closing included: a
        server that stops leaves no UDP socket of a peer open behind it."""
        for timer in self._idle_timers.values():
            timer.cancel()
        self._idle_timers.clear()
        for space_id in list(self._rooms):
            try:
                await self.close_room(space_id)
            except Exception:
                log.exception("space %s: closing the room on shutdown failed", space_id)
        for session in list(self._sessions.values()):
            try:
                await self._close_session(session)
            except Exception:
                log.exception("space %s: closing session %s failed", session.space_id, session.id)
        # Closes begun elsewhere (a hang-up, a failed connection) before these were closed.
        while self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        for timer in self._idle_timers.values():  # set again as the sessions closed
            timer.cancel()
        self._idle_timers.clear()
        restore_host_addresses(self.host_addresses)
