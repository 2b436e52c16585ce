"""What a load test run does: its command-line options, and how clients split over processes."""

import argparse
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8000"
PASSWORD = "townhall-loadtest"
REACTIONS_PER_USER_PER_S = 4
"""Below the server's 5 a second per user (domain/spaces/reactions.py), with some slack."""


@dataclass(frozen=True)
class Account:
    user_id: str
    token: str


@dataclass
class WorkerSpec:
    """One client process's share of the run; sent to it as JSON."""

    index: int
    url: str
    space_id: str
    ws_accounts: list[Account] = field(default_factory=list)
    rtc_accounts: list[Account] = field(default_factory=list)
    rtc_probes: int = 0
    hls_count: int = 0
    hls_first_index: int = 0
    hls_total: int = 0
    hls_connections: int = 256
    join_rate_per_s: float = 50.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WorkerSpec":
        data = dict(data)
        data["ws_accounts"] = [Account(**a) for a in data["ws_accounts"]]
        data["rtc_accounts"] = [Account(**a) for a in data["rtc_accounts"]]
        return cls(**data)


def _share(total: int, parts: int, index: int) -> tuple[int, int]:
    """(first, count) of an even split of range(total) into parts."""
    first = total * index // parts
    return first, total * (index + 1) // parts - first


def split(
    args: argparse.Namespace,
    space_id: str,
    ws_accounts: list[Account],
    rtc_accounts: list[Account],
) -> list[WorkerSpec]:
    """Spreads each kind of client evenly over --procs processes; HLS phases stay global."""
    specs = []
    probes_left = args.rtc_probes
    for index in range(args.procs):
        ws_first, ws_count = _share(len(ws_accounts), args.procs, index)
        rtc_first, rtc_count = _share(len(rtc_accounts), args.procs, index)
        hls_first, hls_count = _share(args.hls, args.procs, index)
        probes = min(probes_left, rtc_count)
        probes_left -= probes
        specs.append(
            WorkerSpec(
                index=index,
                url=args.url,
                space_id=space_id,
                ws_accounts=ws_accounts[ws_first : ws_first + ws_count],
                rtc_accounts=rtc_accounts[rtc_first : rtc_first + rtc_count],
                rtc_probes=probes,
                hls_count=hls_count,
                hls_first_index=hls_first,
                hls_total=args.hls,
                hls_connections=args.hls_connections,
                join_rate_per_s=args.join_rate / args.procs,
            )
        )
    return specs


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    clients = parser.add_argument_group("clients")
    clients.add_argument(
        "--url", default=DEFAULT_URL, help=f"the deployment's base URL (default {DEFAULT_URL})"
    )
    clients.add_argument(
        "--ws", type=_count, default=100, metavar="N", help="WebSocket event listeners (100)"
    )
    clients.add_argument(
        "--webrtc", type=_count, default=10, metavar="M", help="WebRTC audio listeners (10)"
    )
    clients.add_argument(
        "--hls", type=_count, default=100, metavar="K", help="simulated HLS players (100)"
    )
    clients.add_argument(
        "--reactions",
        type=float,
        default=10.0,
        metavar="R",
        help="reactions a second, sent in turn by the WebSocket listeners' accounts (and more "
        "accounts when there are fewer than R/4 of them: 5 a second per user is the limit) "
        "(10)",
    )
    clients.add_argument(
        "--duration",
        type=_positive_float,
        default=30.0,
        metavar="S",
        help="measured seconds, after every client joined (30)",
    )
    clients.add_argument(
        "--space",
        metavar="ID",
        help="an existing live Space to listen to; by default the load tester signs up a host "
        "and a speaker, opens a Space and publishes a click track (needed for mouth-to-ear)",
    )
    clients.add_argument(
        "--procs",
        type=int,
        default=1,
        metavar="N",
        help="client processes to spread the listeners over (1); each is one event loop",
    )
    clients.add_argument(
        "--join-rate",
        type=_positive_float,
        default=50.0,
        metavar="PER_S",
        help="WebSocket and WebRTC joins a second, over all processes (50)",
    )
    clients.add_argument(
        "--rtc-probes",
        type=_count,
        default=4,
        metavar="N",
        help="WebRTC listeners that decode the audio for mouth-to-ear latency (4)",
    )
    clients.add_argument(
        "--hls-connections",
        type=int,
        default=256,
        metavar="N",
        help="keep-alive HTTP connections per process for its HLS players' segments, and a "
        "quarter as many for playlists (256; behind a cache that makes requests for a new "
        "segment wait, up to one per player)",
    )
    setup = parser.add_argument_group("set-up")
    setup.add_argument(
        "--signup-concurrency",
        type=int,
        default=4,
        metavar="N",
        help="sign-ups in flight at once while creating the listener accounts (4)",
    )
    setup.add_argument(
        "--password",
        default=PASSWORD,
        help=f"password of the accounts the load tester creates ({PASSWORD})",
    )
    setup.add_argument(
        "--accounts-file",
        metavar="FILE",
        help="reuse the listener accounts saved in FILE by earlier runs against the same "
        "deployment, and save the ones this run signs up there (sign-ups cost the server "
        "CPU, and each run would otherwise add accounts)",
    )
    setup.add_argument(
        "--keep-space",
        action="store_true",
        help="leave the Space the load tester opened live at the end (default: end it)",
    )
    measure = parser.add_argument_group("measurements")
    measure.add_argument(
        "--server-pid",
        type=int,
        nargs="+",
        default=[],
        metavar="PID",
        help="server processes on this machine whose CPU to sample from /proc",
    )
    measure.add_argument(
        "--origin-access-log",
        nargs="+",
        default=[],
        metavar="PATH",
        help="access logs (uvicorn or nginx) of the origin nodes: after the run, count the "
        "requests each HLS segment cost the origins",
    )
    measure.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    measure.add_argument(
        "--quiet", action="store_true", help="no progress lines, only the summary table"
    )


def check(args: argparse.Namespace) -> str | None:
    """A message when the options cannot work together, else None."""
    if args.procs < 1:
        return "--procs must be at least 1"
    if args.reactions < 0:
        return "--reactions must be 0 or more"
    if args.hls_connections < 1:
        return "--hls-connections must be at least 1"
    if not args.url.startswith("http://"):
        return "--url must be http:// (put the load tester next to the TLS proxy, or behind it)"
    return None
