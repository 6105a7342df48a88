// The run list: newest runs first, refreshed every few seconds.
import {
  ApiError, askForKey, base, between, formatDuration, formatTime, getJson, postJson,
} from "./api.js";

const REFRESH_MS = 3000;
const rows = document.querySelector("#runs tbody");
const filter = document.getElementById("status-filter");
const notice = document.getElementById("notice");
let timer = null;

function runsOf(body) {
  if (Array.isArray(body)) return body;
  return (body && (body.runs || body.items || body.data)) || [];
}

function row(run) {
  const tr = document.createElement("tr");
  tr.dataset.runId = run.id;
  const link = document.createElement("a");
  link.href = `${base}/view/runs/${run.id}`;
  link.textContent = `#${run.id}`;
  const status = document.createElement("span");
  status.className = `badge status-${run.status}`;
  status.textContent = run.status;
  const cells = [
    link,
    status,
    run.task || "",
    formatTime(run.created_at),
    formatDuration(between(run.started_at, run.completed_at)),
  ];
  for (const content of cells) {
    const td = document.createElement("td");
    td.append(content);
    tr.append(td);
  }
  tr.children[2].className = "task";
  return tr;
}

async function refresh() {
  clearTimeout(timer);
  const status = filter.value ? `&status=${encodeURIComponent(filter.value)}` : "";
  try {
    const runs = runsOf(await getJson(`/runs?limit=50${status}`));
    rows.replaceChildren(...runs.map(row));
    document.getElementById("empty").hidden = runs.length > 0;
    notice.hidden = true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      askForKey(document.getElementById("auth"), refresh);
      return;
    }
    notice.textContent = `Cannot list runs: ${error.message}`;
    notice.hidden = false;
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

async function newRun() {
  try {
    const run = await postJson("/runs", {
      task: "Simulated run started from the viewer",
      executor: "simulated",
      params: {},
    });
    location.href = `${base}/view/runs/${run.id}`;
  } catch (error) {
    notice.textContent = `Cannot start a run: ${error.message}`;
    notice.hidden = false;
  }
}

filter.addEventListener("change", refresh);
document.getElementById("new-run").addEventListener("click", newRun);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
});
refresh();
