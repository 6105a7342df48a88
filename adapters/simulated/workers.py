"""WorkerStreams: every worker of every team streaming at once, interleaved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runstream.adapters.simulated import events
from runstream.adapters.simulated.corpus import TokenStream
from runstream.adapters.simulated.team import Agent

if TYPE_CHECKING:
    from runstream.adapters.simulated.play import Play

RESULT_CHARS = 120


@dataclass
class _Worker:
    agent: Agent
    lead: Agent
    stream: TokenStream
    limit: int
    fails: bool = False
    sent: int = 0
    chunks: int = 0
    text: str = ""


class WorkerStreams:
    """Workers stream in parallel: each step one of the busy workers (a seeded
    pick) sends its next chunk, so the log interleaves them as a real team's
    would. A worker's result goes up to its lead; a lead whose workers are all
    done reports to the supervisor. With `fail_at: streaming`, the first worker
    of the first team fails after `fail_after_tokens` tokens."""

    def __init__(self, play: Play) -> None:
        self._play = play
        self._tokens = play.params.tokens_per_worker
        self._fail_after = play.fail_after("streaming", self._tokens)
        self._waiting = {lead.id: len(lead.children) for lead in play.team.children}
        self._done: dict[str, list[_Worker]] = {}

    def run(self) -> list[tuple[str, str]]:
        """(team name, team result) of every team, in the order they finished."""
        play = self._play
        busy = self._workers()
        for worker in busy:
            play.emit(events.llm_started(worker.agent, "work", worker.stream.language))
        results: list[tuple[str, str]] = []
        while busy:
            worker = busy[play.rng.randrange(len(busy))]
            if worker.fails and worker.sent == worker.limit:
                play.fail(worker.agent, "streaming")
            self._step(worker)
            if worker.sent == self._tokens and not worker.fails:
                busy.remove(worker)
                results.extend(self._finish(worker))
            play.pause(play.params.chunk_delay_ms / max(1, len(busy)))
        return results

    def _workers(self) -> list[_Worker]:
        workers = [
            _Worker(worker, lead, self._play.tokens_for(worker), self._tokens)
            for lead in self._play.team.children
            for worker in lead.children
        ]
        if self._fail_after is not None:
            workers[0].fails, workers[0].limit = True, self._fail_after
        return workers

    def _step(self, worker: _Worker) -> None:
        count = min(self._play.params.chunk_size, worker.limit - worker.sent)
        chunk = worker.stream.take(count)
        self._play.emit(events.llm_chunk(worker.agent, chunk, count, worker.chunks))
        worker.sent += count
        worker.chunks += 1
        if len(worker.text) < RESULT_CHARS:
            worker.text = (worker.text + chunk)[:RESULT_CHARS]

    def _finish(self, worker: _Worker) -> list[tuple[str, str]]:
        play, lead = self._play, worker.lead
        play.emit(events.llm_completed(worker.agent, self._tokens))
        play.emit(events.returned(worker.agent, lead, worker.text))
        self._waiting[lead.id] -= 1
        self._done.setdefault(lead.id, []).append(worker)
        if self._waiting[lead.id]:
            return []
        summary = " | ".join(w.text[:40].strip() for w in self._done[lead.id])
        play.emit(events.returned(lead, play.team, summary))
        return [(lead.source.team_name, summary)]
