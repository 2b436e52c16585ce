"""A departure the database could not record (it was down) is tried again until it is,
unless the person came back meanwhile: no ghost on stage, no Space that never ends."""

import asyncio

from townhall.services import space_presence
from townhall.services.space_presence import SpacePresence


def test_a_departure_that_fails_is_retried_until_it_succeeds() -> None:
    async def scenario() -> list[tuple[int, int, bool]]:
        done: list[tuple[int, int, bool]] = []
        failures = 2

        async def gone(space_id: int, user_id: int, is_host: bool) -> None:
            nonlocal failures
            if failures:
                failures -= 1
                raise ConnectionError("database unreachable")
            done.append((space_id, user_id, is_host))

        presence = SpacePresence(gone, participant_grace_s=0.01, host_grace_s=0.01)
        presence.connected(1, 7)
        presence.disconnected(1, 7, True)
        await asyncio.sleep(0.01 + space_presence.GONE_RETRY_FIRST_S * 3 + 0.5)
        presence.close()
        return done

    assert asyncio.run(scenario()) == [(1, 7, True)]


def test_coming_back_calls_the_retry_off() -> None:
    async def scenario() -> int:
        calls = 0

        async def gone(space_id: int, user_id: int, is_host: bool) -> None:
            nonlocal calls
            calls += 1
            raise ConnectionError("database unreachable")

        presence = SpacePresence(gone, participant_grace_s=0.01, host_grace_s=0.01)
        presence.connected(1, 7)
        presence.disconnected(1, 7, False)
        await asyncio.sleep(0.2)  # the grace ran out and the departure failed once
        presence.connected(1, 7)
        await asyncio.sleep(space_presence.GONE_RETRY_FIRST_S * 3 + 0.2)
        presence.close()
        return calls

    assert asyncio.run(scenario()) == 1
