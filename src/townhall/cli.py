"""The `townhall` command: serve the app, load demo data, grant the admin role, and
load-test a running deployment."""

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from townhall import __version__
from townhall.config import Settings, load_settings
from townhall.gc_pauses import PauseWatch
from townhall.loadtest.plan import add_arguments as add_loadtest_arguments

log = logging.getLogger("townhall")


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aioice logs every ICE check at INFO: about five lines per peer, ~1 ms of the event
    # loop per join (py-spy, bench/audio/join_cost.py). Its warnings still show.
    logging.getLogger("aioice").setLevel(logging.DEBUG if verbose else logging.WARNING)


def _settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    changes: dict[str, object] = {}
    if getattr(args, "data_dir", None):
        changes["data_dir"] = Path(args.data_dir)
    if getattr(args, "db", None):
        changes["database_url"] = args.db
    return settings.with_overrides(**changes) if changes else settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from townhall.api.app import create_app
    from townhall.api.server_options import uvicorn_options

    settings = _settings_from(args)
    if not settings.node_url:
        # Other nodes forward signalling here; behind NAT or in containers set it yourself.
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104
        settings = settings.with_overrides(node_url=f"http://{host}:{args.port}")
    app = create_app(settings)
    log.info("Townhall %s serving on http://%s:%s", __version__, args.host, args.port)
    # Everything imported and built so far lives as long as the process. Frozen, the cyclic
    # GC never walks it again: a full collection over it took 0.3 s here, a pause every
    # request in flight would wait out.
    gc.collect()
    gc.freeze()
    PauseWatch().install()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info" if not args.quiet else "warning",
        access_log=not args.quiet,
        proxy_headers=False,
        **uvicorn_options(),
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from townhall.container import build_container

    container = build_container(_settings_from(args))
    container.engine.dispose()
    print("database is up to date")
    return 0


def _demo(args: argparse.Namespace) -> int:
    import asyncio

    from townhall.container import build_container
    from townhall.demo import load_demo

    container = build_container(_settings_from(args))

    async def run() -> str:
        # The event bus runs as it does in the server, so a demo follow notifies like a real one.
        await container.start()
        try:
            return await asyncio.to_thread(
                load_demo, container.services, password=args.password, progress=print
            )
        finally:
            await container.stop()

    print(asyncio.run(run()))
    return 0


def _loadtest(args: argparse.Namespace) -> int:
    from townhall.loadtest.cli import run_loadtest

    return run_loadtest(args)


def _admin(args: argparse.Namespace) -> int:
    """`townhall admin grant|revoke USERNAME`: 0 done (or already so), 1 no such user."""
    from townhall.container import build_container
    from townhall.domain.errors import NotFound
    from townhall.services.moderation import do_set_admin

    grant = args.action == "grant"
    container = build_container(_settings_from(args))
    try:
        print(f"{'granting' if grant else 'revoking'} the admin role of {args.username} ...")
        changed = do_set_admin(container.services, args.username, grant)
    except NotFound:
        print(f"error: there is no user named {args.username!r}", file=sys.stderr)
        return 1
    finally:
        container.engine.dispose()
    if not changed:
        print(f"{args.username} {'is already' if grant else 'was not'} an admin; nothing changed")
    elif grant:
        print(f"{args.username} is now an admin: the Moderation page is in their menu")
    else:
        print(f"{args.username} is no longer an admin")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="townhall",
        description="Townhall: live social audio on your own server.",
        epilog="Settings come from TOWNHALL_* environment variables; see docs/operations.md.",
    )
    parser.add_argument("--version", action="version", version=f"townhall {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def storage_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--db",
            metavar="URL",
            help="database URL (default: SQLite file under the data dir; "
            "postgresql://... for PostgreSQL; env TOWNHALL_DATABASE_URL)",
        )
        sub.add_argument(
            "--data-dir",
            metavar="DIR",
            help="where the SQLite file and media live (default ./var; env TOWNHALL_DATA_DIR)",
        )

    serve = commands.add_parser(
        "serve",
        help="run the web server (applies migrations first)",
        description="Run the Townhall server: API, WebSockets and the web client.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--quiet", action="store_true", help="no access log")
    storage_options(serve)
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date and exit")
    storage_options(migrate)
    migrate.set_defaults(handler=_migrate)

    demo = commands.add_parser(
        "demo",
        help="load believable demo data: users, follows, posts",
        description="Create demo users who follow each other and post. Safe to run twice.",
    )
    demo.add_argument(
        "--password",
        default="townhall-demo",
        help="password of every demo account (default: townhall-demo)",
    )
    storage_options(demo)
    demo.set_defaults(handler=_demo)

    loadtest = commands.add_parser(
        "loadtest",
        help="load a running deployment with WebSocket, WebRTC and HLS listeners",
        description="Join a live Space with many WebSocket, WebRTC and HLS listeners and send "
        "reactions, then report join times, event latency, audio loss, mouth-to-ear latency, "
        "HLS fetches and server CPU. Without --space it signs up its own host and speaker "
        "and opens a Space. See docs/loadtest.md.",
        epilog="Example: townhall loadtest --url http://127.0.0.1:8000 --ws 200 --webrtc 20 "
        "--hls 1000 --reactions 50 --duration 30 --server-pid 1234",
    )
    add_loadtest_arguments(loadtest)
    loadtest.set_defaults(handler=_loadtest)

    admin = commands.add_parser(
        "admin",
        help="grant or revoke the admin (moderator) role",
        description="Admins work the moderation queue: reports, suspensions, removals. "
        "Every change of the role is written to the moderation audit log.",
    )
    admin.add_argument("action", choices=("grant", "revoke"), help="grant or revoke the role")
    admin.add_argument("username", help="the account's username")
    storage_options(admin)
    admin.set_defaults(handler=_admin)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    handler = args.handler
    result: int = handler(args)
    return result
