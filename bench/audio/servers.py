"""The servers under test, each started fresh in its own process on this machine.

Townhall: ``townhall serve`` (SQLite in a temporary data dir, cheap password hashing so
hundreds of sign-ups take seconds), then a live Space whose host is unmuted, and listener
accounts that joined it (their bearer tokens go one a line to a file for listeners.py).

Janus (Debian ``janus`` 1.1.2): the minimal loopback-only configuration and the LD_PRELOAD
shim of ``../shared/bench/janus/`` (janus_config.py, lo_shim.c; README "Setup"), with free
ports instead of fixed ones.

    .venv/bin/python bench/audio/servers.py townhall --accounts 50   # start, set up, wait
    .venv/bin/python bench/audio/servers.py janus                    # start Janus, wait
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import IO, Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from bench.audio.common import log

HERE = Path(__file__).resolve().parent
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
FD_LIMIT = 65_536
CHEAP_PASSWORDS = {"TOWNHALL_PASSWORD_TIME_COST": "1", "TOWNHALL_PASSWORD_MEMORY_KIB": "1024"}
# Every simulated listener comes from 127.0.0.1: per-address rate limits would refuse them.
NO_ADDRESS_LIMITS = {
    "TOWNHALL_RATE_SIGNUP_PER_IP": "0",
    "TOWNHALL_RATE_LOGIN_PER_IP": "0",
    "TOWNHALL_RATE_POST_PER_IP": "0",
    "TOWNHALL_RATE_FOLLOW_PER_IP": "0",
    "TOWNHALL_RATE_JOIN_PER_IP": "0",
    "TOWNHALL_RATE_SPEAK_REQUEST_PER_IP": "0",
    "TOWNHALL_RATE_REACTION_PER_IP": "0",
    "TOWNHALL_RATE_WEBRTC_OFFER_PER_IP": "0",
}
PASSWORD = "bench-password-1"
SIGNUP_CONCURRENCY = 8

JANUS_LIB = Path("/usr/lib/x86_64-linux-gnu/janus")
JANUS_PLUGINS = {"libjanus_audiobridge.so", "libjanus_streaming.so"}
JANUS_TRANSPORTS = {"libjanus_http.so"}
JANUS_ROOM = 1234
JANUS_MOUNTPOINT = 1


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def child_setup(nice: int = 0) -> Callable[[], None]:
    """preexec_fn: enough open files, and the niceness of the process and of its autogroup.

    With the kernel's autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled), CPU
    is shared fairly between sessions first and nice values only count inside a session, so
    spawn() starts every process in a session of its own and the niceness goes to both.
    """

    def setup() -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = FD_LIMIT if hard == resource.RLIM_INFINITY else min(FD_LIMIT, hard)
        if want > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        if nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
            with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as f:
                f.write(str(nice))

    return setup


def spawn(command: Sequence[str], nice: int, out: IO[Any], **kwargs: Any) -> Popen[bytes]:
    """A server or client process in its own session (its own autogroup), output to `out`."""
    return subprocess.Popen(
        list(command),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=child_setup(nice),
        **kwargs,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_http(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"server exited during start-up:\n{tail}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not answering after {START_TIMEOUT_S:.0f} s")


# ----------------------------------------------------------------------------- Townhall


@dataclass
class TownhallSpace:
    space_id: str
    host_token: str
    listener_tokens: list[str] = field(default_factory=list)


@dataclass
class Townhall:
    process: subprocess.Popen[bytes]
    base_url: str
    data_dir: Path
    command: list[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def whip_url(self, space_id: str) -> str:
        return f"{self.base_url}/api/v1/spaces/{space_id}/whip"

    def whep_url(self, space_id: str) -> str:
        return f"{self.base_url}/api/v1/spaces/{space_id}/whep"

    def setup_space(self, accounts: int) -> TownhallSpace:
        """Host signs up, opens a Space and unmutes; `accounts` listeners sign up and join."""
        return asyncio.run(self._setup(accounts))

    async def _setup(self, accounts: int) -> TownhallSpace:
        api = f"{self.base_url}/api/v1"
        tag = secrets.token_hex(3)
        async with httpx.AsyncClient(timeout=60.0) as http:

            async def signup(name: str) -> str:
                r = await http.post(
                    f"{api}/auth/signup", json={"username": name, "password": PASSWORD}
                )
                r.raise_for_status()
                token: str = r.json()["token"]
                return token

            host = await signup(f"h_{tag}")
            auth = {"Authorization": f"Bearer {host}"}
            r = await http.post(f"{api}/spaces", json={"title": "audio bench"}, headers=auth)
            r.raise_for_status()
            space_id = str(r.json()["id"])
            r = await http.post(f"{api}/spaces/{space_id}/participants/me/unmute", headers=auth)
            r.raise_for_status()
            sem = asyncio.Semaphore(SIGNUP_CONCURRENCY)

            async def listener(i: int) -> str:
                async with sem:
                    token = await signup(f"l{i}_{tag}")
                    r = await http.post(
                        f"{api}/spaces/{space_id}/join",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    r.raise_for_status()
                    return token

            t0 = time.monotonic()
            tokens = await asyncio.gather(*(listener(i) for i in range(accounts)))
            log(f"townhall: {accounts} listener accounts joined in {time.monotonic() - t0:.1f} s")
        return TownhallSpace(space_id, host, list(tokens))


def townhall_command(port: int, data_dir: Path, probe: bool = False) -> list[str]:
    """`probe`: through memprobe.py, which dumps memory figures on SIGUSR1."""
    exe = Path(sys.executable).parent / "townhall"
    if probe:
        head = [sys.executable, str(HERE / "memprobe.py")]
    else:
        head = [str(exe)] if exe.exists() else [sys.executable, "-m", "townhall"]
    return [*head, "serve", "--port", str(port), "--data-dir", str(data_dir), "--quiet"]


@contextlib.contextmanager
def townhall(
    data_dir: Path, nice: int = 0, probe: bool = False, env: dict[str, str] | None = None
) -> Iterator[Townhall]:
    port = free_port()
    command = townhall_command(port, data_dir, probe)
    log_path = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as out:
        process = spawn(
            command,
            nice,
            out,
            env={**os.environ, **CHEAP_PASSWORDS, **NO_ADDRESS_LIMITS, **(env or {})},
        )
    server = Townhall(process, f"http://127.0.0.1:{port}", data_dir, command)
    try:
        _wait_http(f"{server.base_url}/api/v1/health", process, log_path)
        log(f"townhall: pid {process.pid} on {server.base_url}")
        yield server
    finally:
        _stop(process)


# ----------------------------------------------------------------------------- Janus


def janus_available() -> str | None:
    """None when Janus can run here, else why not."""
    if not shutil.which("janus"):
        return "the `janus` binary is not installed (apt-get install -y janus)"
    if not (JANUS_LIB / "plugins" / "libjanus_audiobridge.so").exists():
        return f"no AudioBridge plugin under {JANUS_LIB}"
    if not shutil.which("gcc"):
        return "gcc is needed to build the loopback shim (apt-get install -y gcc)"
    return None


def _so_names(sub: str) -> list[str]:
    return sorted(os.path.basename(p) for p in glob.glob(f"{JANUS_LIB}/{sub}/libjanus_*.so"))


def write_janus_config(out: Path, http_port: int, rtp_port: int, debug_level: int = 3) -> None:
    """As ../shared/bench/janus/janus_config.py: ICE-lite on 127.0.0.1 only, no STUN/TURN,
    mDNS ignored, only AudioBridge + Streaming + HTTP, room 1234 at 48 kHz, mountpoint 1 fed
    by Opus RTP on 127.0.0.1:rtp_port (the AudioBridge rtp_forward the harness adds)."""
    out.mkdir(parents=True, exist_ok=True)
    for f in glob.glob("/etc/janus/*.jcfg"):
        shutil.copy(f, out)
    disabled_plugins = ",".join(n for n in _so_names("plugins") if n not in JANUS_PLUGINS)
    disabled_transports = ",".join(n for n in _so_names("transports") if n not in JANUS_TRANSPORTS)
    (out / "janus.jcfg").write_text(f"""general: {{
\tconfigs_folder = "{out}"
\tplugins_folder = "{JANUS_LIB}/plugins"
\ttransports_folder = "{JANUS_LIB}/transports"
\tevents_folder = "{JANUS_LIB}/events"
\tloggers_folder = "{JANUS_LIB}/loggers"
\tdebug_level = {debug_level}
\tadmin_secret = "janusoverlord"
\tinterface = "127.0.0.1"
\tsession_timeout = 120
\tserver_name = "bench-janus"
}}
certificates: {{
}}
media: {{
\trtp_port_range = "20000-40000"
}}
nat: {{
\tnice_debug = false
\tice_lite = true
\tignore_mdns = true
\tice_enforce_list = "127.0.0.1"
}}
plugins: {{
\tdisable = "{disabled_plugins}"
}}
transports: {{
\tdisable = "{disabled_transports}"
}}
loggers: {{
\tdisable = "libjanus_jsonlog.so"
}}
events: {{
\tbroadcast = false
}}
""")
    (out / "janus.transport.http.jcfg").write_text(f"""general: {{
\tjson = "compact"
\tbase_path = "/janus"
\thttp = true
\tip = "127.0.0.1"
\tport = {http_port}
\thttps = false
}}
admin: {{
\tadmin_http = false
\tadmin_https = false
}}
cors: {{
}}
certificates: {{
}}
""")
    (out / "janus.plugin.audiobridge.jcfg").write_text(f"""general: {{
}}
room-{JANUS_ROOM}: {{
\tdescription = "bench room"
\tsampling_rate = 48000
\trecord = false
}}
""")
    (out / "janus.plugin.streaming.jcfg").write_text(f"""general: {{
}}
abmix: {{
\ttype = "rtp"
\tid = {JANUS_MOUNTPOINT}
\tdescription = "AudioBridge room {JANUS_ROOM} mix (rtp_forward)"
\taudio = true
\tvideo = false
\taudioport = {rtp_port}
\taudiopt = 111
\taudiocodec = "opus"
\taudioiface = "127.0.0.1"
}}
""")


def build_lo_shim(out: Path) -> Path:
    so = out / "lo_shim.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-o", str(so), str(HERE / "lo_shim.c"), "-ldl"],
        check=True,
    )
    return so


@dataclass
class Janus:
    process: subprocess.Popen[bytes]
    url: str
    rtp_port: int
    work_dir: Path
    command: list[str]

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def janus(work_dir: Path, nice: int = 0) -> Iterator[Janus]:
    why = janus_available()
    if why:
        raise RuntimeError(why)
    http_port = free_port()
    rtp_port = free_port(socket.SOCK_DGRAM)
    etc = work_dir / "etc"
    write_janus_config(etc, http_port, rtp_port)
    shim = build_lo_shim(work_dir)
    command = ["janus", "-F", str(etc)]
    log_path = work_dir / "janus.log"
    with log_path.open("wb") as out:
        process = spawn(command, nice, out, env={**os.environ, "LD_PRELOAD": str(shim)})
    server = Janus(process, f"http://127.0.0.1:{http_port}/janus", rtp_port, work_dir, command)
    try:
        _wait_http(f"{server.url}/info", process, log_path)
        log(f"janus: pid {process.pid} on {server.url}, mountpoint RTP port {rtp_port}")
        yield server
    finally:
        _stop(process)


# ----------------------------------------------------------------------------- CLI


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("server", choices=["townhall", "janus"])
    ap.add_argument("--dir", help="data / work directory (default: a new temporary one)")
    ap.add_argument("--accounts", type=int, default=50, help="Townhall listener accounts")
    a = ap.parse_args()
    import tempfile

    work = Path(a.dir or tempfile.mkdtemp(prefix=f"bench-{a.server}-"))
    info: dict[str, Any]
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if a.server == "townhall":
        with townhall(work) as th:
            space = th.setup_space(a.accounts)
            tokens = work / "tokens.txt"
            tokens.write_text("\n".join(space.listener_tokens) + "\n")
            info = {
                "pid": th.pid,
                "whip_url": th.whip_url(space.space_id),
                "whep_url": th.whep_url(space.space_id),
                "token": space.host_token,
                "listener_tokens_file": str(tokens),
                "space_id": space.space_id,
                "base_url": th.base_url,
            }
            print(json.dumps(info), flush=True)
            while not stop:
                time.sleep(0.5)
    else:
        with janus(work) as j:
            info = {"pid": j.pid, "janus_url": j.url, "forward_port": j.rtp_port}
            print(json.dumps(info), flush=True)
            while not stop:
                time.sleep(0.5)


if __name__ == "__main__":
    main()
