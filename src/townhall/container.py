"""The one place that builds and wires everything, for the server, the CLI and tests."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from townhall.api.errors import database_unavailable
from townhall.api.forwarding import forwarding_client
from townhall.captions.captioner import Caption
from townhall.captions.engine import ModelUnavailable, check_model_dir
from townhall.captions.pool import CaptionPool
from townhall.config import Settings
from townhall.domain.errors import DomainError
from townhall.domain.messages import MESSAGES_PER_MINUTE, MESSAGES_PER_MINUTE_PER_ADDRESS
from townhall.ids import IdGenerator
from townhall.media.service import CaptionWiring, MediaElsewhere, MediaService
from townhall.realtime.bus import EventBus
from townhall.realtime.factory import create_bus
from townhall.realtime.reaction_batcher import ReactionBatcher
from townhall.realtime.redis_rate_limits import SharedRateLimits
from townhall.realtime.user_sockets import UserSockets
from townhall.services import (
    captions,
    media_access,
    polls,
    recordings,
    space_log,
    space_stage,
    spaces,
)
from townhall.services.context import ServiceContext
from townhall.services.expiring_cache import ExpiringCache
from townhall.services.json import format_time
from townhall.services.media_leases import held_elsewhere
from townhall.services.media_owner import MediaOwnership
from townhall.services.passwords import PasswordHasher
from townhall.services.presence_sync import PresenceSync
from townhall.services.ratelimit import NamedRateLimits, RateLimitCounter, SlidingWindowLimiter
from townhall.services.reaction_permits import PermitWatcher, ReactionPermits
from townhall.services.session_sync import SessionSync
from townhall.services.space_log import space_channel
from townhall.services.space_presence import SpacePresence
from townhall.storage.database import create_database_engine, create_writer_gate
from townhall.storage.migrate import upgrade_to_head
from townhall.storage.uow import UnitOfWorkFactory
from townhall.types import UserId

log = logging.getLogger("townhall")

LOGIN_FAILURE_WINDOW_S = 60.0
POLL_CHECK_INTERVAL_S = 1.0
RECORDING_SWEEP_INTERVAL_S = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    bus: EventBus
    services: ServiceContext
    reactions: ReactionBatcher
    presence: SpacePresence = field(init=False)
    permit_watcher: PermitWatcher = field(init=False)
    media: MediaService = field(init=False)
    caption_pool: CaptionPool | None = field(init=False)
    ownership: MediaOwnership | None = field(init=False)
    """With several nodes: which node owns each live Space's media."""
    presence_sync: PresenceSync | None = field(init=False)
    user_sockets: UserSockets = field(init=False)
    """This node's Space sockets by user: a suspension closes them."""
    session_sync: SessionSync = field(init=False)
    """Logouts and suspensions from any node, applied to this node's token cache."""
    forwarder: httpx.AsyncClient = field(init=False)
    _timers: list["asyncio.Task[None]"] = field(default_factory=list)
    _deliveries: set["asyncio.Future[None]"] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.caption_pool = _caption_pool(self.settings)
        self.permit_watcher = PermitWatcher(self.bus, self.services.reaction_permits, space_channel)
        several = self.settings.several_nodes
        self.ownership = MediaOwnership(self.services) if several else None
        self.presence_sync = PresenceSync(self.bus) if several else None
        self.forwarder = forwarding_client()
        self.user_sockets = UserSockets()
        self.session_sync = SessionSync(self.bus, self.services.tokens, self.user_sockets.close_all)
        self.presence = SpacePresence(
            self._someone_gone,
            self.settings.participant_grace_s,
            self.settings.host_grace_s,
            announce=self.presence_sync.announce if self.presence_sync else None,
        )
        self.media = MediaService(
            self.bus,
            publish_grant=self._grant(media_access.check_publish),
            listen_grant=lambda user_id, space_id: media_access.check_listen(
                self.services, UserId(user_id), space_id
            ),
            make_frame=lambda kind, space_id, data: space_log.frame(
                kind, space_id, None, utc_now(), data
            ),
            channel_for=space_channel,
            hls_root=self.settings.hls_dir,
            ice_servers=self.settings.ice_servers,
            host_addresses=self.settings.rtc_host_addresses,
            listener_cap=self.settings.webrtc_listener_cap,
            recorded=lambda space_id: run_in_threadpool(
                recordings.do_begin_recording, self.services, space_id
            ),
            on_moments=lambda space_id, moments: run_in_threadpool(
                recordings.do_store_moments, self.services, space_id, moments
            ),
            on_room_closed=self._room_closed,
            captions=self._caption_wiring(),
            claim=self.ownership.claim if self.ownership else None,
            release=self.ownership.release if self.ownership else None,
            locate=self.ownership.locate if self.ownership else None,
        )

    async def _room_closed(self, space_id: int, recorded: bool) -> None:
        if recorded:
            await run_in_threadpool(recordings.do_finish_recording, self.services, space_id)

    def _caption_wiring(self) -> CaptionWiring | None:
        if self.caption_pool is None:
            return None

        async def state_of(space_id: int) -> tuple[bool, float | None]:
            enabled, started_at = await run_in_threadpool(
                captions.captions_state, self.services, space_id
            )
            return enabled, started_at.timestamp() if started_at is not None else None

        return CaptionWiring(self.caption_pool, state_of, self._deliver_caption)

    def _deliver_caption(self, space_id: int, caption: Caption) -> None:
        """Interim captions go straight out (ephemeral); finals are stored first, with a seq."""
        if caption.final:
            delivery = run_in_threadpool(
                captions.do_record_caption,
                self.services,
                space_id,
                caption.user_id,
                caption.text,
                caption.offset_ms,
                caption.duration_ms,
            )
        else:
            message = space_log.frame(
                "caption",
                space_id,
                None,
                utc_now(),
                {
                    "user_id": str(caption.user_id),
                    "text": caption.text,
                    "final": False,
                    "offset_ms": caption.offset_ms,
                },
            )
            delivery = self.bus.publish(space_channel(space_id), message)
        task = asyncio.ensure_future(delivery)
        self._deliveries.add(task)
        task.add_done_callback(self._delivered)

    def _delivered(self, task: "asyncio.Future[None]") -> None:
        self._deliveries.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a caption could not be delivered", exc_info=task.exception())

    def _grant(
        self, check: Callable[[ServiceContext, UserId, int], media_access.MediaGrant]
    ) -> Callable[[int, int], Awaitable[media_access.MediaGrant]]:
        async def grant(user_id: int, space_id: int) -> media_access.MediaGrant:
            return await run_in_threadpool(check, self.services, UserId(user_id), space_id)

        return grant

    async def start(self) -> None:
        await self.bus.start()
        self.session_sync.start()
        await self.reactions.start()
        await self.permit_watcher.start()
        self._timers.append(asyncio.create_task(self._close_due_polls(), name="poll-closer"))
        # Other nodes' live Spaces are theirs: their recordings are not this node's to close.
        elsewhere = (
            await run_in_threadpool(held_elsewhere, self.services) if self.ownership else set()
        )
        # Before anyone reconnects: recordings a crash interrupted are closed and playable.
        recovered = await run_in_threadpool(
            recordings.do_recover_recordings, self.services, elsewhere
        )
        if recovered:
            log.info("looked at %d recordings left open by the last run", recovered)
        # A recording runs as long as its Space: one still live goes on, in a new epoch.
        for space_id in await run_in_threadpool(recordings.live_recordings, self.services):
            if space_id in elsewhere:
                continue
            with contextlib.suppress(MediaElsewhere):
                await self.media.open_room(space_id)
        if self.ownership is not None:
            self.ownership.start(
                adopt=self._adopt, drop=self.media.close_room, taken_over=self._taken_over
            )
        if self.presence_sync is not None:
            self.presence_sync.start(self.presence)
        self._timers.append(asyncio.create_task(self._sweep_recordings(), name="recordings"))
        if self.caption_pool is not None and self.settings.captions_preload:
            # In the background: the workers take seconds to load the model; a model that
            # will not load is reported in the log and captions turn off.
            self._timers.append(asyncio.create_task(self._preload_captions(), name="captions"))
        # Connections do not survive a restart: whoever does not reconnect in time is gone.
        present = await run_in_threadpool(space_stage.present_in_live_spaces, self.services)
        for space_id, user_id, is_host in present:
            self.presence.expect(space_id, user_id, is_host)
        if present:
            log.info("waiting for %d people in live Spaces to reconnect", len(present))
        if self.presence_sync is not None:
            for space_id in {space_id for space_id, _, _ in present}:
                self.presence_sync.ask(space_id)  # whoever is on another node is not missing

    async def _adopt(self, space_id: int) -> None:
        """A live Space whose media node died opens here, a recording going on in a new
        epoch, whether or not a client asked for it yet."""
        with contextlib.suppress(MediaElsewhere):
            await self.media.open_room(space_id)

    async def _taken_over(self, space_id: int) -> None:
        """Clients are told to reconnect, and whoever was connected only through the dead
        node gets the usual grace to come back."""
        message = space_log.frame(
            "media.moved", space_id, None, utc_now(), {"node_id": self.settings.node_id}
        )
        await self.bus.publish(space_channel(space_id), message)
        present = await run_in_threadpool(space_stage.present_in_live_spaces, self.services)
        for present_space, user_id, is_host in present:
            if present_space == space_id:
                self.presence.expect(space_id, user_id, is_host)
        if self.presence_sync is not None:
            self.presence_sync.ask(space_id)

    async def stop(self) -> None:
        for task in self._timers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._timers.clear()
        if self.ownership is not None:
            await self.ownership.close()
        if self.presence_sync is not None:
            await self.presence_sync.close()
        self.presence.close()
        await self.media.close()
        await self.forwarder.aclose()
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        if self.caption_pool is not None:
            await asyncio.to_thread(self.caption_pool.close)
        await self.reactions.close()
        await self.permit_watcher.close()
        await self.session_sync.close()
        await self.bus.close()
        await self.services.rate_limits.close()
        self.engine.dispose()

    async def _preload_captions(self) -> None:
        assert self.caption_pool is not None
        await self.caption_pool.warm_up()
        if self.caption_pool.ready:
            log.info("captions: %d worker(s) ready", self.caption_pool.workers)

    async def _close_due_polls(self) -> None:
        while True:
            await asyncio.sleep(POLL_CHECK_INTERVAL_S)
            try:
                await run_in_threadpool(polls.do_close_due_polls, self.services)
            except Exception as exc:
                _log_loop_failure("closing due polls", exc)

    async def _sweep_recordings(self) -> None:
        while True:
            await asyncio.sleep(RECORDING_SWEEP_INTERVAL_S)
            try:
                open_rooms = {
                    space_id
                    for space_id in list(self.media.open_room_ids())
                    if self.media.is_recording(space_id)
                }
                await run_in_threadpool(recordings.do_sweep, self.services, open_rooms)
            except Exception as exc:
                _log_loop_failure("sweeping recordings", exc)

    async def _someone_gone(self, space_id: int, user_id: int, is_host: bool) -> None:
        try:
            if is_host:
                await run_in_threadpool(spaces.do_end_for_host_timeout, self.services, space_id)
            else:
                await run_in_threadpool(
                    space_stage.do_leave, self.services, UserId(user_id), space_id
                )
        except DomainError as exc:
            log.info("space %s: %s already gone (%s)", space_id, user_id, exc.message)


def _log_loop_failure(what: str, exc: Exception) -> None:
    """A periodic job that fails: a database that is down gets one line a round (the next
    round tries again), anything else its traceback."""
    if database_unavailable(exc):
        log.warning("%s: the database is unavailable, trying again: %s", what, type(exc).__name__)
    else:
        log.error("%s failed", what, exc_info=exc)


def _caption_pool(settings: Settings) -> CaptionPool | None:
    """Checks the captions model at start: a missing or broken one is said here, plainly,
    and the server runs on without captions."""
    try:
        model_dir = check_model_dir(settings.captions_model)
    except ModelUnavailable as exc:
        log.error("captions are off: %s. Spaces work without captions.", exc)
        return None
    log.info("captions: model %s, %d worker process(es)", model_dir, settings.captions_workers)
    return CaptionPool(model_dir, settings.captions_workers)


def _rate_limits(settings: Settings) -> RateLimitCounter:
    """Several nodes share each allowance through Redis; one node counts in memory."""
    if settings.several_nodes:
        return SharedRateLimits(settings.rate_limits, settings.redis_url)
    return NamedRateLimits(settings.rate_limits)


def build_container(settings: Settings, migrate: bool = True) -> Container:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(
        settings.effective_database_url, busy_timeout_ms=int(settings.db_write_wait_s * 1000)
    )
    if migrate:
        upgrade_to_head(engine)
        log.info("database ready: %s", engine.url.render_as_string(hide_password=True))
    bus = create_bus(settings.redis_url)
    services = ServiceContext(
        settings=settings,
        uow=UnitOfWorkFactory(
            engine,
            bus.publish_threadsafe,
            create_writer_gate(engine, settings.db_max_waiting_writers, settings.db_write_wait_s),
        ),
        ids=IdGenerator(settings.node_id),
        clock=utc_now,
        passwords=PasswordHasher(settings.password_time_cost, settings.password_memory_kib),
        login_failures=SlidingWindowLimiter(
            settings.login_failures_per_minute, LOGIN_FAILURE_WINDOW_S
        ),
        rate_limits=_rate_limits(settings),
        tokens=ExpiringCache(settings.token_cache_s),
        reaction_permits=ReactionPermits(),
        message_limiter=SlidingWindowLimiter(MESSAGES_PER_MINUTE, 60.0),
        message_address_limiter=SlidingWindowLimiter(MESSAGES_PER_MINUTE_PER_ADDRESS, 60.0),
    )
    reactions = ReactionBatcher(bus, space_channel, format_time)
    return Container(
        settings=settings, engine=engine, bus=bus, services=services, reactions=reactions
    )
