"""The client's address for rate limits: the peer, or X-Forwarded-For behind a trusted proxy."""

from starlette.requests import HTTPConnection


def client_ip(connection: HTTPConnection, trusted_proxies: tuple[str, ...]) -> str:
    peer = connection.client.host if connection.client else "unknown"
    if peer not in trusted_proxies:
        return peer
    forwarded = connection.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    # Walk back from the nearest hop: the first address not one of our proxies is the client.
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return peer
