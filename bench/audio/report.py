"""bench/results/audio_listeners.md from the sweep's JSON (sweep.py writes both)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

LABELS = {
    "townhall": "Townhall",
    "janus-ab": "Janus AudioBridge",
    "janus-stream": "Janus Streaming",
}

Row = dict[str, Any]


def _v(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _pair(row: Row, a: str, b: str, digits: int = 0) -> str:
    return f"{_v(row.get(a), digits)} / {_v(row.get(b), digits)}"


def _loss(row: Row) -> str:
    return f"{_v(row.get('loss_pct'), 2)} / {_v(row.get('rate_gap_pct'), 1)}"


DETAIL: Sequence[tuple[str, Callable[[Row], str]]] = (
    ("N", lambda r: _v(r.get("n"))),
    ("joined", lambda r: _v(r.get("joined"))),
    ("server CPU %", lambda r: _v(r.get("server_cpu_pct"))),
    ("main thread %", lambda r: _v(r.get("server_main_thread_cpu_pct"))),
    ("CPU %/listener (marginal)", lambda r: _v(r.get("cpu_pct_per_listener_marginal"), 3)),
    ("RSS MB", lambda r: _v(r.get("server_rss_mb"))),
    ("RSS KB/listener", lambda r: _v(r.get("rss_kb_per_listener"), 0)),
    ("pps/listener", lambda r: _v(r.get("pps_mean"), 1)),
    ("loss % seq / rate gap %", _loss),
    ("worst listener loss %", lambda r: _v(r.get("loss_pct_max_listener"), 1)),
    ("join p50 / p99 ms", lambda r: _pair(r, "join_ms_p50", "join_ms_p99")),
    ("mouth-to-ear p50 / p99 ms", lambda r: _pair(r, "latency_ms_p50", "latency_ms_p99")),
    ("latency samples", lambda r: _v(r.get("latency_samples"))),
    ("listeners CPU %", lambda r: _v(r.get("harness_cpu_pct"))),
    ("speaker CPU %", lambda r: _v(r.get("speaker_cpu_pct"))),
    ("other CPU %", lambda r: _v(r.get("other_cpu_pct"))),
    ("CPU pressure %", lambda r: _v(r.get("cpu_pressure_pct"), 0)),
    ("main thread waiting %", lambda r: _v(r.get("server_main_thread_wait_pct"))),
    ("all threads waiting %", lambda r: _v(r.get("server_wait_pct"))),
    ("client loop lag p99 ms", lambda r: _v(r.get("loop_lag_ms_p99"), 0)),
    ("stop", lambda r: r.get("stop") or ""),
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _steps(run: Row) -> list[Row]:
    return [s for s in run.get("steps", []) if not s.get("failed_step")]


def side_by_side(runs: dict[str, Row]) -> list[str]:
    names = [n for n in LABELS if n in runs and _steps(runs[n])]
    if not names:
        return ["(no completed run)"]
    by_n: dict[int, dict[str, Row]] = {}
    for name in names:
        for s in _steps(runs[name]):
            by_n.setdefault(int(s["n"]), {})[name] = s
    metrics: Sequence[tuple[str, Callable[[Row], str]]] = (
        ("server CPU % of 1 core", lambda r: _v(r.get("server_cpu_pct"))),
        ("CPU %/listener (server CPU / N)", lambda r: _v(r.get("cpu_pct_per_listener"), 3)),
        (
            "marginal CPU %/listener ((server CPU - baseline) / N)",
            lambda r: _v(r.get("cpu_pct_per_listener_marginal"), 3),
        ),
        ("loss % (seq / rate gap)", _loss),
        ("join p50 / p99 ms", lambda r: _pair(r, "join_ms_p50", "join_ms_p99")),
        ("mouth-to-ear p50 / p99 ms", lambda r: _pair(r, "latency_ms_p50", "latency_ms_p99")),
        ("RSS KB/listener", lambda r: _v(r.get("rss_kb_per_listener"), 0)),
    )
    out: list[str] = []
    for title, fn in metrics:
        out.append(f"**{title}**")
        out.append("")
        rows = []
        for n in sorted(by_n):
            cells = by_n[n]
            rows.append([str(n)] + [fn(cells[m]) if m in cells else "–" for m in names])
        out += _table(["N", *[LABELS[m] for m in names]], rows)
        out.append("")
    return out


def _passing(run: Row, max_loss: float = 1.0) -> list[Row]:
    """Steps where every listener joined and loss and rate gap stayed under max_loss."""
    return [
        s
        for s in _steps(run)
        if s.get("joined") == s.get("n")
        and (s.get("loss_pct") or 0.0) < max_loss
        and (s.get("rate_gap_pct") or 0.0) < max_loss
    ]


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**not met**")


def targets(runs: dict[str, Row]) -> list[str]:
    """Townhall against the targets of the live-audio issue, from the measured rows."""
    th = runs.get("townhall")
    if not th or not _steps(th):
        return []
    ok = _passing(th)
    top = max((int(s["n"]) for s in ok), default=0)
    hls = (th.get("hls") or {}).get("g2g_ms_p50")

    def up_to(good: Callable[[Row], bool | None], show: Callable[[Row], str]) -> list[str]:
        verdicts = [(int(s["n"]), good(s)) for s in ok]
        measured = ", ".join(f"N={int(s['n'])}: {show(s)}" for s in ok)
        if not verdicts or any(v is None for _, v in verdicts):
            return [measured, "–"]
        if all(v for _, v in verdicts):
            return [measured, "met"]
        met = [n for n, v in verdicts if v]
        first_bad = min(n for n, v in verdicts if not v)
        below = [n for n in met if n < first_bad]
        return [measured, f"**met up to N={max(below)}**" if below else "**not met**"]

    def latency_ok(r: Row) -> bool | None:
        p50, p99 = r.get("latency_ms_p50"), r.get("latency_ms_p99")
        return None if p50 is None or p99 is None else p50 < 100 and p99 < 150

    def join_ok(r: Row) -> bool | None:
        j = r.get("join_ms_p99")
        return None if j is None else j < 1000

    rows = [
        [
            "WebRTC listeners with < 1% loss: at least 500, aiming for 1,000",
            f"{top} (largest N passing)",
            _verdict(top >= 500),
        ],
        [
            "mouth-to-ear p50 < 100 ms, p99 < 150 ms",
            *up_to(latency_ok, lambda r: _pair(r, "latency_ms_p50", "latency_ms_p99")),
        ],
        [
            "join (offer -> first audio) p99 < 1 s at 50 joins/s",
            *up_to(join_ok, lambda r: f"{_v(r.get('join_ms_p99'), 0)}"),
        ],
        [
            "HLS glass-to-glass < 3 s",
            f"p50 {_v(hls, 0)} ms (to the segment's download)",
            _verdict(None if hls is None else hls < 3000),
        ],
    ]
    stream = runs.get("janus-stream")
    by_n = {int(s["n"]): s for s in _passing(stream)} if stream else {}
    common = [s for s in ok if int(s["n"]) in by_n]
    if common:
        pairs = [
            (
                int(s["n"]),
                s.get("cpu_pct_per_listener_marginal"),
                by_n[int(s["n"])].get("cpu_pct_per_listener_marginal"),
            )
            for s in common
        ]
        text = ", ".join(f"N={n}: {_v(a, 3)} vs {_v(b, 3)}" for n, a, b in pairs)
        rows.append(
            [
                "server CPU per listener at or below Janus Streaming's (marginal, % of a core)",
                text,
                _verdict(all(a is not None and b is not None and a <= b for _, a, b in pairs)),
            ]
        )
    lat_rows = []
    for other in ("janus-ab", "janus-stream"):
        if other not in runs:
            continue
        theirs = {int(s["n"]): s for s in _passing(runs[other])}
        for s in ok:
            o = theirs.get(int(s["n"]))
            if o and s.get("latency_ms_p50") is not None and o.get("latency_ms_p50") is not None:
                lat_rows.append((other, int(s["n"]), s["latency_ms_p50"], o["latency_ms_p50"]))
    if lat_rows:
        text = "; ".join(f"{LABELS[o]} N={n}: {_v(a, 0)} vs {_v(b, 0)}" for o, n, a, b in lat_rows)
        rows.append(
            [
                "latency below both Janus modes (p50 ms, where both pass)",
                text,
                _verdict(all(a < b for _, _, a, b in lat_rows)),
            ]
        )
    return [
        "## Townhall against the live-audio targets",
        "",
        *_table(["target", "measured", ""], rows),
        "",
    ]


def _run_section(name: str, run: Row) -> list[str]:
    out = [f"### {LABELS.get(name, name)}", ""]
    if run.get("unavailable"):
        return [*out, f"Not run: {run['unavailable']}", ""]
    out.append(f"- started {run.get('started')}, finished {run.get('finished')}")
    if run.get("command"):
        out.append(f"- sweep: `{run['command']}`")
    m = run.get("machine", {})
    out.append(
        f"- machine: nproc {m.get('nproc')}, {m.get('cpu_model')}, {m.get('mem_gib')} GiB, "
        f"load average at start {m.get('loadavg_at_start')}"
    )
    out.append(f"- versions: {json.dumps(run.get('versions', {}))}")
    out.append(f"- settings: {json.dumps(run.get('settings', {}))}")
    server = run.get("server", {})
    if server.get("command"):
        out.append(f"- server: `{server['command']}`")
    if run.get("speaker_command"):
        out.append(f"- speaker: `{run['speaker_command']}`")
    steps = _steps(run)
    if steps and steps[0].get("listeners_command"):
        out.append(f"- listeners (per step): `{steps[0]['listeners_command']}`")
    b = run.get("baseline")
    if b:
        out.append(
            f"- baseline, speaker connected and no listener: server {b['server_cpu_pct']}% "
            f"(main thread {b.get('server_main_thread_cpu_pct')}%), RSS {b['server_rss_mb']} MB, "
            f"{b.get('server_threads')} threads, machine busy {b['machine_busy_pct']}%, CPU "
            f"pressure {b.get('cpu_pressure_pct')}%, main thread waiting for a CPU "
            f"{b.get('server_main_thread_wait_pct')}%"
        )
    if run.get("error"):
        out.append(f"- **error**: `{run['error']}`")
    out.append("")
    if steps:
        out += _table([h for h, _ in DETAIL], [[fn(s) for _, fn in DETAIL] for s in steps])
        out.append("")
    failed = [s["n"] for s in run.get("steps", []) if s.get("failed_step")]
    if failed:
        out += [f"Step(s) that did not complete: N = {failed}", ""]
    return out


def _hls_section(hls: Row) -> list[str]:
    if hls.get("error"):
        return [f"HLS phase failed: `{hls['error'][:300]}`", ""]
    return [
        f"- command: `{hls.get('command')}`",
        f"- {hls.get('clicks_matched')} clicks in {hls.get('segments_fetched')} segments "
        f"over {hls.get('duration_s')} s, playlist polled every {hls.get('poll_s')} s",
        f"- **glass-to-glass p50 {_v(hls.get('g2g_ms_p50'), 0)} ms**, p99 "
        f"{_v(hls.get('g2g_ms_p99'), 0)} ms (min {_v(hls.get('g2g_ms_min'), 0)}, max "
        f"{_v(hls.get('g2g_ms_max'), 0)}); segment download p50 "
        f"{_v(hls.get('segment_fetch_ms_p50'), 1)} ms",
        f"- #EXT-X-PROGRAM-DATE-TIME minus mouth time: {_v(hls.get('pdt_skew_ms_first'), 0)} ms "
        f"at the first click, {_v(hls.get('pdt_skew_ms_last'), 0)} ms at the last (it drifts "
        "back by 20 ms for every mixer tick skipped)",
        "",
    ]


def _profile_part(title: str, p: Row) -> list[str]:
    out = [f"#### {title}", "", f"`{p.get('command')}`: {p.get('samples')} samples", ""]
    if p.get("error"):
        return [*out, f"py-spy failed: `{p['error'][:300]}`", ""]
    out += _table(["activity", "% of samples"], [[k, _v(v)] for k, v in p.get("buckets", [])])
    out += [""]
    out += _table(["thread", "% of samples"], [[k, _v(v)] for k, v in p.get("threads", [])])
    out += ["", "Top functions, inclusive:", ""]
    out += _table(
        ["function", "% of samples"],
        [[f"`{k}`", _v(v)] for k, v in p.get("top_inclusive", [])[:30]],
    )
    out += ["", "Top functions, self:", ""]
    out += _table(
        ["function", "% of samples"], [[f"`{k}`", _v(v)] for k, v in p.get("top_self", [])[:20]]
    )
    out.append("")
    return out


def _profile_section(p: Row) -> list[str]:
    out = [
        f"One extra step at N = {p.get('n')} with py-spy attached (`--gil`: only samples that "
        "hold the GIL, so waiting in epoll or on a lock is not counted). "
        "Each sample goes to the first matching activity (bench/audio/pyspy_summary.py).",
        "",
    ]
    step = p.get("step") or {}
    if step:
        out += [
            f"That step: server CPU {step.get('server_cpu_pct')}% (main thread "
            f"{step.get('server_main_thread_cpu_pct')}%), pps {step.get('pps_mean')}, loss "
            f"{step.get('loss_pct')}%, gap {step.get('rate_gap_pct')}%, join p50/p99 "
            f"{step.get('join_ms_p50')}/{step.get('join_ms_p99')} ms.",
            "",
        ]
    if p.get("steady"):
        out += _profile_part("Steady state (the measured window)", p["steady"])
    if p.get("join"):
        out += _profile_part(f"While the {p.get('n')} listeners join", p["join"])
    return out


DEFINITIONS = """\
## How it is measured

- One machine: server, speaker and listener processes share its cores, and other work on
  the machine (other tenants, tests) competes with them: *other CPU %* is what the machine
  spent outside those three processes during the window (% of one core; 100 x nproc = all).
- **CPU pressure %** = share of the window during which some runnable task on the machine
  waited for a CPU (Linux PSI, /proc/pressure/cpu "some"); **main thread waiting %** = share
  of the window the server's main thread was runnable but not running (schedstat): CPU the
  server wanted and did not get. Townhall's 20 ms clock lives on that thread. *All threads
  waiting %* sums that over every thread of the server (Janus runs a thread per session).
- **server CPU %** = d(utime + stime) / wall of the server process over the window, % of one
  core (all threads; 200% = both cores). *main thread %* is the thread running Townhall's
  event loop (for Janus that thread is idle: its work is in per-session threads).
  *CPU %/listener* = server CPU / N; *marginal* subtracts the baseline (speaker, no listener).
- **RSS KB/listener** = (max VmRSS in the window - RSS at baseline) / N; steps go up in N in
  one server process, so freed memory from a smaller step is reused by the next one.
- **loss % seq** = 1 - received / (RTP sequence span) summed over listeners in the window
  (network and kernel drops; listeners with no packet count as 50 expected a second).
  **rate gap %** = 1 - (mean packets a second per listener) / 50: packets the server never
  sent (a skipped mixer tick or a sender queue that dropped its oldest frame leaves no
  sequence gap). Negative: catch-up bursts at the window's edges.
- **join** = SDP offer POSTed (WHEP, AudioBridge join; Streaming: `watch` sent) -> first RTP
  packet, every listener of the step, joining open-loop at the join rate.
- **mouth-to-ear** = decoding probe listener's 1 kHz click onset at packet arrival minus the
  speaker's onset when its frame was handed to the encoder. Includes the server's jitter
  buffer (Janus AudioBridge prebuffers), excludes any client jitter buffer and playout.
- Every listener does full ICE + DTLS-SRTP with aiortc (one process, uvloop). After that,
  listeners other than the probes count packets as they come off the socket (the RTP
  sequence number is in SRTP's clear header: no unprotect, no aiortc per-packet path);
  the 4 probes go through aiortc's SRTP + RTP path and decode every packet.
- Every process (server, speaker, listeners) runs in its own session, so the kernel's
  autogroup scheduler treats each like an independent service; the settings line shows the
  niceness they ran at (`--nice`, also applied to their autogroups).
- A sweep goes on past the listed N while loss and rate gap stay under the limit, every
  listener joined, and neither the server nor the listeners process saturated.
"""


def markdown(doc: Row) -> str:
    runs: dict[str, Row] = doc.get("runs", {})
    out = [
        "# Live audio: one speaker, N WebRTC listeners (Townhall, Janus)",
        "",
        "Written by `bench/audio/sweep.py` (see bench/README.md, *Live audio*). Each section "
        "below names its exact commands, date and machine.",
        "",
        "## Side by side",
        "",
    ]
    out += side_by_side(runs)
    out += targets(runs)
    out += [DEFINITIONS, "## Runs", ""]
    for name in LABELS:
        if name in runs:
            out += _run_section(name, runs[name])
    th = runs.get("townhall", {})
    if th.get("hls"):
        out += ["## Townhall HLS glass-to-glass", ""]
        out += _hls_section(th["hls"])
    if th.get("profile"):
        out += ["## Where Townhall's CPU goes (py-spy)", ""]
        out += _profile_section(th["profile"])
    notes = doc.get("notes")
    if notes:
        out += ["## Notes", "", notes, ""]
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    """Re-render the markdown: report.py <results.json> [<out.md>]."""
    src = Path(sys.argv[1])
    doc = json.loads(src.read_text())
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else src.with_suffix(".md")
    dst.write_text(markdown(doc))


if __name__ == "__main__":
    main()
