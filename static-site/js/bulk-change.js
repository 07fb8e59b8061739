// A bulk change of the selected tickets (no DOM): POST /api/tickets/bulk/ in chunks of
// 10, one request at a time, so the progress moves as each chunk is answered. Every
// item carries the version the agent saw: the API changes it only if it is still that
// version (one result per item: 200, or 412 with the current ticket, 404, 409, 400).
// Nothing is lost silently: a chunk whose request failed marks each of its tickets
// "not sent", and every failure can be retried.

export const BULK_CHUNK_SIZE = 10;

/**
 * What happened to one ticket: `{ok, text, retryable}`.
 * @param {{status: number, error?: string}} result
 */
export function outcome(result) {
  switch (result.status) {
    case 200:
      return { ok: true, text: result.already ? "Changed (an earlier attempt had already done it)" : "Changed", retryable: false };
    case 412:
      return { ok: false, text: "Not changed: someone else changed this ticket after you loaded it (it now shows their version)", retryable: true };
    case 404:
      return { ok: false, text: "Not changed: the ticket no longer exists (it was deleted)", retryable: false };
    case 409:
      return { ok: false, text: "Not changed: the ticket kept changing while this was saved", retryable: true };
    case 0:
      return { ok: false, text: `Not sent: ${result.error || "the request failed"}`, retryable: true };
    default:
      return { ok: false, text: `Not changed: ${result.error || `the desk refused it (HTTP ${result.status})`}`, retryable: false };
  }
}

/**
 * @param {{items: {id: string, version: number, reference: string, title: string}[],
 *          changes: object, send: (items: object[]) => Promise<object[]>, chunkSize?: number}} options
 * Events: "progress" {done, total}, "done".
 */
export class BulkChange extends EventTarget {
  /** id → {item, result: {status, ticket?, current?, error?}} in the order selected. */
  results = new Map();
  done = 0;
  running = false;
  #send;
  #chunkSize;

  constructor({ items, changes, send, chunkSize = BULK_CHUNK_SIZE }) {
    super();
    this.items = items;
    this.changes = changes;
    this.total = items.length;
    this.#send = send;
    this.#chunkSize = chunkSize;
  }

  async run() {
    this.running = true;
    let stopped = null;
    for (let start = 0; start < this.items.length; start += this.#chunkSize) {
      const chunk = this.items.slice(start, start + this.#chunkSize);
      if (stopped) {
        for (const item of chunk) this.results.set(item.id, { item, result: { id: item.id, status: 0, error: stopped } });
      } else {
        try {
          const answers = await this.#send(chunk.map((item) => ({ id: item.id, version: item.version, changes: this.changes })));
          chunk.forEach((item, index) => {
            const answer = answers[index] && answers[index].id === item.id ? answers[index] : answers.find((a) => a.id === item.id);
            this.results.set(item.id, { item, result: this.#settled(answer) ?? { id: item.id, status: 0, error: "the desk gave no answer for it" } });
          });
        } catch (error) {
          for (const item of chunk) this.results.set(item.id, { item, result: { id: item.id, status: 0, error: error.message } });
          // Signed out or expired: the next chunks would fail the same way.
          if (error.kind === "auth") stopped = error.message;
        }
      }
      this.done += chunk.length;
      this.dispatchEvent(new CustomEvent("progress", { detail: { done: this.done, total: this.total } }));
    }
    this.running = false;
    this.dispatchEvent(new CustomEvent("done"));
  }

  /**
   * A 412 whose current ticket already holds every value asked for is a success: an
   * earlier attempt that timed out (its answer lost) had gone through after all.
   */
  #settled(answer) {
    if (!answer || answer.status !== 412 || !answer.current) return answer;
    const done = Object.entries(this.changes).every(([field, value]) => answer.current[field] === value);
    return done ? { id: answer.id, status: 200, ticket: answer.current, already: true } : answer;
  }

  /** How many changed, and how many did not. */
  get counts() {
    let changed = 0;
    for (const { result } of this.results.values()) if (result.status === 200) changed += 1;
    return { changed, failed: this.results.size - changed };
  }

  /**
   * The failed items worth sending again: a 412 with the version its current ticket
   * carries (the agent has seen that ticket now), others with the version they had.
   */
  retryItems() {
    const items = [];
    for (const { item, result } of this.results.values()) {
      if (!outcome(result).retryable) continue;
      const version = result.status === 412 && result.current ? result.current.version : item.version;
      const title = result.current ? result.current.title : item.title;
      items.push({ ...item, version, title });
    }
    return items;
  }
}
