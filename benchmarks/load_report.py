"""The side-by-side table of the SSE load benchmark, with ratios to a baseline."""

from __future__ import annotations

import statistics
from typing import Any

ROWS = (
    ("connections opened (clients)", "connected", "{:.0f}", False),
    ("seconds to open them", "opened_in", "{:.1f}", True),
    ("connections held at end (clients)", "held", "{:.0f}", False),
    ("connections held (server count)", "server_held", "{}", False),
    ("events expected", "expected", "{:.0f}", False),
    ("events received", "received", "{:.0f}", False),
    ("delivered %", "delivered", "{:.2f}", False),
    ("events duplicated", "duplicates", "{:.0f}", False),
    ("push latency p50 ms", "p50", "{:.2f}", True),
    ("push latency p95 ms", "p95", "{:.2f}", True),
    ("push latency p99 ms", "p99", "{:.2f}", True),
    ("server CPU s", "cpu", "{:.2f}", True),
    ("server CPU us / delivered event", "per_event_us", "{:.1f}", True),
    ("server RSS MiB", "rss", "{:.1f}", True),
    ("redis CPU s", "redis_cpu", "{:.2f}", False),
)


def derive(found: dict[str, Any]) -> dict[str, Any]:
    """Latency quantiles in ms, CPU per delivered event, delivered share."""
    for name, key in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")):
        value = found["latency"][key]
        found[name] = None if value is None else value * 1000
    found["per_event_us"] = found["cpu"] / max(found["received"], 1) * 1e6
    found["delivered"] = 100 * found["received"] / max(found["expected"], 1)
    return found


def report(title: str, found: dict[str, dict[str, Any]], baseline: str) -> None:
    names = list(found)
    base = found.get(baseline, {})
    print(f"\n== {title}")
    header = "".join(f"{n:>16}" + (f"{'/' + baseline[-5:]:>9}" if n != baseline
                                   else "") for n in names)  # fmt: skip
    print(f"{'':34}{header}")
    for label, key, fmt, compared in ROWS:
        cells = ""
        for name in names:
            value = found[name].get(key)
            cells += f"{fmt.format(value) if value is not None else '-':>16}"
            if name != baseline:
                against = base.get(key)
                ratio = (
                    f"{value / against:.2f}x"
                    if compared and value is not None and against
                    else ""
                )
                cells += f"{ratio:>9}"
        print(f"{label:34}{cells}")


def median_of(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each server's median of every figure over the rounds."""
    merged: dict[str, dict[str, Any]] = {}
    for name in rounds[0]:
        merged[name] = {}
        for _, key, _, _ in ROWS:
            values = [r[name].get(key) for r in rounds]
            known = [v for v in values if v is not None]
            merged[name][key] = statistics.median(known) if known else None
    return merged


def round_ratios(rounds: list[dict[str, dict[str, Any]]], baseline: str) -> None:
    """Each round's ratio to the baseline of the figures the targets are about."""
    for name in rounds[0]:
        if name == baseline:
            continue
        for label, key in (
            ("p50", "p50"),
            ("p99", "p99"),
            ("CPU/event", "per_event_us"),
        ):
            ratios = []
            for found in rounds:
                value, against = found[name].get(key), found[baseline].get(key)
                ratios.append(f"{value / against:.2f}x" if value and against else "-")
            print(f"  {name} {label} / Nchan by round: {', '.join(ratios)}")
