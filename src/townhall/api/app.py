"""Builds the ASGI application: routes, error envelope, body limits, static client."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import townhall
from townhall.api import log_redaction
from townhall.api.body_limit import BodyLimitMiddleware
from townhall.api.errors import install_error_handlers
from townhall.api.routes import (
    accounts,
    conversations,
    events,
    hls,
    media,
    moderation,
    notifications,
    posts,
    recordings,
    space_events,
    space_extras,
    space_people,
    spaces,
    transcripts,
    users,
    web,
    x_v2,
)
from townhall.api.security_headers import SecurityHeadersMiddleware
from townhall.config import Settings
from townhall.container import Container, build_container


def create_app(settings: Settings, container: Container | None = None) -> FastAPI:
    container = container or build_container(settings)
    log_redaction.install()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await container.start()
        try:
            yield
        finally:
            await container.stop()

    app = FastAPI(
        title="Townhall",
        version=townhall.__version__,
        description="Live social audio on your own server. See shared/API.md for the contract.",
        lifespan=lifespan,
    )
    app.state.container = container
    install_error_handlers(app)
    for router in (
        accounts.router,
        users.router,
        posts.router,
        notifications.router,
        conversations.router,
        moderation.router,
        events.router,
        spaces.router,
        space_people.router,
        space_extras.router,
        space_events.router,
        transcripts.router,
        media.router,
        recordings.router,
        hls.router,
        x_v2.router,
        web.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=web.WEBCLIENT_DIR), name="static")

    def limit_for_path(path: str) -> int:
        if path == "/api/v1/me/avatar":
            return settings.max_avatar_bytes
        return settings.max_body_bytes

    app.add_middleware(BodyLimitMiddleware, limit_for_path=limit_for_path)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on 413s and errors too
    app.mount("/media", StaticFiles(directory=settings.media_dir, check_dir=False), name="media")
    return app
