"""Serves the browser client: one HTML shell for every page, static ES modules beside it."""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

import townhall
from townhall.api.auth import Services
from townhall.api.share_meta import with_share_meta
from townhall.domain.errors import DomainError
from townhall.ids import parse_id_text
from townhall.services import spaces

WEBCLIENT_DIR = Path(__file__).resolve().parent.parent.parent / "webclient"
INDEX_HTML = WEBCLIENT_DIR / "index.html"

router = APIRouter(include_in_schema=False)

CLIENT_PAGES = (
    "/",
    "/login",
    "/signup",
    "/home",
    "/notifications",
    "/spaces",
    "/settings",
    "/u/{username}",
    "/u/{username}/followers",
    "/u/{username}/following",
    "/messages",
    "/messages/{conversation_id}",
)


def _shell() -> HTMLResponse:
    return HTMLResponse(
        INDEX_HTML.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"}
    )


for _path in CLIENT_PAGES:
    router.add_api_route(_path, _shell, methods=["GET"], response_class=HTMLResponse)


@router.get("/s/{space_id}", response_class=HTMLResponse)
def share_page(space_id: str, request: Request, ctx: Services) -> HTMLResponse:
    """The shell with the Space's link-preview tags; an unknown Space gets the plain shell
    (the client shows its own "not found")."""
    shell = _shell()
    parsed = parse_id_text(space_id)
    if parsed is None:
        return shell
    try:
        view = spaces.get_space(ctx, parsed, None)
    except DomainError:
        return shell
    base_url = str(request.base_url).rstrip("/")
    html = with_share_meta(INDEX_HTML.read_text(encoding="utf-8"), view, base_url)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(WEBCLIENT_DIR / "favicon.svg", media_type="image/svg+xml")


@router.get("/api/v1/health", include_in_schema=True, tags=["operations"])
def health() -> JSONResponse:
    return JSONResponse({"status": "ok", "version": townhall.__version__})
