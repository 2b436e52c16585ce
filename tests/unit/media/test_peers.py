"""Peer set-up done once per process: host addresses read per TTL, one DTLS certificate."""

import asyncio

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.rtcdtlstransport import SRTP_PROFILES
from OpenSSL import SSL

from townhall.config import parse_rtc_host_addresses
from townhall.media.peers import HostAddresses, PeerFactory

MACHINE = ["192.0.2.2", "fd00::2", "198.51.100.7"]


class Interfaces:
    """The machine's interface addresses, counting how often they are read."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.reads = 0

    def __call__(self) -> list[str]:
        self.reads += 1
        return list(self.addresses)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_setting_takes_families_and_addresses() -> None:
    assert parse_rtc_host_addresses("") == ()
    assert parse_rtc_host_addresses(" IPv4 , 127.0.0.1,::1") == ("ipv4", "127.0.0.1", "::1")
    for bad in ("eth0", "ipv5", "300.1.1.1", "example.org"):
        with pytest.raises(ValueError):
            parse_rtc_host_addresses(bad)


def test_interfaces_are_read_once_per_ttl_not_once_per_peer() -> None:
    interfaces, clock = Interfaces(MACHINE), Clock()
    addresses = HostAddresses(ttl_s=30.0, read=interfaces, clock=clock)
    for _ in range(100):
        assert addresses(True, True) == MACHINE
    assert interfaces.reads == 1
    interfaces.addresses = ["192.0.2.9"]
    clock.now += 29.0
    assert addresses(True, True) == MACHINE
    clock.now += 1.0
    assert addresses(True, True) == ["192.0.2.9"], "a changed interface is seen after the TTL"
    assert interfaces.reads == 2


def test_families_and_literal_addresses_narrow_what_ice_gathers_on() -> None:
    def gathered(allowed: tuple[str, ...]) -> list[str]:
        return HostAddresses(allowed, read=Interfaces(MACHINE))(True, True)

    assert gathered(()) == MACHINE
    assert gathered(("ipv4",)) == ["192.0.2.2", "198.51.100.7"]
    assert gathered(("ipv6",)) == ["fd00::2"]
    assert gathered(("198.51.100.7",)) == ["198.51.100.7"]
    assert gathered(("127.0.0.1",)) == ["127.0.0.1"], "loopback, which aioice never offers"
    assert gathered(("ipv6", "192.0.2.2")) == ["fd00::2", "192.0.2.2"]


def test_aioices_family_switches_still_apply() -> None:
    addresses = HostAddresses(read=Interfaces(MACHINE))
    assert addresses(use_ipv4=True, use_ipv6=False) == ["192.0.2.2", "198.51.100.7"]
    assert addresses(use_ipv4=False, use_ipv6=True) == ["fd00::2"]


def test_the_servers_peers_share_one_certificate_and_others_keep_their_own() -> None:
    async def scenario() -> None:
        factory = PeerFactory()
        first = factory.new_peer(RTCConfiguration(iceServers=[]))
        second = factory.new_peer(RTCConfiguration(iceServers=[]))
        other = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        try:
            assert _fingerprint(first) == _fingerprint(second)
            assert _fingerprint(other) != _fingerprint(first)
        finally:
            for pc in (first, second, other):
                await pc.close()

    asyncio.run(scenario())


def test_the_shared_certificate_is_renewed_before_aiortcs_validity_runs_out() -> None:
    factory = PeerFactory(ttl_s=0.0)
    first = factory.certificate
    assert factory.certificate is not first
    lasting = PeerFactory()
    assert lasting.certificate is lasting.certificate


def test_the_shared_openssl_context_never_resumes_another_peers_session() -> None:
    certificate = PeerFactory().certificate
    context = certificate._create_ssl_context(SRTP_PROFILES)
    assert certificate._create_ssl_context(SRTP_PROFILES) is context
    assert context.get_session_cache_mode() == SSL.SESS_CACHE_OFF


def _fingerprint(pc: RTCPeerConnection) -> str:
    certificates = pc._RTCPeerConnection__certificates  # type: ignore[attr-defined]
    return str(certificates[0].getFingerprints()[0].value)
