// An agent's streamed text: appended in batches, laid out in paragraphs.
//
// A growing text in one block is laid out whole again on every append, so a long
// stream would cost more each frame. Text goes instead into paragraphs (blocks) of
// about SEGMENT_CHARS, split after a sentence or line end (failing that, after a
// space; failing that, anywhere): only the last one is laid out again. The text
// content stays exactly what the agent streamed.

const SEGMENT_CHARS = 2000;
const SENTENCE_END = /[.!?。！？\n]\s*/g;
const SPACE = /\s+/g;

export class TextBox {
  constructor(element) {
    this.element = element;
    this.pending = [];
    this.segment = null;
    this.size = 0;
    this.stick = false;
  }

  push(text) {
    this.pending.push(text);
  }

  // A new LLM call: a labelled break (CSS draws the label, so it adds no text).
  newCall(purpose) {
    if (this.element.firstChild || this.pending.length) this.pending.push({ purpose });
  }

  // Read phase of a frame: is the box scrolled to its end?
  measure() {
    const box = this.element;
    this.stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
  }

  // Write phase: the text that arrived since the last frame.
  flush() {
    if (!this.pending.length) {
      this.stick = false;
      return;
    }
    let run = [];
    for (const piece of this.pending) {
      if (typeof piece === "string") {
        run.push(piece);
        continue;
      }
      this.write(run.join(""));
      run = [];
      const marker = document.createElement("span");
      marker.className = "call";
      marker.dataset.purpose = piece.purpose || "";
      this.element.append(marker);
      this.segment = null;
    }
    this.write(run.join(""));
    this.pending = [];
  }

  write(text) {
    if (!text) return;
    const cut = this.segment ? cutPoint(text, this.size) : -1;
    if (cut >= 0) {
      if (cut > 0) this.segment.append(document.createTextNode(text.slice(0, cut)));
      text = text.slice(cut);
      this.segment = null;
    }
    if (!this.segment) {
      this.segment = document.createElement("span");
      this.segment.className = "part";
      this.size = 0;
      this.element.append(this.segment);
    }
    if (text) this.segment.append(document.createTextNode(text));
    this.size += text.length;
  }

  // Last phase: follow the text's end, after every write (one layout per frame).
  follow() {
    if (this.stick) this.element.scrollTop = this.element.scrollHeight;
  }
}

// Where in `text` the current paragraph (of `size` chars) ends; -1: not in it.
function cutPoint(text, size) {
  if (size < SEGMENT_CHARS) return -1;
  const end = lastEnd(text, SENTENCE_END);
  if (end > 0 || size < 2 * SEGMENT_CHARS) return end || -1;
  const space = lastEnd(text, SPACE);
  return space > 0 || size < 4 * SEGMENT_CHARS ? space || -1 : 0;
}

function lastEnd(text, pattern) {
  let cut = 0;
  for (const match of text.matchAll(pattern)) cut = match.index + match[0].length;
  return cut;
}
