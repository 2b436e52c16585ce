"""Keeps secrets out of the server's logs.

uvicorn logs each request line and each WebSocket handshake with its query string, and
WebSocket clients outside the browser authenticate with `?token=<bearer token>`: without
this filter every such token would be written to the log in clear.
"""

import logging
import re

SECRET_QUERY = re.compile(r"(?i)\b((?:access_)?token|password|credential)=[^&\s\"']*")
REDACTED = r"\1=[redacted]"
LOGGERS = ("uvicorn.error", "uvicorn.access")
"""uvicorn logs directly on these two (a logger's filters see only its own records)."""


def redact(text: str) -> str:
    return SECRET_QUERY.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Redact in place, keeping the arguments' shape: uvicorn's access formatter unpacks
        # record.args (client, method, path, version, status).
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Idempotent: create_app calls it for every app it builds."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
