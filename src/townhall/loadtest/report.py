"""Merges the client processes' results into one summary, and prints it as a table."""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from townhall.loadtest.clicks import match_latency_ms
from townhall.loadtest.stats import Histogram, summarize

SEGMENT_MARGIN_S = 3.0
"""Segments first fetched this close to the end of the window were not fetched by everyone."""


def _errors(results: Sequence[dict[str, Any]], *keys: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    for result in results:
        for key in keys:
            total.update(result.get(key, {}))
    return dict(total)


def merge_ws(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "listeners": sum(r["listeners"] for r in results),
        "connected": sum(r["connected"] for r in results),
        "errors": _errors(results, "errors"),
        "closed_by_server": _errors(results, "closed_by_server"),
        "join_ms": summarize(t for r in results for t in r["join_ms"]),
        "frames_received": sum(r["frames_received"] for r in results),
    }


def merge_rtc(results: Sequence[dict[str, Any]], clicks: list[float]) -> dict[str, Any]:
    received = sum(r["packets_received"] for r in results)
    expected = sum(r["packets_expected"] for r in results)
    full_rate = sum(r["packets_at_full_rate"] for r in results)
    onsets = [t for r in results for t in r["onsets"]]
    return {
        "listeners": sum(r["listeners"] for r in results),
        "with_media": sum(r["with_media"] for r in results),
        "errors": _errors(results, "errors"),
        "decode_errors": sum(r["decode_errors"] for r in results),
        "join_ms": summarize(t for r in results for t in r["join_ms"]),
        "packets_received": received,
        "loss_pct": 100.0 * max(0, expected - received) / expected if expected else None,
        "rate_gap_pct": 100.0 * max(0, full_rate - received) / full_rate if full_rate else None,
        "probes": sum(r["probes"] for r in results),
        "clicks_sent": len(clicks),
        "clicks_heard": len(onsets),
        "mouth_to_ear_ms": summarize(match_latency_ms(onsets, clicks)) if clicks else None,
    }


def merge_hls(
    results: Sequence[dict[str, Any]], window: tuple[float, float], origin: Counter[str] | None
) -> dict[str, Any]:
    histograms = {}
    for key in ("playlist_ms", "segment_ms", "queue_wait_ms"):
        merged = Histogram()
        for result in results:
            merged.merge(Histogram.from_json(result[key]))
        histograms[key] = merged.summary()
    per_segment: Counter[str] = Counter()
    first_at: dict[str, float] = {}
    for result in results:
        per_segment.update(result["per_segment"])
        for name, at in result["first_fetch_at"].items():
            first_at[name] = min(at, first_at.get(name, at))
    start, end = window
    in_window = sorted(n for n, at in first_at.items() if start <= at <= end - SEGMENT_MARGIN_S)
    fetches = [per_segment[name] for name in in_window]
    out: dict[str, Any] = {
        "players": sum(r["players"] for r in results),
        "playing": sum(r["playing"] for r in results),
        "playlist_fetches": sum(r["playlist_fetches"] for r in results),
        "segment_fetches": sum(r["segment_fetches"] for r in results),
        "errors": _errors(results, "errors"),
        "stalls": sum(r["stalls"] for r in results),
        "stall_s": sum(r["stall_s"] for r in results),
        "join_ms": summarize(t for r in results for t in r["join_ms"]),
        **histograms,
        "segments_in_window": len(in_window),
        "client_fetches_per_segment": _spread(fetches),
    }
    if origin is not None:
        out["origin"] = {
            "requests_per_segment": _spread([origin.get(name, 0) for name in in_window]),
            "playlist_requests": sum(n for name, n in origin.items() if name.endswith(".m3u8")),
            "segment_requests": sum(n for name, n in origin.items() if name.endswith(".ts")),
        }
    return out


def _spread(values: Sequence[int]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "min": None, "max": None}
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values)}


# ---------------------------------------------------------------- the table


def _ms(summary: dict[str, Any] | None, *keys: str) -> str:
    if not summary or not summary.get("count"):
        return "-"
    return " / ".join(f"{summary[key]:.0f}" for key in keys)


def _num(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _count_errors(errors: dict[str, int]) -> int:
    return sum(errors.values())


def format_summary(summary: dict[str, Any]) -> str:
    """The final table: one row per client kind, then the measurements that are theirs."""
    rows: list[tuple[str, str, str, str, str]] = [
        ("clients", "joined", "errors", "join ms p50/p95/p99/max", "")
    ]
    ws, rtc, hls = summary["ws"], summary["webrtc"], summary["hls"]
    react = summary["reactions"]
    join_keys = ("p50", "p95", "p99", "max")
    if ws["listeners"]:
        errors = _count_errors(ws["errors"]) + _count_errors(ws["closed_by_server"])
        rows.append(
            (
                f"WebSocket {ws['listeners']}",
                str(ws["connected"]),
                str(errors),
                _ms(ws["join_ms"], *join_keys),
                f"{ws['frames_received']} frames",
            )
        )
    if rtc["listeners"]:
        rows.append(
            (
                f"WebRTC {rtc['listeners']}",
                str(rtc["with_media"]),
                str(_count_errors(rtc["errors"])),
                _ms(rtc["join_ms"], *join_keys),
                "join = POST /join to first RTP packet",
            )
        )
    if hls["players"]:
        rows.append(
            (
                f"HLS {hls['players']}",
                str(hls["playing"]),
                str(_count_errors(hls["errors"])),
                _ms(hls["join_ms"], *join_keys),
                "join = first playlist request to first segment",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + ("  " + row[4] if row[4] else "")
        for row in rows
    ]
    lines.append("")
    if react["sent"]:
        lines.append(
            f"reactions        {react['sent']} sent ({react['rate_per_s']:.1f}/s), "
            f"{react['accepted']} accepted, {_count_errors(react['errors'])} errors, "
            f"{react['undelivered']} never delivered"
        )
        lines.append(
            f"event latency    {_ms(react['latency_ms'], 'p50', 'p99', 'max')} ms "
            f"p50/p99/max, send -> WebSocket listener ({react['latency_ms']['count']} deliveries)"
        )
    if rtc["listeners"]:
        lines.append(
            f"audio loss       {_num(rtc['loss_pct'], 2, ' %')} (sequence gaps), rate gap "
            f"{_num(rtc['rate_gap_pct'], 2, ' %')} (below 50 packets/s); "
            f"{rtc.get('udp_receive_drops', '-')} UDP datagrams dropped by this machine's "
            "kernel (full receive buffers: client-side loss)"
        )
        m2e = rtc["mouth_to_ear_ms"]
        if m2e is None:
            lines.append("mouth-to-ear     - (no speaker of ours: --space was given)")
        else:
            lines.append(
                f"mouth-to-ear     {_ms(m2e, 'p50', 'p99')} ms p50/p99 over {m2e['count']} "
                f"clicks heard by {rtc['probes']} probes ({rtc['clicks_sent']} sent), at packet "
                "arrival"
            )
    if hls["players"]:
        per = hls["client_fetches_per_segment"]
        lines.append(
            f"HLS fetches      {hls['playlist_fetches']} playlists, {hls['segment_fetches']} "
            f"segments; {hls['stalls']} late segments (stalls, {hls['stall_s']:.2f} s in all), "
            f"{hls['segments_in_window']} segments in the window fetched "
            f"{_num(per['mean'], 1)} times each (min {per['min']}, max {per['max']})"
        )
        lines.append(
            f"HLS fetch ms     playlist {_ms(hls['playlist_ms'], 'p50', 'p99')}, segment "
            f"{_ms(hls['segment_ms'], 'p50', 'p99')} p50/p99; queue wait "
            f"{_ms(hls['queue_wait_ms'], 'p50', 'p99')} (for a free connection)"
        )
        if "origin" in hls:
            origin = hls["origin"]["requests_per_segment"]
            lines.append(
                f"origin requests  {_num(origin['mean'], 2)} per segment (max {origin['max']}), "
                f"{hls['origin']['playlist_requests']} playlist requests, from the access logs"
            )
    lag = summary["client_loop_lag_ms"]
    lines.append(
        f"load tester      {len(summary['client_cpu_s'])} client process(es), "
        f"{sum(summary['client_cpu_s']):.1f} s CPU; event-loop lag "
        f"{_ms(lag, 'p99', 'max')} ms p99/max (above ~100 ms, the clients, not the "
        "deployment, add to the latencies)"
    )
    for pid, cpu in summary["server_cpu"].items():
        lines.append(
            f"server CPU       pid {pid}: {_num(cpu['mean_pct'], 0, ' %')} mean, "
            f"{_num(cpu['peak_pct'], 0, ' %')} busiest second (% of one core)"
        )
    errors = summary["errors"]
    if errors:
        lines.append("")
        lines.append("errors:")
        lines.extend(f"  {n} x {what}" for what, n in sorted(errors.items(), key=lambda e: -e[1]))
    return "\n".join(lines)


def all_errors(summary: dict[str, Any]) -> dict[str, int]:
    """Every error of every kind, prefixed by the kind: the list under the table."""
    out: dict[str, int] = {}
    for kind, section, keys in (
        ("ws", summary["ws"], ("errors", "closed_by_server")),
        ("webrtc", summary["webrtc"], ("errors",)),
        ("hls", summary["hls"], ("errors",)),
        ("reactions", summary["reactions"], ("errors",)),
    ):
        for key in keys:
            for what, n in section[key].items():
                label = f"{kind}: {'closed by server ' if key == 'closed_by_server' else ''}{what}"
                out[label] = out.get(label, 0) + n
    return out
