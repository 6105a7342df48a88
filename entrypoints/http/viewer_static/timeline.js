// The run's timeline: one lane per agent, bars where it streamed, marks for its
// dispatches and for the run's end.
//
// Each lane is an SVG whose x axis is milliseconds since the run started; the
// viewBox stretches it to the lane's width (preserveAspectRatio=none), so a
// growing run only changes one attribute per lane, never every bar. Strokes do
// not scale (vector-effect), so a bar of a few milliseconds is still visible.
import { Lane } from "./lane.js";

function idMs(id) {
  return Number(String(id).split("-")[0]);
}

export class Timeline {
  constructor(element) {
    this.element = element;
    this.lanes = new Map();
    this.originMs = null;
    this.lastMs = null;
    this.drawnOrigin = null;
  }

  // The summary's figures: a lane per agent, its active span faint behind.
  seed(summary) {
    if (summary.first_event_ms != null) this.at(summary.first_event_ms);
    for (const agent of summary.agents || []) {
      this.lane(agent.agent_id, agent.agent_name).active(
        agent.first_event_ms, agent.last_event_ms);
      this.at(agent.last_event_ms);
    }
  }

  add(envelope) {
    const ms = Date.parse(envelope.timestamp);
    this.at(ms);
    const { category, action } = envelope.event;
    const source = envelope.source;
    if (!source) {
      if (category === "lifecycle" && action !== "started") {
        for (const lane of this.lanes.values()) lane.mark(ms, "end");
      }
      return;
    }
    const lane = this.lane(source.agent_id, source.agent_name);
    if (category === "llm" && action === "stream") {
      const merged = envelope.data && envelope.data.coalesced;
      const start = merged ? Math.min(ms, idMs(merged.first_id)) : ms;
      this.at(start);
      lane.stream(start, ms);
    } else if (category === "dispatch") {
      lane.mark(ms, "dispatch");
    }
  }

  at(ms) {
    if (ms == null || Number.isNaN(ms)) return;
    if (this.originMs == null || ms < this.originMs) this.originMs = ms;
    if (this.lastMs == null || ms > this.lastMs) this.lastMs = ms;
  }

  lane(agentId, name) {
    let lane = this.lanes.get(agentId);
    if (!lane) {
      lane = new Lane(agentId, name || agentId);
      this.lanes.set(agentId, lane);
      this.element.append(lane.row);
    }
    return lane;
  }

  draw() {
    if (this.originMs == null) return;
    const width = Math.max(1, this.lastMs - this.originMs);
    const moved = this.drawnOrigin !== this.originMs;
    this.drawnOrigin = this.originMs;
    for (const lane of this.lanes.values()) lane.draw(width, this.originMs, moved);
    this.element.dataset.lanes = this.lanes.size;
    this.element.dataset.spanMs = width;
  }
}
