// The service's JSON API and SSE stream, seen from the viewer's pages.
// The viewer lives at <base>/view/..., so the API is at <base>/... behind any prefix.

export const base = location.pathname.split("/view/")[0];
const KEY = "runstream.apiKey";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

// A request run.html's inline script started before the modules loaded, taken
// once; anything but a success is asked again (e.g. after an API key is given).
function takeEarly(path) {
  const early = window.runstreamEarly;
  const response = early && early[path];
  if (!response) return null;
  delete early[path];
  return response.catch(() => null);
}

export async function getJson(path, init = {}) {
  const headers = { Accept: "application/json", ...(init.headers || {}) };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const early = init.method ? null : await takeEarly(path);
  const response = early && early.ok ? early : await fetch(base + path, { ...init, headers });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const code = (body && body.code) || `HTTP_${response.status}`;
    throw new ApiError(response.status, code, (body && body.message) || response.statusText);
  }
  return body;
}

export function postJson(path, body) {
  return getJson(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

// Part of a run (`part`: {agents, coalesce}): agent_id= for each agent, and
// coalesce=llm.stream for a replay with an agent's adjacent chunks as one event.
function addPart(params, part) {
  for (const agent of (part && part.agents) || []) params.append("agent_id", agent);
  if (part && part.coalesce) params.set("coalesce", "llm.stream");
}

export function history(runId, startId, part = null, limit = 1000) {
  const query = new URLSearchParams({ start_id: startId, limit: String(limit) });
  addPart(query, part);
  return getJson(`/runs/${runId}/events?${query}`);
}

// The stream's address; with a key stored, a short-lived token bound to the run.
export async function streamUrl(runId, lastEventId, part = null) {
  const params = new URLSearchParams();
  if (lastEventId) params.set("last_event_id", lastEventId);
  addPart(params, part);
  if (apiKey()) {
    const grant = await postJson(`/runs/${runId}/stream-token`, {});
    params.set("access_token", grant.token);
  }
  const query = params.toString();
  return `${base}/runs/${runId}/events/stream${query ? "?" + query : ""}`;
}

// Asks for an API key (kept for this tab only, in sessionStorage), then calls done().
export function askForKey(container, done) {
  container.replaceChildren();
  const form = document.createElement("form");
  form.className = "auth";
  form.innerHTML =
    '<label>This service needs an API key <input type="password" name="key" ' +
    'autocomplete="off" required></label> <button type="submit">Use key</button>';
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, form.elements.key.value.trim());
    container.replaceChildren();
    done();
  });
  container.append(form);
  form.elements.key.focus();
}

// Local time as 2026-12-07 05:32:18: built by hand, because the first
// toLocaleString() or Intl.DateTimeFormat of a page costs tens of milliseconds.
const pad = (number) => String(number).padStart(2, "0");

export function formatTime(iso) {
  if (!iso) return "–";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  const day = `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}`;
  return `${day} ${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}`;
}

export function formatDuration(ms) {
  if (ms == null || Number.isNaN(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60000);
  return `${minutes} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function between(startIso, endIso) {
  if (!startIso) return null;
  const end = endIso ? Date.parse(endIso) : Date.now();
  return end - Date.parse(startIso);
}
