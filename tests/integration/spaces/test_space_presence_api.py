"""Connections that drop: a grace period to come back, then leaving (or the Space ending)."""

import dataclasses
import time
from collections.abc import Iterator

import pytest

from tests.harness import LiveServer, make_settings, serve_in_thread
from tests.integration.spaces.space_helpers import (
    get_space,
    join,
    next_frame,
    open_space,
    participants,
    space_events,
)

GRACE_S = 0.6


@pytest.fixture(scope="module")
def quick_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path_factory.mktemp("presence")).with_overrides(
        host_grace_s=GRACE_S, participant_grace_s=GRACE_S
    )
    yield from serve_in_thread(settings)


def wait_for(condition: object, timeout_s: float = 15) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_host_who_does_not_come_back_ends_the_space(quick_server: LiveServer) -> None:
    host, listener = quick_server.signup(), quick_server.signup()
    space = open_space(host)
    join(listener, space["id"])
    with space_events(quick_server, host, space["id"]) as ws:
        next_frame(ws)
    assert wait_for(lambda: get_space(listener, space["id"])["state"] == "ended")


def test_a_host_who_reconnects_in_time_keeps_the_space(quick_server: LiveServer) -> None:
    host = quick_server.signup()
    space = open_space(host)
    with space_events(quick_server, host, space["id"]) as ws:
        next_frame(ws)
    with space_events(quick_server, host, space["id"]) as ws:
        next_frame(ws)
        time.sleep(GRACE_S * 2)
        assert get_space(host, space["id"])["state"] == "live"


def test_a_listener_whose_connection_is_gone_leaves_after_the_grace(
    quick_server: LiveServer,
) -> None:
    host, listener = quick_server.signup(), quick_server.signup()
    space = open_space(host)
    join(listener, space["id"])
    with space_events(quick_server, listener, space["id"]) as ws:
        next_frame(ws)
    assert wait_for(lambda: listener.id not in participants(host, space["id"]))
    assert get_space(host, space["id"])["state"] == "live"


def test_after_a_restart_a_host_who_never_comes_back_ends_the_space(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = make_settings(tmp_path_factory.mktemp("restart")).with_overrides(
        host_grace_s=GRACE_S, participant_grace_s=GRACE_S
    )
    first_run = serve_in_thread(settings)
    server = next(first_run)
    host, listener = server.signup(), server.signup()
    space = open_space(host)
    join(listener, space["id"])
    first_run.close()  # the process goes away; nobody's connection survives it
    second_run = serve_in_thread(settings)
    same_listener = dataclasses.replace(listener, server=next(second_run))
    try:
        assert wait_for(lambda: get_space(same_listener, space["id"])["state"] == "ended")
    finally:
        second_run.close()
