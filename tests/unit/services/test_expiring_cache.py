"""The token cache: entries expire, and a revoked key cannot be put back for a while."""

from townhall.services.expiring_cache import ExpiringCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = FakeClock()
    cache: ExpiringCache[str, int] = ExpiringCache(5.0, monotonic=clock)
    cache.put("a", 1)
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.2
    assert cache.get("a") is None


def test_a_revoked_key_is_not_cached_again_by_a_racing_lookup() -> None:
    clock = FakeClock()
    cache: ExpiringCache[str, int] = ExpiringCache(5.0, monotonic=clock)
    cache.put("a", 1)
    cache.revoke("a")
    cache.put("a", 1)  # a lookup that read the database just before the revocation
    assert cache.get("a") is None
    clock.now += 5.1
    cache.put("a", 2)
    assert cache.get("a") == 2


def test_a_zero_ttl_disables_the_cache_and_size_is_bounded() -> None:
    off: ExpiringCache[str, int] = ExpiringCache(0)
    off.put("a", 1)
    assert off.get("a") is None
    small: ExpiringCache[int, int] = ExpiringCache(5.0, max_entries=10)
    for key in range(100):
        small.put(key, key)
    assert len(small) <= 10
    assert small.get(99) == 99
