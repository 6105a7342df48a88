// What each event does to the page: the agent tree, the run summary, the run log.
import { formatTime } from "./api.js";

function text(data) {
  const value = data.content ?? data.token ?? data.text ?? "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function summary(data) {
  const json = JSON.stringify(data || {});
  return json === "{}" ? "" : json.length > 160 ? json.slice(0, 157) + "..." : json;
}

export class EventApplier {
  constructor(tree, page) {
    this.tree = tree;
    this.page = page; // summary callbacks: runStarted, runEnded, log
  }

  apply(envelope) {
    const kind = `${envelope.event.category}.${envelope.event.action}`;
    const ms = Date.parse(envelope.timestamp);
    if (envelope.source) this.agentEvent(envelope, kind, ms);
    else this.runEvent(envelope, kind, ms);
  }

  agentEvent(envelope, kind, ms) {
    const { category, action } = envelope.event;
    const data = envelope.data || {};
    const view = this.tree.agent(envelope.source);
    view.seen(ms);
    if (kind === "llm.stream") {
      view.pending.push(text(data));
      view.tokens += 1;
      if (view.status === "waiting" || view.status === "assigned") view.setStatus("running");
    } else if (category === "lifecycle") {
      this.agentLifecycle(view, action, data, ms);
    } else if (category === "dispatch") {
      view.dispatch(action, data);
      this.markAssigned(data);
    } else if (category === "llm" && (action === "error" || action === "failed")) {
      view.note(`${kind}: ${data.error || summary(data)}`);
    } else if (category === "system") {
      view.note(`${kind} ${summary(data)}`, "agent-note");
    }
  }

  agentLifecycle(view, action, data, ms) {
    if (action === "started") {
      view.setStatus("running");
      return;
    }
    view.setStatus(action);
    view.endMs = ms;
    if (data.error) view.note(`error: ${data.error}`);
  }

  markAssigned(data) {
    for (const key of ["to_agent_id", "to", "target", "assignee", "agent_id"]) {
      const target = data[key] && this.tree.find(String(data[key]));
      if (target && target.status === "waiting") target.setStatus("assigned");
    }
  }

  // Agents that never said they ended are done when the run is (or stopped).
  settleAgents(action, ms) {
    const status = action === "completed" ? "done" : "stopped";
    for (const view of this.tree.agents.values()) {
      if (view.endMs == null) view.endMs = ms;
      if (["waiting", "assigned", "running"].includes(view.status)) view.setStatus(status);
      this.tree.dirty.add(view);
    }
  }

  runEvent(envelope, kind, ms) {
    const { category, action } = envelope.event;
    const data = envelope.data || {};
    if (kind === "lifecycle.started") this.page.runStarted(envelope.timestamp);
    if (category === "lifecycle" && action !== "started") {
      this.page.runEnded(action, envelope.timestamp, data);
      this.settleAgents(action, ms);
    }
    const detail = kind === "lifecycle.started" ? data.task || "" : summary(data);
    this.page.log(`${formatTime(envelope.timestamp)} ${kind} ${detail}`.trim(), kind);
  }
}
