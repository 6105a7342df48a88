"""The archiver's linger, from what its ticks cost."""

from __future__ import annotations

import pytest

from runstream.adapters.tiered.linger import MAX_LINGER, MIN_LINGER, LingerControl


def feed(control: LingerControl, fixed: float, per_event: float, rate: float) -> float:
    linger = 0.0
    for events in [10, 40, 20, 80, 30, 60] * 3:
        linger = control.tick(events, fixed + per_event * events, rate)
    return linger


def test_a_low_rate_lingers_until_the_fixed_cost_is_spread_under_the_target():
    control = LingerControl(target=35e-6, max_linger=1.0)

    linger = feed(control, fixed=1e-3, per_event=20e-6, rate=200)

    # 1 ms over (35 - 20) us per event is ~67 events: a third of a second.
    assert linger == pytest.approx(1e-3 / 15e-6 / 200, rel=0.05)


def test_a_high_rate_hardly_lingers():
    control = LingerControl(target=35e-6, max_linger=1.0)

    linger = feed(control, fixed=1e-3, per_event=20e-6, rate=20_000)

    assert linger == pytest.approx(1e-3 / 15e-6 / 20_000, rel=0.05)


def test_rows_that_alone_cost_the_target_do_not_make_it_linger_for_nothing():
    control = LingerControl(target=35e-6, max_linger=1.0)

    linger = feed(control, fixed=1e-3, per_event=40e-6, rate=2000)

    # Room is half the per-row cost: 1 ms over 20 us is 50 events, 25 ms.
    assert linger == pytest.approx(0.025, rel=0.05)


def test_without_two_tick_sizes_it_steps_by_the_cost_per_event():
    control = LingerControl(target=35e-6, max_linger=1.0)

    costly = [control.tick(10, 10 * 100e-6, 200) for _ in range(40)]
    assert costly[-1] == 1.0

    cheap = [control.tick(10, 10 * 5e-6, 200) for _ in range(40)]
    assert cheap[-1] == MIN_LINGER


def test_the_linger_never_passes_its_bound():
    control = LingerControl(target=35e-6)

    linger = feed(control, fixed=1e-3, per_event=20e-6, rate=200)

    assert linger == MAX_LINGER
