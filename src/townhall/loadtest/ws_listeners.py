"""WebSocket listeners: each joins the Space over HTTP, opens its event stream, counts its
frames and records when every reaction frame arrived (by frame text: the server serializes
each event once per Space, so all listeners receive the same bytes)."""

import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from townhall.loadtest import ws_light
from townhall.loadtest.http import Client, HttpError
from townhall.loadtest.plan import Account

READY_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 5.0
REACTION_MARKER = b'"type":"reaction'
"""Starts both `"type":"reaction"` and `"type":"reactions"` (frames are compact JSON)."""


class WsListeners:
    def __init__(self, base_url: str, space_id: str, accounts: Sequence[Account]) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://", 1)
        self.space_id = space_id
        self.accounts = accounts
        self.join_ms: list[float] = []
        self.errors: Counter[str] = Counter()
        self.closed_by_server: Counter[str] = Counter()
        self.frames: dict[bytes, list[float]] = {}
        self.received = 0
        self.open = 0
        self._sockets: list[ws_light.LightSocket] = []
        self._stopping = False

    async def join_all(self, http: Client, rate_per_s: float) -> None:
        """Opens the listeners at rate_per_s (open loop: slow answers do not slow the rate)."""
        start = time.monotonic()
        tasks = []
        for i, account in enumerate(self.accounts):
            await asyncio.sleep(max(0.0, start + i / rate_per_s - time.monotonic()))
            tasks.append(asyncio.create_task(self._join(http, account)))
        await asyncio.gather(*tasks)

    async def _join(self, http: Client, account: Account) -> None:
        started = time.monotonic()
        try:
            response = await http.request(
                "POST", f"/api/v1/spaces/{self.space_id}/join", token=account.token
            )
        except (HttpError, TimeoutError) as exc:
            self.errors[f"join: {type(exc).__name__}"] += 1
            return
        if response.status != 200:
            self.errors[f"join: HTTP {response.status}"] += 1
            return
        first: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        frames = self.frames
        monotonic = time.monotonic

        def on_message(payload: bytes) -> None:
            if not first.done():
                first.set_result(payload)
                return
            self.received += 1
            # Only reaction frames are timed: the rest (speaking levels, counts) are counted.
            if REACTION_MARKER not in payload:
                return
            times = frames.get(payload)
            if times is None:
                times = frames[payload] = []
            times.append(monotonic())

        url = f"{self.ws_url}/api/v1/spaces/{self.space_id}/events?token={account.token}"
        try:
            socket = await asyncio.wait_for(ws_light.connect(url, on_message), READY_TIMEOUT_S)
            kind = json.loads(await asyncio.wait_for(first, READY_TIMEOUT_S)).get("type")
        except (OSError, ConnectionError, TimeoutError, ValueError) as exc:
            self.errors[f"socket: {type(exc).__name__}: {str(exc)[:60]}"] += 1
            return
        if kind != "ready":
            self.errors[f"socket: first frame {kind}"] += 1
            await socket.close()
            return
        self.join_ms.append((time.monotonic() - started) * 1000)
        self.open += 1
        self._sockets.append(socket)
        socket.closed.add_done_callback(lambda _done: self._closed(socket))

    def _closed(self, socket: ws_light.LightSocket) -> None:
        self.open -= 1
        if not self._stopping:
            self.closed_by_server[f"{socket.close_code} {socket.close_reason}".strip()] += 1

    async def close_all(self) -> None:
        self._stopping = True
        if self._sockets:
            await asyncio.wait(
                [asyncio.ensure_future(socket.close()) for socket in self._sockets],
                timeout=CLOSE_TIMEOUT_S,
            )

    def result(self) -> dict[str, Any]:
        """Join times, errors, and the arrival times of every reaction frame."""
        reaction_frames = []
        for payload, times in self.frames.items():
            message = json.loads(payload)
            if message.get("type") == "reaction":
                items = [message["data"]]
            elif message.get("type") == "reactions":
                items = message["data"]["items"]
            else:
                continue
            reaction_frames.append(
                {
                    "at": message.get("at"),
                    "items": [[i["user_id"], i["emoji"]] for i in items],
                    "times": times,
                }
            )
        return {
            "listeners": len(self.accounts),
            "connected": len(self.join_ms),
            "join_ms": self.join_ms,
            "errors": dict(self.errors),
            "closed_by_server": dict(self.closed_by_server),
            "frames_received": self.received,
            "reaction_frames": reaction_frames,
        }
