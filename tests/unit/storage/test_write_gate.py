"""The writer gate: one writer at a time, in arrival order, and a clean refusal when busy."""

import threading
import time
from collections.abc import Callable

from townhall.storage.write_gate import WriterGate, WritersBusy


def _start_waiter(gate: WriterGate, name: str, order: list[str]) -> threading.Thread:
    def run() -> None:
        with gate:
            order.append(name)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until(condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def test_writers_get_their_turn_in_arrival_order() -> None:
    gate = WriterGate(capacity=1, max_waiting=10, max_wait_s=5)
    order: list[str] = []
    gate.acquire()
    threads = []
    for name in "abcde":
        threads.append(_start_waiter(gate, name, order))
        queued = len(threads)
        _wait_until(lambda: gate.waiting == queued)  # noqa: B023 - called at once
    gate.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == list("abcde")
    assert gate.active == 0 and gate.waiting == 0


def _acquire_elsewhere(gate: WriterGate) -> tuple[BaseException | None, float]:
    """Tries to acquire (and release) in another thread: what it raised, how long it took."""
    outcome: list[BaseException | None] = []
    started = time.monotonic()

    def run() -> None:
        try:
            with gate:
                outcome.append(None)
        except WritersBusy as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=10)
    return outcome[0], time.monotonic() - started


def test_a_writer_beyond_the_queue_bound_is_refused_at_once() -> None:
    gate = WriterGate(capacity=1, max_waiting=1, max_wait_s=5)
    order: list[str] = []
    gate.acquire()
    waiter = _start_waiter(gate, "queued", order)
    _wait_until(lambda: gate.waiting == 1)
    refused, took_s = _acquire_elsewhere(gate)
    assert isinstance(refused, WritersBusy)
    assert refused.retry_after_s >= 1
    assert took_s < 0.5
    gate.release()
    waiter.join(timeout=5)
    assert order == ["queued"]


def test_a_writer_that_waits_too_long_gives_up_and_leaves_the_queue() -> None:
    gate = WriterGate(capacity=1, max_waiting=5, max_wait_s=0.1)
    gate.acquire()
    refused, took_s = _acquire_elsewhere(gate)
    assert isinstance(refused, WritersBusy)
    assert 0.1 <= took_s < 2
    assert gate.waiting == 0
    gate.release()
    assert gate.active == 0
    assert _acquire_elsewhere(gate)[0] is None  # the gate is free again


def test_the_gate_is_reentrant_within_one_thread() -> None:
    gate = WriterGate(capacity=1, max_waiting=0, max_wait_s=0.1)
    with gate, gate:
        assert gate.active == 1
    assert gate.active == 0


def test_capacity_lets_that_many_writers_in_together() -> None:
    gate = WriterGate(capacity=3, max_waiting=0, max_wait_s=0.1)
    inside = threading.Barrier(3, timeout=2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with gate:
                inside.wait()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert errors == []
    assert gate.active == 0
