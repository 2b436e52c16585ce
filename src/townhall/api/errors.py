"""Maps every failure to API.md's error envelope; nothing leaks a stack trace."""

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from townhall.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from townhall.storage.write_gate import WritersBusy

log = logging.getLogger("townhall.api")

UNAVAILABLE_RETRY_AFTER_S = 1
"""What a 503 for a busy database asks the client to wait: writes clear in milliseconds."""

_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o")

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    Malformed: 400,
    Invalid: 422,
    NotFound: 404,
    Unauthenticated: 401,
    Forbidden: 403,
    Conflict: 409,
    RateLimited: 429,
}

CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    """A transport-level failure (a body too large, a wrong media type)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODE_BY_STATUS.get(status, "error")


def error_body(code: str, message: str, retry_after_s: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if retry_after_s is not None:
        error["retry_after_s"] = retry_after_s
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    retry_after_s: int | None = None,
) -> JSONResponse:
    if retry_after_s is not None:
        headers = {**(headers or {}), "Retry-After": str(retry_after_s)}
    return JSONResponse(
        error_body(code, message, retry_after_s), status_code=status, headers=headers
    )


def database_unavailable(exc: BaseException) -> bool:
    """A locked, busy or unreachable database: the request may succeed if retried.

    On SQLite only lock and I/O failures count (its OperationalError also covers mistakes
    such as a missing table, which stay 500s); on PostgreSQL an OperationalError is a lost
    or refused connection, a deadlock or a serialization failure, all worth a retry.
    """
    if isinstance(exc, OperationalError):
        orig = exc.orig
        if isinstance(orig, sqlite3.OperationalError):
            text = str(orig).lower()
            return any(marker in text for marker in _SQLITE_UNAVAILABLE)
        return True
    return isinstance(exc, PoolTimeout)


def unavailable_response(message: str, retry_after_s: int) -> JSONResponse:
    return error_response(503, "unavailable", message, retry_after_s=retry_after_s)


def _describe_validation(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    for error in errors:
        if error.get("type") == "json_invalid":
            return 400, "malformed_json", "The request body is not valid JSON."
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        message = str(error.get("msg", "is invalid"))
        parts.append(f"{location}: {message}" if location else message)
    return 422, "invalid", "; ".join(parts) or "The request is invalid."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        status = next(
            (code for kind, code in STATUS_BY_ERROR.items() if isinstance(exc, kind)), 400
        )
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
        return error_response(status, exc.code, exc.message, headers)

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _describe_validation(exc)
        return error_response(status, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODE_BY_STATUS.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404:
            message = "Nothing lives at this address."
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))

    @app.exception_handler(WritersBusy)
    async def _writers_busy(request: Request, exc: WritersBusy) -> JSONResponse:
        log.warning("503 on %s %s: %s", request.method, request.url.path, exc.message)
        return unavailable_response(exc.message, exc.retry_after_s)

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        return await _database_failure(request, exc)

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
        return await _database_failure(request, exc)

    async def _database_failure(request: Request, exc: Exception) -> JSONResponse:
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        # The transaction was rolled back by the unit of work: nothing was half-written.
        log.warning("503 on %s %s: database unavailable: %s", request.method, request.url.path, exc)
        return unavailable_response(
            "The database is busy; try again in a moment.", UNAVAILABLE_RETRY_AFTER_S
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "Something went wrong on our side.")
