// What each event does to the page: the agent tree, the run summary, the run log.
import { formatTime } from "./api.js";

const RESULT_CHARS = 80;

function text(data) {
  const value = data.content ?? data.token ?? data.text ?? "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function summary(data) {
  const json = JSON.stringify(data || {});
  return json === "{}" ? "" : json.length > 160 ? json.slice(0, 157) + "..." : json;
}

function clip(value) {
  const line = String(value ?? "").replace(/\s+/g, " ").trim();
  return line.length > RESULT_CHARS ? line.slice(0, RESULT_CHARS - 1) + "…" : line;
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
      view.textBox.push(text(data));
      view.tokens += data.coalesced ? data.coalesced.count : 1;
      if (view.status !== "running") view.setStatus("running");
    } else if (category === "llm") {
      this.llmEvent(view, action, data);
    } else if (category === "lifecycle") {
      view.setStatus(action === "started" ? "running" : action);
      if (action !== "started") view.endMs = ms;
      if (data.error) view.note(`error: ${data.error}`, "agent-error");
    } else if (category === "dispatch") {
      this.dispatch(view, action, data);
    } else {
      view.note(`${kind} ${summary(data)}`, "agent-note");
    }
  }

  llmEvent(view, action, data) {
    if (action === "started" || action === "start") {
      view.textBox.newCall(data.purpose);
      view.setStatus("thinking");
    } else if (action === "completed" || action === "end") {
      view.setStatus("idle");
    } else if (action === "failed" || action === "error") {
      view.setStatus("failed");
      view.note(`error: ${data.error || summary(data)}`, "agent-error");
    }
  }

  dispatch(view, action, data) {
    const target = data.to != null ? this.tree.find(String(data.to)) : null;
    const name = data.to_name || (target && target.name) || data.to || "";
    if (action === "assigned") {
      view.note(`→ ${name}: ${data.task ?? summary(data)}`);
      if (target) {
        target.note(`← from ${view.name}: ${data.task ?? ""}`);
        if (target.status === "waiting") target.setStatus("assigned");
        this.tree.dirty.add(target);
      }
    } else if (action === "completed" && "result" in data) {
      view.note(`↑ result to ${name}: ${clip(data.result)}`);
      view.setStatus("done");
    } else {
      view.note(`${action}${name ? " → " + name : ""} ${summary(data)}`.trim());
    }
  }

  // Agents that never said they ended are done when the run is (or stopped).
  settleAgents(action, ms) {
    const status = action === "completed" ? "done" : "stopped";
    for (const view of this.tree.agents.values()) {
      if (view.endMs == null) view.endMs = ms;
      if (!["done", "failed", "completed", "cancelled"].includes(view.status)) {
        view.setStatus(status);
      }
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
