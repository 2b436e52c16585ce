"""A channel's broadcaster: batched writes per socket, in seq order, slow sockets cut off."""

import asyncio
import json
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from townhall.realtime import InProcessBus
from townhall.realtime.fanout import (
    CLOSE_TOO_SLOW,
    Broadcaster,
    FanoutHub,
    Member,
    QueueSink,
    RawSink,
)
from townhall.realtime.frames import EncodedOnce, text_message

T = TypeVar("T")
CHANNEL = "space:1"
WINDOW_S = 0.05


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def ev(seq: int | None, kind: str = "x", **data: Any) -> EncodedOnce:
    return EncodedOnce(type=kind, space_id="1", seq=seq, at="t", data=data)


def parse_messages(data: bytes) -> list[str]:
    """Reads bytes as a WebSocket client would: every message, in order."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    messages = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            frame: Frame = done.value
        else:
            raise AssertionError("truncated frame")
        assert frame.opcode is Opcode.TEXT and frame.fin
        messages.append(bytes(frame.data).decode())
    return messages


class FakeRaw:
    """A connection that records each write; `buffered` is what its write buffer holds."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.buffered = 0
        self.closed: tuple[int, str] | None = None

    def write(self, data: bytes) -> int:
        if self.closed is not None:
            return -1
        self.writes.append(data)
        return self.buffered

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def detach(self, on_gone: Callable[[], None]) -> None:
        raise AssertionError("the broadcaster never detaches a socket; the route does")

    def frames(self) -> list[dict[str, Any]]:
        return [json.loads(m) for m in parse_messages(b"".join(self.writes))]

    def seqs(self) -> list[int | None]:
        return [f["seq"] for f in self.frames()]


class Store:
    """What the Space's event log holds, and how often the broadcaster read it."""

    def __init__(self, events: Sequence[EncodedOnce] = ()) -> None:
        self.events = list(events)
        self.reads = 0

    async def after(self, seq: int) -> tuple[Sequence[EncodedOnce] | None, int]:
        self.reads += 1
        latest = max((e["seq"] for e in self.events), default=0)
        return [e for e in self.events if e["seq"] > seq], latest


def resync(seq: int) -> EncodedOnce:
    return EncodedOnce(type="resync", space_id="1", seq=None, at="t", data={"seq": seq})


class Rig:
    def __init__(self, store: Store | None = None) -> None:
        self.bus = InProcessBus()
        self.store = store or Store()
        self.hub = FanoutHub(self.bus, window_s=WINDOW_S, max_window_s=WINDOW_S)

    async def __aenter__(self) -> "Rig":
        await self.bus.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.hub.close()
        await self.bus.close()

    def connect(self, last_seq: int = 0, raw: FakeRaw | None = None) -> tuple[Member, FakeRaw]:
        raw = raw or FakeRaw()
        member = self.hub.join(
            CHANNEL, RawSink(raw, max_buffered_bytes=1000), self.store.after, resync
        )
        member.go_live(last_seq)
        return member, raw

    @property
    def broadcaster(self) -> Broadcaster:
        found = self.hub.broadcaster(CHANNEL)
        assert found is not None
        return found

    async def publish(self, *frames: EncodedOnce) -> None:
        for frame in frames:
            await self.bus.publish(CHANNEL, frame)

    async def settle(self) -> None:
        await asyncio.sleep(WINDOW_S * 3)


def test_frames_of_one_window_go_to_each_socket_in_one_write_in_order() -> None:
    async def scenario() -> tuple[FakeRaw, FakeRaw]:
        async with Rig() as rig:
            _, first = rig.connect()
            _, second = rig.connect()
            await rig.publish(ev(1))
            await asyncio.sleep(0.01)  # the first frame after a quiet spell goes out at once
            await rig.publish(ev(None, "reaction"), ev(2), ev(3), ev(None, "reaction"), ev(4))
            await rig.settle()
            return first, second

    first, second = run(scenario())
    for raw in (first, second):
        assert raw.seqs() == [1, None, 2, 3, None, 4]
        assert len(raw.writes) == 2
    assert first.writes == second.writes


def test_only_the_latest_audience_count_of_a_window_is_sent() -> None:
    async def scenario() -> FakeRaw:
        async with Rig() as rig:
            _, raw = rig.connect()
            await rig.publish(ev(1))
            await asyncio.sleep(0.01)
            await rig.publish(
                ev(None, "listeners.count", participant_count=2),
                ev(2),
                ev(None, "listeners.count", participant_count=3),
                ev(None, "reaction"),
                ev(None, "listeners.count", participant_count=4),
            )
            await rig.settle()
            return raw

    frames = run(scenario()).frames()
    assert [(f["type"], f["seq"]) for f in frames] == [
        ("x", 1),
        ("x", 2),
        ("reaction", None),
        ("listeners.count", None),
    ]
    assert frames[-1]["data"] == {"participant_count": 4}


def test_a_slow_socket_gets_resync_and_is_closed_while_the_others_carry_on() -> None:
    async def scenario() -> tuple[FakeRaw, FakeRaw, int]:
        async with Rig() as rig:
            _, slow = rig.connect()
            _, fine = rig.connect()
            await rig.publish(ev(1))
            await rig.settle()
            slow.buffered = 5000  # the client stopped reading: its buffer passed the bound
            await rig.publish(ev(2))
            await rig.settle()
            await rig.publish(ev(3))
            await rig.settle()
            return slow, fine, rig.broadcaster.member_count()

    slow, fine, members = run(scenario())
    assert fine.seqs() == [1, 2, 3]
    assert [(f["type"], f["seq"]) for f in slow.frames()] == [("x", 1), ("x", 2), ("resync", None)]
    assert slow.frames()[-1]["data"] == {"seq": 2}
    assert slow.closed == (CLOSE_TOO_SLOW, "too far behind; reconnect with since")
    assert members == 1


def test_a_seq_gap_is_read_from_the_store_once_for_every_socket() -> None:
    stored = [ev(1), ev(2), ev(3)]

    async def scenario() -> tuple[list[FakeRaw], int]:
        async with Rig(Store(stored)) as rig:
            raws = [rig.connect()[1] for _ in range(3)]
            await rig.publish(ev(1))
            await rig.settle()
            # Seq 2 was committed first but its publish comes after seq 3's.
            await rig.publish(ev(3))
            await rig.settle()
            await rig.publish(ev(2), ev(4))
            await rig.settle()
            return raws, rig.store.reads

    raws, reads = run(scenario())
    for raw in raws:
        assert raw.seqs() == [1, 2, 3, 4]
    assert reads == 1


def test_a_socket_joining_mid_stream_gets_held_frames_after_its_backlog_without_repeats() -> None:
    async def scenario() -> FakeRaw:
        async with Rig() as rig:
            rig.connect()
            await rig.publish(ev(1))
            await rig.settle()
            raw = FakeRaw()
            member = rig.hub.join(CHANNEL, RawSink(raw), rig.store.after, resync)
            # While its backlog (up to seq 2) is read and sent, seq 2 and 3 are published.
            await rig.publish(ev(2), ev(None, "reaction"), ev(3))
            await rig.settle()
            assert raw.writes == []
            member.go_live(2)
            await rig.publish(ev(4))
            await rig.settle()
            return raw

    assert run(scenario()).seqs() == [None, 3, 4]


def test_a_socket_behind_the_channel_catches_up_from_the_store_on_its_own() -> None:
    stored = [ev(1), ev(2), ev(3)]

    async def scenario() -> tuple[FakeRaw, FakeRaw]:
        async with Rig(Store(stored)) as rig:
            _, in_step = rig.connect(last_seq=2)
            _, behind = rig.connect(last_seq=0)
            await rig.publish(ev(3))
            await rig.settle()
            await rig.publish(ev(4))
            await rig.settle()
            return in_step, behind

    in_step, behind = run(scenario())
    assert in_step.seqs() == [3, 4]
    assert behind.seqs() == [1, 2, 3, 4]


def test_the_asgi_fallback_sends_the_same_messages_as_the_raw_write() -> None:
    async def scenario() -> tuple[FakeRaw, list[str]]:
        sent: list[str] = []

        async def send_text(text: str) -> None:
            sent.append(text)

        async def close(code: int, reason: str) -> None:
            raise AssertionError("not too slow")

        async with Rig() as rig:
            _, raw = rig.connect()
            sink = QueueSink(send_text, close)
            rig.hub.join(CHANNEL, sink, rig.store.after, resync).go_live(0)
            pump = asyncio.create_task(sink.run())
            await rig.publish(ev(1, emoji="🔥"), ev(None, "reaction"), ev(2))
            await rig.settle()
            await rig.publish(ev(None, "listeners.count", n=1), ev(3))
            await rig.settle()
            pump.cancel()
            return raw, sent

    raw, sent = run(scenario())
    assert parse_messages(b"".join(raw.writes)) == sent
    assert len(sent) == 5


def test_a_fallback_socket_that_falls_behind_gets_resync_then_4408() -> None:
    async def scenario() -> tuple[list[str], list[tuple[int, str]]]:
        sent: list[str] = []
        closed: list[tuple[int, str]] = []
        stuck = asyncio.Event()

        async def send_text(text: str) -> None:
            sent.append(text)
            await stuck.wait()  # the first send never completes: a client that stopped reading

        async def close(code: int, reason: str) -> None:
            closed.append((code, reason))

        async with Rig() as rig:
            sink = QueueSink(send_text, close, max_frames=3)
            rig.hub.join(CHANNEL, sink, rig.store.after, resync).go_live(0)
            pump = asyncio.create_task(sink.run())
            for seq in range(1, 7):
                await rig.publish(ev(seq))
                await rig.settle()
            stuck.set()
            await asyncio.wait_for(pump, 1)
            return sent, closed

    sent, closed = run(scenario())
    assert [json.loads(t)["type"] for t in sent] == ["x", "resync"]
    assert closed == [(CLOSE_TOO_SLOW, "too far behind; reconnect with since")]


def test_the_last_socket_leaving_stops_the_channel_broadcaster() -> None:
    async def scenario() -> tuple[int, int]:
        async with Rig() as rig:
            first, _ = rig.connect()
            second, _ = rig.connect()
            first.leave()
            during = rig.bus.subscriber_count(CHANNEL)
            second.leave()
            await asyncio.sleep(0)
            return during, rig.bus.subscriber_count(CHANNEL)

    assert run(scenario()) == (1, 0)


def test_wire_bytes_are_one_text_message_whatever_the_length() -> None:
    for size in (0, 125, 126, 65535, 65536):
        payload = "é" * (size // 2) + "a" * (size % 2)
        assert parse_messages(text_message(payload.encode())) == [payload]


def test_the_window_grows_with_the_audience_within_its_bounds() -> None:
    async def scenario() -> list[float]:
        async with Rig() as rig:
            hub = FanoutHub(rig.bus, window_s=0.02, max_window_s=0.09)
            windows = []
            for _ in range(3000):
                hub.join(CHANNEL, RawSink(FakeRaw()), rig.store.after, resync)
                broadcaster = hub.broadcaster(CHANNEL)
                assert broadcaster is not None
                windows.append(broadcaster.window_s())
            hub.close()
            return windows

    windows = run(scenario())
    assert windows[0] == 0.02 and windows[-1] == 0.09
    assert windows == sorted(windows)
