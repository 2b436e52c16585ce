"""Reactions are gathered per Space and sent as one event per window."""

import asyncio
from datetime import datetime
from typing import Any

from townhall.realtime.memory import InProcessBus
from townhall.realtime.reaction_batcher import MAX_BATCH, ReactionBatcher


def iso(moment: datetime) -> str:
    return moment.isoformat()


def test_a_window_with_many_reactions_sends_one_batch_and_one_alone_sends_a_reaction() -> None:
    async def scenario() -> list[dict[str, Any]]:
        bus = InProcessBus()
        await bus.start()
        batcher = ReactionBatcher(bus, lambda space_id: f"space:{space_id}", iso, interval_s=3600)
        with bus.subscribe("space:1", "space:2") as subscription:
            for user_id in range(3):
                batcher.add(1, user_id, "🔥")
            batcher.add(2, 9, "💜")
            await batcher.flush()
            received = [await subscription.get(timeout=1), await subscription.get(timeout=1)]
        await bus.close()
        return received

    first, second = asyncio.run(scenario())
    assert first["type"] == "reactions" and first["space_id"] == "1"
    assert [item["user_id"] for item in first["data"]["items"]] == ["0", "1", "2"]
    assert second["type"] == "reaction" and second["data"] == {"user_id": "9", "emoji": "💜"}


def test_a_burst_past_the_batch_bound_is_counted_not_sent() -> None:
    async def scenario() -> dict[str, Any]:
        bus = InProcessBus()
        await bus.start()
        batcher = ReactionBatcher(bus, lambda space_id: f"space:{space_id}", iso, interval_s=3600)
        with bus.subscribe("space:1") as subscription:
            for user_id in range(MAX_BATCH + 7):
                batcher.add(1, user_id, "👏")
            await batcher.flush()
            frame = await subscription.get(timeout=1)
        await bus.close()
        return frame

    frame = asyncio.run(scenario())
    assert len(frame["data"]["items"]) == MAX_BATCH
    assert frame["data"]["dropped"] == 7
