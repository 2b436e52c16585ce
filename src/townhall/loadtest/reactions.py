"""Reactions at a steady rate, and their latency from the POST to each listener's socket.

Reactors take turns and each cycles through the base emoji, so one (user, emoji) pair comes
back only every len(EMOJI) x reactors / rate seconds: the frames that carry a reaction
are matched to its POST in send order per pair.
"""

import asyncio
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from townhall.domain.spaces.reactions import BASE_REACTIONS
from townhall.loadtest.http import Client, HttpError
from townhall.loadtest.plan import Account

EMOJI = BASE_REACTIONS


@dataclass
class Sent:
    user_id: str
    emoji: str
    at: float
    status: int = 0
    """0 until answered; -1 when the request failed."""
    delivered: bool = False


class Reactor:
    def __init__(self, http: Client, space_id: str, accounts: Sequence[Account]) -> None:
        self.http = http
        self.path = f"/api/v1/spaces/{space_id}/reactions"
        self.accounts = accounts
        self.sent: list[Sent] = []
        self.errors: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, rate_per_s: float, until: float) -> None:
        """Open loop: the n-th reaction leaves at start + n / rate, answered or not."""
        if rate_per_s <= 0 or not self.accounts:
            return
        start = time.monotonic()
        n = 0
        while True:
            due = start + n / rate_per_s
            if due >= until:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            account = self.accounts[n % len(self.accounts)]
            emoji = EMOJI[(n // len(self.accounts)) % len(EMOJI)]
            record = Sent(account.user_id, emoji, time.monotonic())
            self.sent.append(record)
            task = asyncio.create_task(self._post(account, record))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            n += 1

    async def _post(self, account: Account, record: Sent) -> None:
        try:
            response = await self.http.request(
                "POST", self.path, json_body={"emoji": record.emoji}, token=account.token
            )
        except (HttpError, TimeoutError) as exc:
            record.status = -1
            self.errors[type(exc).__name__] += 1
            return
        record.status = response.status
        if response.status != 202:
            self.errors[f"HTTP {response.status}"] += 1

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)


def latency_ms(sent: Sequence[Sent], frames: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Send-to-receipt milliseconds over every (reaction, listener) delivery.

    frames: {"at", "items": [[user_id, emoji], ...], "times": [receipt, ...]} from listeners
    (the same frame text from several processes may come as several entries).
    """
    pending: dict[tuple[str, str], deque[Sent]] = {}
    for record in sent:
        if record.status in (0, 202):
            pending.setdefault((record.user_id, record.emoji), deque()).append(record)
    # One frame text (its time stamp and items) reaches every process: merge its receipts.
    merged: dict[tuple[Any, tuple[tuple[str, str], ...]], list[float]] = {}
    for frame in frames:
        key = (frame["at"], tuple((user, emoji) for user, emoji in frame["items"]))
        merged.setdefault(key, []).extend(frame["times"])
    latencies: list[float] = []
    unmatched = 0
    for (_at, items), times in sorted(merged.items(), key=lambda entry: min(entry[1])):
        first = min(times)
        for item in items:
            queue = pending.get(item)
            if not queue or queue[0].at > first:
                unmatched += 1
                continue
            record = queue.popleft()
            record.delivered = True
            latencies.extend((t - record.at) * 1000 for t in times)
    return {
        "latencies": latencies,
        "accepted": sum(1 for r in sent if r.status == 202),
        "undelivered": sum(1 for r in sent if r.status == 202 and not r.delivered),
        "unmatched_items": unmatched,
    }
