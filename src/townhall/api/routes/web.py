"""Serves the browser client: one HTML shell for every page, static ES modules beside it."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

import townhall

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
    "/s/{space_id}",
)


def _shell() -> HTMLResponse:
    return HTMLResponse(
        INDEX_HTML.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"}
    )


for _path in CLIENT_PAGES:
    router.add_api_route(_path, _shell, methods=["GET"], response_class=HTMLResponse)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(WEBCLIENT_DIR / "favicon.svg", media_type="image/svg+xml")


@router.get("/api/v1/health", include_in_schema=True, tags=["operations"])
def health() -> JSONResponse:
    return JSONResponse({"status": "ok", "version": townhall.__version__})
