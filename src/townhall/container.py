"""The one place that builds and wires everything, for the server, the CLI and tests."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from townhall.config import Settings
from townhall.ids import IdGenerator
from townhall.realtime.bus import EventBus
from townhall.realtime.factory import create_bus
from townhall.services.context import ServiceContext
from townhall.services.passwords import PasswordHasher
from townhall.services.ratelimit import SlidingWindowLimiter
from townhall.storage.database import create_database_engine
from townhall.storage.migrate import upgrade_to_head
from townhall.storage.uow import UnitOfWorkFactory

log = logging.getLogger("townhall")

LOGIN_FAILURE_WINDOW_S = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    bus: EventBus
    services: ServiceContext

    async def start(self) -> None:
        await self.bus.start()

    async def stop(self) -> None:
        await self.bus.close()
        self.engine.dispose()


def build_container(settings: Settings, migrate: bool = True) -> Container:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(settings.effective_database_url)
    if migrate:
        upgrade_to_head(engine)
        log.info("database ready: %s", engine.url.render_as_string(hide_password=True))
    bus = create_bus(settings.redis_url)
    services = ServiceContext(
        settings=settings,
        uow=UnitOfWorkFactory(engine, bus.publish_threadsafe),
        ids=IdGenerator(settings.node_id),
        clock=utc_now,
        passwords=PasswordHasher(settings.password_time_cost, settings.password_memory_kib),
        login_failures=SlidingWindowLimiter(
            settings.login_failures_per_minute, LOGIN_FAILURE_WINDOW_S
        ),
    )
    return Container(settings=settings, engine=engine, bus=bus, services=services)
