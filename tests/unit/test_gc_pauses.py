"""A long garbage-collection pause is named in the log, a short one is not."""

import gc
import logging

import pytest

from townhall.gc_pauses import PauseWatch


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_collection_over_the_threshold_is_logged_with_its_generation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = PauseWatch(slow_pause_s=0.0)
    watch.install()
    try:
        with caplog.at_level(logging.WARNING, logger="townhall.gc"):
            Cycle()
            gc.collect(0)
    finally:
        watch.uninstall()
    assert watch.slow_pauses >= 1
    assert any("generation 0 paused the server" in r.message for r in caplog.records)


def test_a_collection_under_the_threshold_stays_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = PauseWatch(slow_pause_s=60.0)
    watch.install()
    try:
        with caplog.at_level(logging.WARNING, logger="townhall.gc"):
            gc.collect(0)
    finally:
        watch.uninstall()
    assert watch.slow_pauses == 0
    assert watch.slowest_s > 0
    assert not caplog.records
