"""Signalling that reaches a node which does not own the Space's media goes to the owner.

Clients talk to any node (behind a load balancer they cannot choose); the owner answers
with the SDP of a peer connection on its own machine, so the client's audio flows there.
The request is passed on as it came (same method, body, token or cookie) and the owner
checks it again; the owner's answer comes back unchanged.
"""

import logging

import httpx
from fastapi import Request, Response

from townhall.api.auth import services_of
from townhall.api.errors import error_response
from townhall.api.rate_limits import COUNTED_BY_PEER
from townhall.media.service import MediaElsewhere

log = logging.getLogger("townhall.api")

FORWARDED_BY = "X-Townhall-Forwarded-By"
"""Set on a forwarded request: its receiver serves it itself or refuses, never forwards."""
PASSED_HEADERS = ("authorization", "cookie", "x-csrf-token", "content-type", "accept", "user-agent")
"""With the cookie goes its CSRF header: the owner checks both again, as for any write."""
RETURNED_HEADERS = ("content-type", "location", "link", "retry-after")
MOVING_RETRY_AFTER_S = 2
"""A dead owner's lease lapses within TOWNHALL_MEDIA_LEASE_S; retries land on the next."""


def forwarding_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=2.0))


def _moving(message: str) -> Response:
    return error_response(503, "media_moving", message, retry_after_s=MOVING_RETRY_AFTER_S)


async def forward_to_owner(request: Request, moved: MediaElsewhere) -> Response:
    """The owner's answer, or 503 `media_moving` when it cannot be reached (it is dying,
    or this request already came from another node)."""
    node_id = request.app.state.container.settings.node_id
    if request.headers.get(FORWARDED_BY) is not None or not moved.owner_url:
        log.warning("space %s: signalling bounced between nodes", moved.space_id)
        return _moving("This Space's audio is moving to another server; try again.")
    headers = {name: value for name, value in request.headers.items() if name in PASSED_HEADERS}
    headers[FORWARDED_BY] = str(node_id)
    # Counted here under the client's own address: the owner need not count it again.
    if peer_key := await services_of(request).rate_limits.peer_key():
        headers[COUNTED_BY_PEER] = peer_key
    url = moved.owner_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    client: httpx.AsyncClient = request.app.state.container.forwarder
    try:
        answer = await client.request(
            request.method, url, headers=headers, content=await request.body()
        )
    except httpx.HTTPError as exc:
        log.warning(
            "space %s: media owner %s unreachable (%s)",
            moved.space_id,
            moved.owner_url,
            type(exc).__name__,
        )
        return _moving("This Space's audio server is not answering; try again.")
    passed = {
        name: value for name, value in answer.headers.items() if name.lower() in RETURNED_HEADERS
    }
    return Response(answer.content, status_code=answer.status_code, headers=passed)
