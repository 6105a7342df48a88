// The run page: the run's summary, then its events, live through EventSource.
import {
  ApiError, askForKey, between, formatDuration, formatTime, getJson, history, streamUrl,
} from "./api.js";
import { EventApplier } from "./events.js";
import { Reading } from "./reading.js";
import { AgentTree } from "./tree.js";
import { EVENT_TYPES, Feed } from "./feed.js";

const runId = Number(location.pathname.match(/\/view\/runs\/(\d+)/)[1]);
const $ = (id) => document.getElementById(id);
const body = document.body;
const times = { started: null, ended: null };
// Whether the run had already ended when the page first loaded it: then the run
// and summary loaded first are final, and the page need not ask again at the end.
let endedAtLoad = null;

const page = {
  runStarted(iso) {
    times.started = times.started || iso;
    $("run-started").textContent = formatTime(iso);
  },
  runEnded(status, iso, data) {
    times.ended = iso;
    setStatus(status);
    $("run-finished").textContent = formatTime(iso);
    if (data.error) showError(data.error);
  },
  log(line, kind) {
    const item = document.createElement("li");
    item.className = kind ? kind.replace(".", "-") : "";
    item.textContent = line;
    $("run-log").append(item);
  },
  notice(message, className = "notice") {
    const item = document.createElement("p");
    item.className = className;
    item.textContent = message;
    $("notices").append(item);
  },
};

function setStatus(status) {
  body.dataset.runStatus = status;
  $("run-status").textContent = status;
  $("run-status").className = `badge status-${status}`;
}

function showError(message) {
  $("run-error").textContent = `Error: ${message}`;
  $("run-error").hidden = false;
}

function showRun(run) {
  document.title = `runstream · run ${run.id}`;
  $("run-title").textContent = `run #${run.id}`;
  $("run-task").textContent = run.task;
  $("run-created").textContent = formatTime(run.created_at);
  if (run.started_at) page.runStarted(run.started_at);
  if (run.completed_at) {
    times.ended = run.completed_at;
    $("run-finished").textContent = formatTime(run.completed_at);
  }
  setStatus(run.status);
  if (endedAtLoad === null) endedAtLoad = ["completed", "failed", "cancelled"].includes(run.status);
  tree.seed(run.topology_snapshot);
  if (run.error) showError(run.error);
  if (run.result != null || run.statistics) {
    const details = { result: run.result, statistics: run.statistics };
    $("run-result").querySelector("pre").textContent = JSON.stringify(details, null, 2);
    $("run-result").hidden = false;
  }
}

function tick() {
  $("run-duration").textContent = formatDuration(between(times.started, times.ended));
}

async function loadRun(onReady) {
  try {
    showRun(await getJson(`/runs/${runId}`));
    onReady();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      askForKey($("auth"), () => loadRun(onReady));
    } else {
      page.notice(`Cannot load run ${runId}: ${error.message}`, "error");
      body.dataset.streamState = "failed";
    }
  }
}

const tree = new AgentTree($("tree"));
const applier = new EventApplier(tree, page);
const reading = new Reading(runId, {
  timeline: $("timeline"), figures: $("agent-figures"), filter: $("agent-filter"),
});
const feed = new Feed({
  runId,
  types: EVENT_TYPES,
  streamUrl,
  history,
  part: reading.part,
  filtered: reading.filtered,
  apply(envelope) {
    applier.apply(envelope);
    reading.add(envelope);
  },
  afterBatch(stats) {
    tree.flush();
    reading.draw();
    $("run-events").textContent = stats.applied;
    $("run-last-id").textContent = stats.lastEventId || "–";
    body.dataset.events = stats.applied;
    body.dataset.duplicates = stats.duplicates;
    tick();
  },
  state(name, label) {
    body.dataset.streamState = name;
    $("stream-state").textContent = label;
  },
  gap(data) {
    page.notice(
      `Some events are no longer kept: after ${data.last_event_id ?? "the start"} ` +
        `the stream resumed at ${data.first_available_id}.`,
      "notice gap",
    );
  },
  async closed() {
    clearInterval(ticker);
    reading.stop();
    await (endedAtLoad ? reading.first : Promise.all([loadRun(() => {}), reading.refresh()]));
    tick();
    body.dataset.streamState = "closed";
    performance.mark("runstream:closed");
  },
  unauthorized() {
    askForKey($("auth"), () => feed.start());
  },
  fatal(error) {
    page.notice(`The stream cannot continue: ${error.message}`, "error");
  },
});
const ticker = setInterval(tick, 1000);
loadRun(() => {
  reading.follow();
  feed.start();
});
