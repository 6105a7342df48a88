// One agent's lane of the timeline: an SVG whose x axis is milliseconds since
// the run started (see timeline.js), with the agent's streaming bars and marks.

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

export class Lane {
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
