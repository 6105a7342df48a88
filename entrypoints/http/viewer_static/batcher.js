// Applies a run's events once each, in log order, a frame's worth at a time.
//
// Work is batched per animation frame, so 10,000 events cost a few frames, not
// 10,000 layouts. An event whose sequence was already applied is counted as a
// duplicate and skipped (the service should never send one; the count shows it).
// A coalesced event stands for `data.coalesced.count` events of the log, ending
// at its sequence. With a filter (`handlers.filtered`), missing sequences are the
// events filtered out: only the service's gap frames tell of lost events.

const MAX_PER_FRAME = 2000;

export class Batcher {
  constructor(handlers) {
    this.handlers = handlers; // apply(envelope), gap(data), afterBatch(stats), closed()
    this.queue = [];
    this.scheduled = false;
    this.gapAnnounced = false;
    this.stats = { applied: 0, duplicates: 0, lastSequence: 0, lastEventId: null };
  }

  // `kind` is event, gap or close; `raw` is JSON text, parsed in the frame's batch
  // so that a burst of stream messages stays cheap when it arrives.
  add(kind, data, raw) {
    this.queue.push({ kind, data, raw });
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    // Hidden tabs get no animation frames; a timer keeps the work going there.
    if (document.hidden) setTimeout(() => this.flush(), 250);
    else requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.scheduled = false;
    const batch = this.queue.splice(0, MAX_PER_FRAME);
    let closing = false;
    for (const item of batch) {
      const data = item.raw !== undefined ? JSON.parse(item.raw) : item.data;
      if (item.kind === "event") this.applyOnce(data);
      else if (item.kind === "gap") this.announceGap(data);
      else closing = true;
    }
    this.handlers.afterBatch(this.stats);
    if (this.queue.length) this.schedule();
    else if (closing) this.handlers.closed();
  }

  announceGap(data) {
    this.gapAnnounced = true;
    this.handlers.gap(data);
  }

  applyOnce(envelope) {
    const { stats } = this;
    if (envelope.sequence <= stats.lastSequence) {
      stats.duplicates += 1;
      return;
    }
    const merged = (envelope.data && envelope.data.coalesced) || null;
    const count = merged ? merged.count : 1;
    // History pages carry no gap frame: missing sequences say it instead.
    const first = envelope.sequence - count + 1;
    if (first > stats.lastSequence + 1 && !this.gapAnnounced && !this.handlers.filtered) {
      const at = merged ? merged.first_id : envelope.id;
      this.handlers.gap({ last_event_id: stats.lastEventId, first_available_id: at });
    }
    this.gapAnnounced = false;
    stats.lastSequence = envelope.sequence;
    stats.lastEventId = envelope.id;
    stats.applied += count;
    this.handlers.apply(envelope);
  }
}
