"""Turns a Space's domain events into numbered, stored, published events.

State events get the Space's next `seq` in the same transaction as the change they
describe, are stored for resume, and go out on channel `space:{id}` after commit.
"""

import json
from datetime import datetime
from typing import Any

from townhall.domain.spaces.model import SpaceEvent
from townhall.realtime.frames import EncodedOnce
from townhall.services.json import format_time, to_json
from townhall.storage import spaces as store
from townhall.storage.tables import SpaceRow
from townhall.storage.uow import UnitOfWork


def space_channel(space_id: int) -> str:
    return f"space:{space_id}"


def frame(
    kind: str, space_id: int, seq: int | None, at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return EncodedOnce(type=kind, space_id=str(space_id), seq=seq, at=format_time(at), data=data)


def record(uow: UnitOfWork, row: SpaceRow, events: list[SpaceEvent], now: datetime) -> None:
    for event in events:
        data = to_json(event.data)
        seq = None
        if event.state:
            seq = store.append_event(uow.session, row, event.type, json.dumps(data), now)
        uow.emit(space_channel(row.id), frame(event.type, row.id, seq, now, data))


def ephemeral(
    uow: UnitOfWork, space_id: int, kind: str, data: dict[str, Any], now: datetime
) -> None:
    uow.emit(space_channel(space_id), frame(kind, space_id, None, now, to_json(data)))
