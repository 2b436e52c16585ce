"""The server's own peer connections, made cheaper to set up than aiortc's defaults.

At 50 joins a second every millisecond of event-loop CPU per join is 5% of a core that the
20 ms mixer clock has to wait behind. Two things aiortc redoes for every peer that a server
can do once:

- **Host addresses.** aioice reads every network interface (`ifaddr`, about 0.5 ms) for
  each peer and gathers a candidate, with a socket, on each address. Here the addresses are
  read once and re-read every `ADDRESS_TTL_S`, and `TOWNHALL_RTC_HOST_ADDRESSES` can narrow
  them (`ipv4`, `ipv6`, or addresses of this machine): a server reached on one address
  needs no candidate, socket and connectivity check on the others.
- **The DTLS certificate.** aiortc makes a new ECDSA key, certificate and OpenSSL context
  per peer. Servers (Janus, mediasoup) keep one certificate per process: the fingerprint in
  the answer is what the browser checks, and each handshake still agrees fresh ECDHE keys,
  so SRTP keys are never shared between peers. Here one certificate is reused for a day
  (aiortc's are valid 30 days), with its fingerprints and OpenSSL context (session cache
  off, so no handshake can resume another peer's session).

aioice looks its address function up as a module global at each gather; `use_host_addresses`
replaces it process-wide. The certificate is swapped in only while `new_peer` constructs a
peer, so other peers in the process (tests' clients) keep aiortc's own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc import rtcpeerconnection as _aiortc_pc
from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsFingerprint
from OpenSSL import SSL

ADDRESS_TTL_S = 30.0
"""Interfaces rarely change; a new address is used by peers set up after this long."""
CERTIFICATE_TTL_S = 24 * 3600.0
FAMILIES = ("ipv4", "ipv6")
ADDRESSES_NAME = "get_host_addresses"
"""The module global aioice's `Connection.gather_candidates` calls for host addresses."""
CERTIFICATE_NAME = "RTCCertificate"
"""What aiortc's peer module calls `generateCertificate` on in `RTCPeerConnection()`."""

_original_get_host_addresses: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses


def interface_addresses() -> list[str]:
    """What aioice would gather on: every interface address but loopback and link-local."""
    return _original_get_host_addresses(True, True)


@dataclass
class HostAddresses:
    """The addresses ICE gathers host candidates on, read from the interfaces at most every TTL."""

    allowed: tuple[str, ...] = ()
    ttl_s: float = ADDRESS_TTL_S
    read: Callable[[], list[str]] = interface_addresses
    clock: Callable[[], float] = time.monotonic
    _cached: list[str] = field(default_factory=list)
    _read_at: float | None = None

    def current(self) -> list[str]:
        now = self.clock()
        if self._read_at is None or now - self._read_at >= self.ttl_s:
            self._cached = self._select(self.read())
            self._read_at = now
        return self._cached

    def _select(self, found: Sequence[str]) -> list[str]:
        if not self.allowed:
            return list(found)
        families = {f for f in self.allowed if f in FAMILIES}
        literal = [a for a in self.allowed if a not in FAMILIES]
        chosen = [a for a in found if _family(a) in families]
        # literal addresses are bound as given: 127.0.0.1 (which aioice never offers by
        # itself) works for a machine that only talks to itself
        chosen += [a for a in literal if a not in chosen]
        return chosen

    def __call__(self, use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [
            a
            for a in self.current()
            if (use_ipv4 and _family(a) == "ipv4") or (use_ipv6 and _family(a) == "ipv6")
        ]


def _family(address: str) -> str:
    return "ipv6" if ":" in address else "ipv4"


def use_host_addresses(addresses: HostAddresses) -> None:
    """Every aioice connection of this process gathers on `addresses` from now on."""
    setattr(aioice.ice, ADDRESSES_NAME, addresses)


def restore_host_addresses(addresses: HostAddresses) -> None:
    """aioice's own lookup again, unless another owner has replaced `addresses` since."""
    if getattr(aioice.ice, ADDRESSES_NAME) is addresses:
        setattr(aioice.ice, ADDRESSES_NAME, _original_get_host_addresses)


class SharedCertificate(RTCCertificate):
    """One certificate for many peers: fingerprints and OpenSSL contexts computed once."""

    def __init__(self, key: Any, cert: Any) -> None:
        super().__init__(key, cert)
        self.created = time.monotonic()
        self._fingerprints: list[RTCDtlsFingerprint] | None = None
        self._contexts: dict[tuple[bytes, ...], SSL.Context] = {}

    def getFingerprints(self) -> list[RTCDtlsFingerprint]:
        if self._fingerprints is None:
            self._fingerprints = super().getFingerprints()
        return list(self._fingerprints)

    def _create_ssl_context(self, srtp_profiles: list[Any]) -> SSL.Context:
        key = tuple(p.openssl_profile for p in srtp_profiles)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = super()._create_ssl_context(srtp_profiles)
            ctx.set_session_cache_mode(SSL.SESS_CACHE_OFF)
            self._contexts[key] = ctx
        return ctx


class _CertificateSource:
    """Stands in for `RTCCertificate` in aiortc's peer module while `new_peer` runs."""

    def __init__(self, certificate: SharedCertificate) -> None:
        self._certificate = certificate

    def generateCertificate(self) -> SharedCertificate:
        return self._certificate


class PeerFactory:
    """Makes the server's `RTCPeerConnection`s, all with one certificate renewed daily."""

    def __init__(self, ttl_s: float = CERTIFICATE_TTL_S) -> None:
        self._ttl_s = ttl_s
        self._certificate: SharedCertificate | None = None

    @property
    def certificate(self) -> SharedCertificate:
        cert = self._certificate
        if cert is None or time.monotonic() - cert.created >= self._ttl_s:
            cert = self._certificate = SharedCertificate.generateCertificate()
        return cert

    def new_peer(self, configuration: RTCConfiguration) -> RTCPeerConnection:
        source = _CertificateSource(self.certificate)
        original = getattr(_aiortc_pc, CERTIFICATE_NAME)
        setattr(_aiortc_pc, CERTIFICATE_NAME, source)
        try:
            return RTCPeerConnection(configuration)
        finally:
            setattr(_aiortc_pc, CERTIFICATE_NAME, original)
