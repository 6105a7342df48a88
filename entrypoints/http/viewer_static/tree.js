// The hierarchy as a tree of agents: global supervisor -> team supervisors -> workers.
// Each agent keeps its own DOM; text arrives in batches and is appended as text nodes.
import { formatDuration } from "./api.js";
import { TextBox } from "./textbox.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

class AgentView {
  constructor(source, parentId = null) {
    this.id = source.agent_id;
    this.name = source.agent_name || this.id;
    this.type = source.agent_type;
    this.team = source.team_name;
    this.parentId = parentId;
    this.tokens = 0;
    this.firstMs = null;
    this.lastMs = null;
    this.endMs = null;
    this.li = el("li", `agent ${this.type}`);
    this.li.dataset.agentId = this.id;
    const head = el("div", "agent-head");
    this.statusEl = el("span", "badge");
    this.timingEl = el("span", "timing muted");
    this.countEl = el("span", "count muted");
    const kind = `${String(this.type).replace("_", " ")} · ${this.team}`;
    head.append(el("span", "name", this.name), el("span", "type muted", kind),
      this.statusEl, this.timingEl, this.countEl);
    this.dispatches = el("ul", "dispatches");
    const text = el("pre", "text");
    this.textBox = new TextBox(text);
    this.children = el("ul", "children");
    this.li.append(head, this.dispatches, text, this.children);
    this.setStatus("waiting");
  }

  setStatus(status) {
    this.status = status;
    this.li.dataset.status = status;
    this.statusEl.textContent = status;
    this.statusEl.className = `badge status-${status}`;
  }

  seen(ms) {
    if (this.firstMs == null) this.firstMs = ms;
    this.lastMs = ms;
  }

  note(text, className = "dispatch") {
    this.dispatches.append(el("li", className, text));
  }

  flush() {
    this.textBox.flush();
    const end = this.endMs ?? this.lastMs;
    if (this.firstMs != null) this.timingEl.textContent = formatDuration(end - this.firstMs);
    this.countEl.textContent = this.tokens ? `${this.tokens} chunks` : "";
  }
}

export class AgentTree {
  constructor(root) {
    this.root = root;
    this.agents = new Map();
    this.dirty = new Set();
  }

  // The run's topology_snapshot, when it has one: every agent, before it speaks.
  seed(node, parentId = null) {
    if (!node || typeof node !== "object" || !node.agent_id) return;
    if (!this.agents.has(node.agent_id)) {
      this.agents.set(node.agent_id, new AgentView(node, parentId));
    }
    for (const child of node.children || []) this.seed(child, node.agent_id);
    if (parentId == null) this.placeAll();
  }

  agent(source) {
    let view = this.agents.get(source.agent_id);
    if (!view) {
      view = new AgentView(source);
      this.agents.set(view.id, view);
      this.placeAll();
    }
    this.dirty.add(view);
    return view;
  }

  find(agentId) {
    return this.agents.get(agentId);
  }

  parentOf(view) {
    if (view.parentId) return this.agents.get(view.parentId);
    const all = [...this.agents.values()];
    const globalSupervisor = all.find((a) => a.type === "global_supervisor");
    if (view.type === "worker") {
      const lead = all.find((a) => a.type === "team_supervisor" && a.team === view.team);
      return lead || globalSupervisor;
    }
    return view.type === "team_supervisor" ? globalSupervisor : null;
  }

  // Agents can appear before their supervisor: re-home them when it shows up.
  placeAll() {
    for (const view of this.agents.values()) {
      const parent = this.parentOf(view);
      const home = parent && parent !== view ? parent.children : this.root;
      if (view.li.parentNode !== home) home.append(view.li);
    }
  }

  flush() {
    const views = [...this.dirty];
    this.dirty.clear();
    for (const view of views) view.textBox.measure();
    for (const view of views) view.flush();
    for (const view of views) view.textBox.follow();
  }
}
