// The run's timeline: one lane per agent, bars where it streamed, marks for its
// dispatches and for the run's end.
//
// Each lane is an SVG whose x axis is milliseconds since the run started; the
// viewBox stretches it to the lane's width (preserveAspectRatio=none), so a
// growing run only changes one attribute per lane, never every bar. Strokes do
// not scale (vector-effect), so a bar of a few milliseconds is still visible.
// The SVG namespace, as the HTML parser gives it to an <svg> element.
const SVG = (() => {
  const holder = document.createElement("div");
  holder.innerHTML = "<svg></svg>";
  return holder.firstChild.namespaceURI;
})();
// Chunks of one agent closer than this belong to one streaming bar.
const SPAN_GAP_MS = 1500;

function svg(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function idMs(id) {
  return Number(String(id).split("-")[0]);
}

class Lane {
  constructor(agentId, name) {
    this.row = document.createElement("div");
    this.row.className = "lane";
    this.row.dataset.agentId = agentId;
    const label = document.createElement("span");
    label.className = "lane-name";
    label.textContent = name;
    label.title = agentId;
    this.svg = svg("svg", { preserveAspectRatio: "none", viewBox: "0 0 1 10" });
    this.row.append(label, this.svg);
    this.open = null; // the bar still growing: {rect, start, end}
    this.bars = []; // every bar and mark: {rect, start, end} or {line, start}
    this.dirty = new Set();
  }

  // The summary's first to last event of the agent, behind its bars.
  active(startMs, endMs) {
    if (!this.activeBar) {
      const rect = svg("rect", { class: "active", y: 4, height: 2 });
      this.svg.prepend(rect);
      this.activeBar = { rect, start: startMs, end: endMs };
      this.bars.push(this.activeBar);
    }
    Object.assign(this.activeBar, { start: startMs, end: endMs });
    this.dirty.add(this.activeBar);
  }

  keep(bar) {
    this.bars.push(bar);
    this.dirty.add(bar);
  }

  stream(startMs, endMs) {
    const open = this.open;
    if (open && startMs - open.end <= SPAN_GAP_MS) {
      open.end = Math.max(open.end, endMs);
    } else {
      const rect = svg("rect", { class: "span", y: 2, height: 6 });
      this.svg.append(rect);
      this.open = { rect, start: startMs, end: endMs };
      this.bars.push(this.open);
    }
    this.dirty.add(this.open);
  }

  mark(ms, kind) {
    if (kind === "end") this.open = null;
    const line = svg("line", { class: `mark ${kind}`, y1: 0, y2: 10 });
    this.svg.append(line);
    this.keep({ line, start: ms });
  }

  place(bar, origin) {
    const x = bar.start - origin;
    if (bar.line) {
      bar.line.setAttribute("x1", x);
      bar.line.setAttribute("x2", x);
      return;
    }
    bar.rect.setAttribute("x", x);
    bar.rect.setAttribute("width", Math.max(0, bar.end - bar.start));
  }

  // `moved`: the origin changed, so every bar moves.
  draw(width, origin, moved) {
    for (const bar of moved ? this.bars : this.dirty) this.place(bar, origin);
    this.dirty.clear();
    this.svg.setAttribute("viewBox", `0 0 ${width} 10`);
  }
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
