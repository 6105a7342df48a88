// The hierarchy as a tree of agents: global supervisor -> team supervisors -> workers.
// Each agent keeps its own DOM; text arrives in batches and is appended as text nodes.
import { formatDuration } from "./api.js";

const TARGET_KEYS = ["to_agent_name", "to_name", "to", "target", "assignee", "agent_id"];
const TASK_KEYS = ["task", "instruction", "description", "subtask"];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function first(data, keys) {
  for (const key of keys) if (data && data[key]) return String(data[key]);
  return null;
}

class AgentView {
  constructor(source) {
    this.id = source.agent_id;
    this.type = source.agent_type;
    this.team = source.team_name;
    this.pending = [];
    this.tokens = 0;
    this.firstMs = null;
    this.lastMs = null;
    this.endMs = null;
    this.li = el("li", `agent ${this.type}`);
    this.li.dataset.agentId = this.id;
    const head = el("div", "agent-head");
    this.statusEl = el("span", "badge", "waiting");
    this.timingEl = el("span", "timing muted");
    this.countEl = el("span", "count muted");
    head.append(el("span", "name", source.agent_name || this.id),
      el("span", "type muted", `${this.type.replace("_", " ")} · ${this.team}`),
      this.statusEl, this.timingEl, this.countEl);
    this.dispatches = el("ul", "dispatches");
    this.text = el("pre", "text");
    this.children = el("ul", "children");
    this.li.append(head, this.dispatches, this.text, this.children);
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

  dispatch(action, data) {
    const target = first(data, TARGET_KEYS);
    const task = first(data, TASK_KEYS);
    const line = `${action}${target ? " → " + target : ""}${task ? ": " + task : ""}`;
    this.dispatches.append(el("li", "dispatch", line));
  }

  note(text, className = "agent-error") {
    this.dispatches.append(el("li", className, text));
  }

  // Read phase of a frame: is the text box scrolled to its end?
  measure() {
    const box = this.text;
    this.stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  }

  // Write phase of a frame: one text node for everything that arrived.
  flush() {
    if (this.pending.length) {
      this.text.append(document.createTextNode(this.pending.join("")));
      this.pending = [];
    } else {
      this.stick = false;
    }
    const end = this.endMs ?? this.lastMs;
    if (this.firstMs != null) this.timingEl.textContent = formatDuration(end - this.firstMs);
    this.countEl.textContent = this.tokens ? `${this.tokens} chunks` : "";
  }

  // Last phase: follow the text's end, after every write (one layout per frame).
  follow() {
    if (this.stick) this.text.scrollTop = this.text.scrollHeight;
  }
}

export class AgentTree {
  constructor(root) {
    this.root = root;
    this.agents = new Map();
    this.dirty = new Set();
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
    const all = [...this.agents.values()];
    if (view.type === "worker") {
      return all.find((a) => a.type === "team_supervisor" && a.team === view.team)
        || all.find((a) => a.type === "global_supervisor");
    }
    if (view.type === "team_supervisor") return all.find((a) => a.type === "global_supervisor");
    return null;
  }

  // Agents can appear before their supervisor: re-home them when it shows up.
  placeAll() {
    for (const view of this.agents.values()) {
      const parent = this.parentOf(view);
      const home = parent ? parent.children : this.root;
      if (view.li.parentNode !== home) home.append(view.li);
    }
  }

  flush() {
    const views = [...this.dirty];
    this.dirty.clear();
    for (const view of views) view.measure();
    for (const view of views) view.flush();
    for (const view of views) view.follow();
  }
}
