// What the run page adds for reading a run: the timeline and the per-agent
// figures, from the run summary and the events as they arrive, and the part of
// the run the page asks the service for.
import { getJson } from "./api.js";
import { agentFilter, chosenAgents, showFigures } from "./figures.js";
import { Timeline } from "./timeline.js";

const REFRESH_MS = 5000;

export class Reading {
  constructor(runId, elements) {
    this.runId = runId;
    this.timeline = new Timeline(elements.timeline);
    this.figures = elements.figures;
    this.filter = elements.filter;
    const agents = chosenAgents();
    // Replays come coalesced (an agent's adjacent chunks as one event); with a
    // filter, the service sends the chosen agents' events only.
    this.part = { agents, coalesce: true };
    this.filtered = agents.length > 0;
    this.timer = null;
    this.first = Promise.resolve(); // the summary's first load, once follow() began
  }

  add(envelope) {
    this.timeline.add(envelope);
  }

  draw() {
    this.timeline.draw();
  }

  async refresh() {
    let summary;
    try {
      summary = await getJson(`/runs/${this.runId}/summary`);
    } catch {
      return; // an aid only: the events show without it
    }
    this.timeline.seed(summary);
    this.timeline.draw();
    showFigures(this.figures, summary);
    agentFilter(this.filter, summary);
  }

  follow() {
    this.first = this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
  }
}
