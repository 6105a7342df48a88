// Per-agent figures of the run summary (GET /runs/{id}/summary), and the agent
// filter that picks which agents the page streams (the stream's agent_id=).
import { formatDuration } from "./api.js";

const COLUMNS = [
  ["agent", (a) => a.agent_name || a.agent_id],
  ["status", (a) => a.status],
  ["first token", (a) => formatDuration(a.time_to_first_token_ms)],
  ["active", (a) => formatDuration(a.last_event_ms - a.first_event_ms)],
  ["chunks", (a) => a.chunks],
  ["tokens", (a) => a.tokens],
  ["characters", (a) => a.characters],
  ["dispatched", (a) => a.dispatches_sent],
  ["received", (a) => a.dispatches_received],
];

export function showFigures(table, summary) {
  const head = document.createElement("tr");
  for (const [name] of COLUMNS) {
    const cell = document.createElement("th");
    cell.textContent = name;
    head.append(cell);
  }
  const rows = (summary.agents || []).map((agent) => {
    const row = document.createElement("tr");
    row.dataset.agentId = agent.agent_id;
    for (const [, value] of COLUMNS) {
      const cell = document.createElement("td");
      cell.textContent = String(value(agent) ?? "–");
      row.append(cell);
    }
    return row;
  });
  table.replaceChildren(head, ...rows);
  table.dataset.events = summary.events;
}

// The agents the page shows: the address's `agent_id` values (none: all).
export function chosenAgents() {
  return new URLSearchParams(location.search).getAll("agent_id");
}

// Options for every agent of the summary; choosing one reloads the page for it.
export function agentFilter(select, summary) {
  const chosen = chosenAgents();
  const known = new Set([...select.options].map((option) => option.value));
  const agents = [...(summary.agents || []), ...chosen.map((id) => ({ agent_id: id }))];
  for (const agent of agents) {
    if (known.has(agent.agent_id)) continue;
    known.add(agent.agent_id);
    select.append(new Option(agent.agent_name || agent.agent_id, agent.agent_id));
  }
  select.value = chosen.length === 1 ? chosen[0] : "";
  select.onchange = () => {
    const query = select.value ? `?agent_id=${encodeURIComponent(select.value)}` : "";
    location.assign(location.pathname + query);
  };
}
