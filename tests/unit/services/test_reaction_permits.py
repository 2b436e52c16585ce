"""Reaction permits: only verified yeses are kept, and any drop beats a racing check."""

import asyncio

from townhall.realtime.memory import InProcessBus
from townhall.services.reaction_permits import ACCESS_CHANNEL, PermitWatcher, ReactionPermits

SPACE = 7


def _watched_permits() -> ReactionPermits:
    permits = ReactionPermits()
    permits.watch = lambda _space_id: True
    return permits


def test_a_verified_participant_is_remembered() -> None:
    permits = _watched_permits()
    generation, _ = permits.prepare(SPACE)
    assert not permits.allows(SPACE, 1)
    permits.remember(SPACE, 1, generation)
    assert permits.allows(SPACE, 1)
    assert not permits.allows(SPACE + 1, 1)


def test_the_first_reaction_in_a_space_may_load_its_whole_audience() -> None:
    permits = _watched_permits()
    generation, fresh = permits.prepare(SPACE)
    assert fresh and not permits.prepare(SPACE)[1]
    permits.remember_all(SPACE, [1, 2], generation)
    assert permits.allows(SPACE, 1) and permits.allows(SPACE, 2)


def test_a_check_that_raced_with_a_departure_is_not_remembered() -> None:
    permits = _watched_permits()
    generation, _ = permits.prepare(SPACE)
    permits.left(SPACE, 2)  # anyone leaving while the database was asked
    permits.remember(SPACE, 1, generation)
    assert not permits.allows(SPACE, 1)


def test_leaving_blocks_and_an_ending_drop_permits() -> None:
    permits = _watched_permits()
    for user_id in (1, 2, 3):
        permits.remember(SPACE, user_id, permits.prepare(SPACE)[0])
    permits.left(SPACE, 1)
    permits.forget_users([2])
    assert (permits.allows(SPACE, 1), permits.allows(SPACE, 2), permits.allows(SPACE, 3)) == (
        False,
        False,
        True,
    )
    permits.forget_space(SPACE)
    assert not permits.allows(SPACE, 3)


def test_nothing_is_remembered_for_a_space_nobody_watches() -> None:
    permits = ReactionPermits()  # no watcher: cannot learn of changes elsewhere
    permits.remember(SPACE, 1, permits.prepare(SPACE)[0])
    permits.joined(SPACE, 1)
    assert not permits.allows(SPACE, 1)


def test_events_from_any_node_drop_permits() -> None:
    async def scenario() -> None:
        bus = InProcessBus()
        await bus.start()
        permits = ReactionPermits()
        watcher = PermitWatcher(bus, permits, lambda space_id: f"space:{space_id}")
        await watcher.start()
        for user_id in (1, 2, 3, 4):
            permits.remember(SPACE, user_id, permits.prepare(SPACE)[0])
        channel = f"space:{SPACE}"
        await bus.publish(channel, {"type": "participant.muted", "data": {"user_id": "1"}})
        await bus.publish(channel, {"type": "participant.left", "data": {"user_id": "2"}})
        await bus.publish(ACCESS_CHANNEL, {"type": "block.added", "user_ids": [3, 99]})
        for _ in range(5):
            await asyncio.sleep(0)
        assert [permits.allows(SPACE, u) for u in (1, 2, 3, 4)] == [True, False, False, True]
        await bus.publish(channel, {"type": "space.ended", "data": {}})
        for _ in range(5):
            await asyncio.sleep(0)
        assert not permits.allows(SPACE, 4)
        assert SPACE not in permits.watched()
        await watcher.close()
        await bus.close()

    asyncio.run(scenario())
