"""Pure ASGI middleware that puts the browser-hardening headers on every HTTP response.

The web client is ES modules and stylesheets under /static with no inline script, so the
Content-Security-Policy allows script only from this origin: an injected
`<img onerror=...>` or `<script>` would not run even if some page rendered it as HTML.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        # HLS playback (hls.js) feeds MediaSource through blob: URLs from a blob: worker.
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        # 'self' covers ws:// and wss:// to this host (CSP Level 3).
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)

EXEMPT_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
"""FastAPI's interactive API docs use an inline script; they get every header but the CSP."""


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = scope["path"] in EXEMPT_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [
                    (name, value)
                    for name, value in HEADERS
                    if name not in present and not (exempt and name == b"content-security-policy")
                ]
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
