"""The side-by-side table of the SSE load benchmark."""

from __future__ import annotations

from typing import Any

ROWS = (
    ("connections opened (clients)", "connected", "{:.0f}", False),
    ("connections held at end (clients)", "held", "{:.0f}", False),
    ("connections held (server gauge)", "server_held", "{}", False),
    ("events expected", "expected", "{:.0f}", False),
    ("events received", "received", "{:.0f}", False),
    ("events duplicated", "duplicates", "{:.0f}", False),
    ("streams closed", "closed", "{:.0f}", False),
    ("push latency p50 ms", "p50", "{:.2f}", True),
    ("push latency p95 ms", "p95", "{:.2f}", True),
    ("push latency p99 ms", "p99", "{:.2f}", True),
    ("server CPU s", "cpu", "{:.2f}", True),
    ("server CPU s / 1000 events", "per_1000", "{:.4f}", True),
    ("server CPU us / event", "per_event_us", "{:.1f}", True),
    ("server RSS MiB", "rss", "{:.1f}", True),
    ("redis CPU s", "redis_cpu", "{:.2f}", True),
)


def derive(found: dict[str, Any]) -> dict[str, Any]:
    """Latency quantiles in ms and CPU per event, from a phase's raw figures."""
    for name, key in (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")):
        value = found["latency"][key]
        found[name] = None if value is None else value * 1000
    found["per_1000"] = found["cpu"] / max(found["received"], 1) * 1000
    found["per_event_us"] = found["per_1000"] * 1000
    return found


def report(title: str, found: dict[str, dict[str, Any]]) -> None:
    names = list(found)
    print(f"\n== {title}")
    print(f"{'':36}" + "".join(f"{n:>30}" for n in names) + f"{'naive/ours':>12}")
    for label, key, fmt, compared in ROWS:
        values = [found[n].get(key) for n in names]
        cells = "".join(
            f"{fmt.format(v) if v is not None else '-':>30}" for v in values
        )
        ratio = ""
        if compared and len(values) == 2 and values[0] and values[1] is not None:
            ratio = f"{values[1] / values[0]:.2f}x"
        print(f"{label:36}{cells}{ratio:>12}")
