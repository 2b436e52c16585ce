"""The `townhall loadtest` command's body: check the options, run, print the table."""

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from townhall.loadtest.deployment import SetupError
from townhall.loadtest.plan import check
from townhall.loadtest.report import format_summary


def run_loadtest(args: argparse.Namespace) -> int:
    """0 when every client joined and nothing failed, 1 when some errors happened, 2 when
    the run could not be set up."""
    problem = check(args)
    if problem:
        print(f"townhall loadtest: {problem}", file=sys.stderr)
        return 2
    # aiortc and aioice log every ICE check and DTLS step; the table says what went wrong.
    for name in ("aioice", "aiortc"):
        logging.getLogger(name).setLevel(logging.WARNING if not args.verbose else logging.DEBUG)
    from townhall.loadtest.runner import run

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        summary = asyncio.run(run(args, say))
    except SetupError as exc:
        print(f"townhall loadtest: set-up failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("townhall loadtest: interrupted", file=sys.stderr)
        return 130
    except (RuntimeError, TimeoutError) as exc:
        # A client process died, or some never finished joining.
        print(f"townhall loadtest: the run failed: {exc!r}", file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    print()
    print(format_summary(summary), flush=True)
    if args.json:
        print(f"\nresults: {args.json}")
    joined = (
        summary["ws"]["connected"] == args.ws
        and summary["webrtc"]["with_media"] == args.webrtc
        and summary["hls"]["playing"] == args.hls
    )
    return 0 if joined and not summary["errors"] else 1
