// A run's events, from what the log holds to the run's end.
//
// What the log already holds comes from the history API, a page of 1000 at a time;
// then the SSE stream continues after the last of them. EventSource resumes by
// itself after a drop, sending Last-Event-ID. When it gives up (an error answer,
// e.g. 503 while the service restarts), a new EventSource resumes with
// ?last_event_id=. A Batcher applies what arrives. `options.part` asks both for
// part of the run: some agents only, and replays with adjacent chunks coalesced.
import { ApiError } from "./api.js";
import { Batcher } from "./batcher.js";

const MAX_RETRY_MS = 10000;

// EventSource has no wildcard listener: every event name must be listed.
export const EVENT_TYPES = [
  "lifecycle.started", "lifecycle.completed", "lifecycle.failed", "lifecycle.cancelled",
  "llm.started", "llm.stream", "llm.completed", "llm.failed",
  "llm.start", "llm.end", "llm.error",
  "dispatch.assigned", "dispatch.completed", "dispatch.failed",
  "system.notice", "system.info", "system.warning", "system.error",
];

const TERMINAL = ["completed", "failed", "cancelled"];
const TERMINAL_TYPES = TERMINAL.map((action) => `lifecycle.${action}`);

function isTerminal(envelope) {
  return envelope.event.category === "lifecycle" && TERMINAL.includes(envelope.event.action);
}

export class Feed {
  constructor(options) {
    this.options = options;
    this.batcher = new Batcher(options);
    this.finished = false;
    this.retryMs = 1000;
    this.received = null; // the newest event id received
  }

  async start() {
    const { options } = this;
    options.state("loading", "loading history…");
    let last = null;
    try {
      let start = "-";
      while (start) {
        const page = await options.history(options.runId, start, options.part);
        for (const envelope of page.events) this.batcher.add("event", envelope);
        if (page.events.length) last = page.events[page.events.length - 1];
        this.received = last ? last.id : null;
        start = page.has_more ? page.next_id : null;
      }
    } catch (error) {
      // An error answer is dealt with like the stream's; the stream may still work.
      if (error instanceof ApiError && error.status < 500) return this.retry(error);
    }
    if (last && isTerminal(last)) return this.end();
    return this.connect();
  }

  // Everything is here: the run had ended before its history was read.
  end() {
    this.finished = true;
    this.options.state("closing", "finished");
    this.batcher.add("close", null);
  }

  async connect() {
    const { options } = this;
    options.state(this.received ? "reconnecting" : "connecting",
      this.received ? "reconnecting…" : "connecting…");
    let url;
    try {
      url = await options.streamUrl(options.runId, this.received, options.part);
    } catch (error) {
      this.retry(error);
      return;
    }
    const source = new EventSource(url);
    this.source = source;
    const onEvent = (message) => this.push(message, "event");
    for (const type of options.types) source.addEventListener(type, onEvent);
    source.addEventListener("message", onEvent);
    source.addEventListener("gap", (message) => this.push(message, "gap"));
    source.addEventListener("close", (message) => this.push(message, "close"));
    source.onopen = () => {
      this.retryMs = 1000;
      options.state("live", "live");
    };
    source.onerror = () => this.onError();
  }

  push(message, kind) {
    if (this.finished) return;
    if (message.lastEventId) this.received = message.lastEventId;
    // The terminal event is the log's last: the stream is done even without `close`.
    const terminal = TERMINAL_TYPES.includes(message.type);
    if (kind !== "close") this.batcher.add(kind, undefined, message.data);
    if (kind === "close" || terminal) {
      this.finished = true;
      this.source.close();
      this.options.state("closing", "stream finished");
      this.batcher.add("close", null);
    }
  }

  onError() {
    if (this.finished) return;
    if (this.source.readyState === EventSource.CLOSED) this.retry(null);
    else this.options.state("reconnecting", "reconnecting…");
  }

  // EventSource gave up: find out why, then resume ourselves unless it is final.
  async retry(error) {
    this.source?.close();
    this.options.state("reconnecting", "reconnecting…");
    const problem = error || (await this.probe());
    if (problem instanceof ApiError && problem.status === 401) {
      this.options.unauthorized();
      return;
    }
    if (problem instanceof ApiError && problem.status < 500 && problem.status !== 429) {
      this.finished = true;
      this.options.state("failed", "stopped");
      this.options.fatal(problem);
      return;
    }
    setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  // The stream's answer without EventSource: an ApiError for an error answer.
  async probe() {
    const controller = new AbortController();
    try {
      const { runId, part } = this.options;
      const url = await this.options.streamUrl(runId, this.received, part);
      const response = await fetch(url, { signal: controller.signal });
      if (response.ok) return null;
      const body = await response.json().catch(() => ({}));
      return new ApiError(response.status, body.code || "HTTP", body.message || "");
    } catch (error) {
      return error instanceof ApiError ? error : null;
    } finally {
      controller.abort();
    }
  }
}
