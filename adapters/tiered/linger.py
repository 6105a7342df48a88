"""How long the archiver lingers between ticks, from what ticks cost.

A tick costs about F + v * n of CPU for n events: F for the transaction (its
statements, commit, round trips), v per row. Both are estimated from recent
ticks (least squares, older ticks weighing less). The linger is then chosen
so a tick gathers enough events at the current rate for F spread over them to
cost at most what is left of `target` per event after v, and never more than
half of v: once v alone is near the target, lingering longer would only add
lag. Without two tick sizes to tell F from v, the linger grows while ticks cost
over `target` per event and shrinks while they cost under half of it.
"""

from __future__ import annotations

MIN_LINGER = 0.001
# The archive's lag is also how long a Redis loss can go unseen by the other
# processes of a fleet (docs/operations.md): the linger stays well under it.
MAX_LINGER = 0.05
_DECAY = 0.9


class LingerControl:
    def __init__(
        self,
        target: float,
        min_linger: float = MIN_LINGER,
        max_linger: float = MAX_LINGER,
    ) -> None:
        self._target = target
        self._min, self._max = min_linger, max_linger
        self.linger = min_linger
        # Decayed sums of weight, n, cpu, n*n and n*cpu over recent ticks.
        self._sums = [0.0] * 5

    def tick(self, events: int, cpu: float, rate: float) -> float:
        """The next linger after a tick of `events` that took `cpu` seconds,
        at `rate` events/s queued."""
        if events <= 0:
            return self.linger
        sums = [s * _DECAY for s in self._sums]
        for i, value in enumerate((1.0, events, cpu, events * events, events * cpu)):
            sums[i] += value
        self._sums = sums
        fit = self._fit()
        if fit is None or rate <= 0:
            self._step(cpu / events)
        else:
            fixed, per_event = fit
            room = max(self._target - per_event, per_event / 2)
            wanted = fixed / room if room > 0 else self._max * rate
            self.linger = min(self._max, max(self._min, wanted / rate))
        return self.linger

    def _fit(self) -> tuple[float, float] | None:
        """(F, v) from the decayed sums, when the ticks differed enough."""
        weight, n, cpu, nn, ncpu = self._sums
        mean_n, mean_cpu = n / weight, cpu / weight
        spread = nn / weight - mean_n * mean_n
        if weight < 3 or spread < max(1.0, 0.05 * mean_n * mean_n):
            return None
        per_event = max(0.0, (ncpu / weight - mean_n * mean_cpu) / spread)
        fixed = max(0.0, mean_cpu - per_event * mean_n)
        return fixed, per_event

    def _step(self, cost: float) -> None:
        if cost > self._target:
            self.linger = min(self._max, self.linger * 1.5)
        elif cost < self._target / 2:
            self.linger = max(self._min, self.linger / 1.5)
