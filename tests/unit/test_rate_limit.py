"""The sliding window behind login brute-force protection."""

from townhall.services.ratelimit import SlidingWindowLimiter


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
