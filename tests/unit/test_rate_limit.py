"""The sliding window behind login brute-force protection, and the named API limits."""

from dataclasses import replace

import pytest

from townhall.config import RATE_LIMIT_NAMES, RateLimit, RateLimits, load_settings
from townhall.domain.errors import RateLimited
from townhall.services.ratelimit import NamedRateLimits, SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_eleventh_hit_in_a_minute_must_wait_until_the_first_expires() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=10, window_s=60, monotonic=clock)
    for _ in range(10):
        assert limiter.retry_after_s("ip:1") is None
        limiter.hit("ip:1")
        clock.now += 1
    wait = limiter.retry_after_s("ip:1")
    assert wait is not None and 49 < wait <= 51
    assert limiter.retry_after_s("ip:2") is None
    clock.now += wait + 0.01
    assert limiter.retry_after_s("ip:1") is None


def test_acquire_counts_only_what_it_allows_even_under_contention() -> None:
    import threading

    limiter = SlidingWindowLimiter(limit=5, window_s=1)
    allowed: list[bool] = []

    def attempt() -> None:
        allowed.append(limiter.acquire("user:1") is None)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 5


def _named(**changes: RateLimit) -> NamedRateLimits:
    return NamedRateLimits(replace(RateLimits(), **changes), monotonic=FakeClock())


def test_a_named_limit_refuses_the_user_past_their_allowance_with_the_wait() -> None:
    limits = _named(post=RateLimit(per_user=2, per_ip=0, window_s=60))
    limits.check("post", "user:1", "192.0.2.1")
    limits.check("post", "user:1", "192.0.2.2")
    with pytest.raises(RateLimited) as refused:
        limits.check("post", "user:1", "192.0.2.3")
    assert refused.value.retry_after_s == 60
    limits.check("post", "user:2", "192.0.2.1")  # someone else is not held back


def test_a_named_limit_refuses_an_address_whoever_signs_in_from_it() -> None:
    limits = _named(follow=RateLimit(per_user=0, per_ip=2, window_s=60))
    limits.check("follow", "user:1", "192.0.2.1")
    limits.check("follow", "user:2", "192.0.2.1")
    with pytest.raises(RateLimited):
        limits.check("follow", "user:3", "192.0.2.1")


def test_a_hit_refused_for_its_address_does_not_use_up_the_users_allowance() -> None:
    limits = _named(join=RateLimit(per_user=2, per_ip=1, window_s=60))
    limits.check("join", "user:1", "192.0.2.1")
    with pytest.raises(RateLimited):
        limits.check("join", "user:1", "192.0.2.1")
    limits.check("join", "user:1", "192.0.2.2")  # the refused hit was not counted


def test_zero_turns_a_limit_off() -> None:
    limits = _named(speak_request=RateLimit(per_user=0, per_ip=0, window_s=60))
    for _ in range(1000):
        limits.check("speak_request", "user:1", "192.0.2.1")


def test_every_named_limit_is_read_from_its_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in RATE_LIMIT_NAMES:
        monkeypatch.setenv(f"TOWNHALL_RATE_{name.upper()}_PER_USER", "7")
        monkeypatch.setenv(f"TOWNHALL_RATE_{name.upper()}_PER_IP", "9")
    limits = load_settings().rate_limits
    for name in RATE_LIMIT_NAMES:
        assert (limits.of(name).per_user, limits.of(name).per_ip) == (7, 9)
    assert limits.reaction.window_s == 1.0


def test_a_negative_rate_limit_setting_stops_the_server_with_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOWNHALL_RATE_POST_PER_IP", "-1")
    with pytest.raises(SystemExit, match="TOWNHALL_RATE_POST"):
        load_settings()
