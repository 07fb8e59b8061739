// When to ask the classifier, and which answers to keep. No DOM here.
//
// Rules (each classification costs money):
// - ask only after the person pauses typing for `debounceMs`, at most once per pause;
// - never for text shorter than `minLength`;
// - never again for the text (title and description) the last answer was for, or the
//   text already being asked about;
// - when the text changes, abort the request in flight: its answer would be for old text;
// - an answer that arrives after a newer request started is dropped (belt and braces:
//   the abort normally prevents it).
//
// Events: "pending" (a request is in flight), "suggestion" {suggestion, text},
// "failed" {error}, "idle" (nothing pending any more, e.g. aborted or too short).

export function normalise(text) {
  return String(text ?? "").replace(/\s+/g, " ").trim();
}

export class SuggestionController extends EventTarget {
  #classify;
  #debounceMs;
  #minLength;
  #timer = null;
  #inFlight = null; // {key, abort}
  #answeredKey = null;
  #sequence = 0;

  /**
   * @param {(input: {title: string, description: string}, options: {signal: AbortSignal}) => Promise<object>} classify
   */
  constructor(classify, { debounceMs = 800, minLength = 20 } = {}) {
    super();
    this.#classify = classify;
    this.#debounceMs = debounceMs;
    this.#minLength = minLength;
  }

  get pending() {
    return this.#inFlight !== null;
  }

  /**
   * Call on every edit of the title or the description. A suggestion is for both (the
   * server classifies them together, and names its answer by both), so a change to
   * either asks again; only the description's length decides whether to ask at all.
   */
  textChanged({ title, description }) {
    const text = normalise(description);
    const key = `${normalise(title)}\n${text}`;
    clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#inFlight && this.#inFlight.key !== key) this.#abortInFlight();
    if (text.length < this.#minLength) return;
    if (key === this.#answeredKey || (this.#inFlight && this.#inFlight.key === key)) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#ask({ title: normalise(title), description: String(description) }, key);
    }, this.#debounceMs);
  }

  /** Forget everything (after a successful submit) and cancel what is pending. */
  reset() {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#abortInFlight();
    this.#answeredKey = null;
  }

  #abortInFlight() {
    if (!this.#inFlight) return;
    this.#inFlight.abort.abort();
    this.#inFlight = null;
    this.#sequence += 1;
    this.#emit("idle");
  }

  async #ask(input, key) {
    if (key === this.#answeredKey) return;
    const sequence = ++this.#sequence;
    const abort = new AbortController();
    this.#inFlight = { key, abort };
    this.#emit("pending");
    try {
      const suggestion = await this.#classify(input, { signal: abort.signal });
      if (abort.signal.aborted || sequence !== this.#sequence) return;
      this.#inFlight = null;
      this.#answeredKey = key;
      this.#emit("suggestion", { suggestion, text: key });
    } catch (error) {
      if (abort.signal.aborted || sequence !== this.#sequence) return;
      this.#inFlight = null;
      this.#emit("failed", { error });
    }
  }

  #emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
