"""Play: one simulated run, step by step, from the supervisor's plan to its
synthesis. Every choice comes from the seed; only the pacing uses the clock."""

from __future__ import annotations

import random
import time

from runstream.adapters.simulated import events
from runstream.adapters.simulated.corpus import TokenStream
from runstream.adapters.simulated.params import SimParams
from runstream.adapters.simulated.team import Agent, build_team
from runstream.adapters.simulated.workers import WorkerStreams
from runstream.domain.model import JsonObject, NewEvent
from runstream.domain.ports import Cancellation, EventSink

SUMMARY_CHARS = 160
_YIELD_EVERY = 64


class SimulatedFailure(Exception):
    """The failure a run's params asked for (`fail_at`)."""


class Stopped(Exception):
    """The run was cancelled; unwinds the play."""


class Play:
    def __init__(
        self,
        task: str,
        params: SimParams,
        seed: int,
        sink: EventSink,
        cancel: Cancellation,
    ) -> None:
        self.params = params
        self.task = task[:200]
        self.seed = seed
        self.rng = random.Random(seed)
        self._timing = random.Random(seed + 1)
        self._sink = sink
        self._cancel = cancel
        self._steps = 0
        self._streams: dict[str, TokenStream] = {}
        self.team = build_team(params)

    def run(self) -> JsonObject:
        supervisor, tokens = self.team, self.params.plan_tokens
        plan = self.speak(supervisor, "plan", tokens, "planning")
        self.dispatch(supervisor, "dispatch")
        for lead in supervisor.children:
            self.pause(self.params.think_ms)
            self.speak(lead, "plan", tokens)
            self.dispatch(lead)
        results = WorkerStreams(self).run()
        self.pause(self.params.think_ms)
        synthesis = self.speak(supervisor, "synthesis", tokens, "aggregation")
        return {
            "summary": synthesis[:SUMMARY_CHARS],
            "plan": plan[:SUMMARY_CHARS],
            "teams": dict(results),
            "seed": self.seed,
        }

    def dispatch(self, agent: Agent, point: str = "") -> None:
        """`dispatch.assigned` to each of the agent's reports; with `fail_at:
        dispatch` the global supervisor fails before its last assignment."""
        for number, report in enumerate(agent.children, 1):
            if number == len(agent.children):
                self.fail_if(point)
            task = f"{report.source.agent_name}: {self.task}"
            self.emit(events.assigned(agent, report, task))

    def speak(self, agent: Agent, purpose: str, tokens: int, point: str = "") -> str:
        """An LLM call of `agent`: started, `tokens` streamed in chunks, completed."""
        stream = self.tokens_for(agent)
        self.emit(events.llm_started(agent, purpose, stream.language))
        fail_after = self.fail_after(point, tokens)
        limit = tokens if fail_after is None else fail_after
        sent, index, text = 0, 0, []
        while sent < limit:
            count = min(self.params.chunk_size, limit - sent)
            chunk = stream.take(count)
            text.append(chunk)
            self.emit(events.llm_chunk(agent, chunk, count, index))
            sent, index = sent + count, index + 1
            self.pause(self.params.chunk_delay_ms)
        if fail_after is not None:
            self.fail(agent, point)
        self.emit(events.llm_completed(agent, tokens))
        return "".join(text)

    def tokens_for(self, agent: Agent) -> TokenStream:
        """The agent's own text: one language, picked by the seed."""
        stream = self._streams.get(agent.id)
        if stream is None:
            rng = random.Random(f"{self.seed}:{agent.id}")
            stream = TokenStream(rng.choice(self.params.languages), rng)
            self._streams[agent.id] = stream
        return stream

    def fail_after(self, point: str, tokens: int) -> int | None:
        """How many of `tokens` stream before the requested failure, if any."""
        if not point or self.params.fail_at != point:
            return None
        chosen = self.params.fail_after_tokens
        return min(tokens // 2 if chosen is None else chosen, tokens)

    def fail_if(self, point: str) -> None:
        if point and self.params.fail_at == point:
            raise SimulatedFailure(self.failure_message(point))

    def fail(self, agent: Agent, point: str) -> None:
        message = self.failure_message(point)
        self.emit(events.llm_failed(agent, message))
        raise SimulatedFailure(message)

    def failure_message(self, point: str) -> str:
        return self.params.fail_message or f"simulated failure during {point}"

    def emit(self, event: NewEvent) -> None:
        self._sink.emit(event)

    def pause(self, milliseconds: float) -> None:
        """Wait (waking at once on cancel); with no wait, still let others run."""
        seconds = 0.0
        if milliseconds > 0:
            jitter = self.params.jitter * (2 * self._timing.random() - 1)
            seconds = milliseconds * (1 + jitter) / 1000
        if seconds > 0:
            if self._cancel.wait(seconds):
                raise Stopped
            return
        if self._cancel.is_set():
            raise Stopped
        self._steps += 1
        if self._steps % _YIELD_EVERY == 0:
            time.sleep(0)
