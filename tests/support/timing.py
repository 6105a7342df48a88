"""Wall-clock bounds in tests. A test only tells "promptly" from the failure it
guards against (a hang, a timeout waited out, a slow path taken), with room for
a loaded CI machine; how fast things are is measured by the benchmarks."""

from __future__ import annotations


def assert_within(elapsed: float, limit: float, what: str) -> None:
    """`elapsed` (seconds) stayed under the generous `limit`; the failure
    message gives the measured figure."""
    assert elapsed < limit, f"{what} took {elapsed:.3f} s (limit {limit:g} s)"
