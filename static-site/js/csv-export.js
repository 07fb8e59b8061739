// CSV export of a list view, assembled in the browser page by page (no DOM).
//
// RFC 4180: CRLF between records, a field with a comma, quote, CR or LF is quoted and
// its quotes doubled. UTF-8 with a byte-order mark so Excel reads accents right. A cell
// starting with =, +, -, @, tab or CR gets a leading ' so a spreadsheet shows it as
// text instead of running it as a formula (OWASP's advice for CSV injection).
//
// Memory stays bounded: each page of 100 tickets becomes one Blob at once, and the
// file is a Blob of those Blobs (the browser may keep them on disk), so no string
// ever holds the whole export. See docs/frontend.md for why not an S3 export.

export const CSV_COLUMNS = Object.freeze([
  "id",
  "number",
  "title",
  "description",
  "category",
  "priority",
  "status",
  "created_at",
  "updated_at",
  "customer_name",
  "customer_email",
  "assignee",
  "suggested_category",
  "suggested_priority",
  "classification_source",
  "suggested_confidence",
  "waiting_on",
  "last_message_at",
  "message_count",
  "version",
  "assignee_name",
  "first_reply_at",
]);

export const EXPORT_PAGE_SIZE = 100; // the API's largest page
const BOM = "\uFEFF";
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;
const MAX_ATTEMPTS = 4;

/** One field: neutralised against formulas, quoted when RFC 4180 says so. */
export function csvCell(value) {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvRecord(values) {
  return `${values.map(csvCell).join(",")}\r\n`;
}

/** The records of `tickets`, one per ticket, in CSV_COLUMNS order. */
export function ticketRecords(tickets) {
  return tickets.map((ticket) => csvRecord(CSV_COLUMNS.map((column) => ticket[column]))).join("");
}

/** "tickets-unsolved-priority-20261129-1405.csv": what the view was, and when. */
export function exportFileName(query, now = new Date()) {
  const slug = [query.status, query.category, query.priority, query.assignee && `assignee-${query.assignee}`, query.search && `search-${query.search}`, query.sort]
    .filter(Boolean)
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80)
    .replace(/-+$/, "");
  const pad = (n) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
  return `tickets-${slug || "all"}-${stamp}.csv`;
}

/**
 * One export run. `fetchPage(queryOrNextUrl, {signal})` resolves to `{tickets, next}`
 * (the store's page reader). Events: "progress" {count, pages}. `run()` resolves to
 * `{blob, fileName, count}`, or rejects (an AbortError after `cancel()`).
 */
export class CsvExport extends EventTarget {
  #query;
  #fetchPage;
  #abort = new AbortController();
  #wait;
  count = 0;
  pages = 0;

  constructor({ query, fetchPage, wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }) {
    super();
    this.#query = query;
    this.#fetchPage = fetchPage;
    this.#wait = wait;
  }

  get cancelled() {
    return this.#abort.signal.aborted;
  }

  cancel() {
    this.#abort.abort();
  }

  async run() {
    const fileName = exportFileName(this.#query);
    const parts = [new Blob([BOM, csvRecord(CSV_COLUMNS)])];
    // A ticket that moves while the export runs (its status changes, say) could
    // come round twice; ids are small, so remember them and write each once.
    const seen = new Set();
    const filters = Object.fromEntries(Object.entries(this.#query).filter(([, value]) => value));
    let request = { ...filters, limit: EXPORT_PAGE_SIZE };
    while (request) {
      const page = await this.#page(request);
      const fresh = page.tickets.filter((ticket) => !seen.has(ticket.id));
      for (const ticket of fresh) seen.add(ticket.id);
      if (fresh.length) parts.push(new Blob([ticketRecords(fresh)]));
      this.count += fresh.length;
      this.pages += 1;
      this.dispatchEvent(new CustomEvent("progress", { detail: { count: this.count, pages: this.pages } }));
      request = page.next;
    }
    return { blob: new Blob(parts, { type: "text/csv;charset=utf-8" }), fileName, count: this.count };
  }

  /** A page, retried (1 s, 2 s, 4 s or Retry-After) when the API is busy or unreachable. */
  async #page(request) {
    for (let attempt = 1; ; attempt += 1) {
      this.#throwIfCancelled();
      try {
        return await this.#fetchPage(request, { signal: this.#abort.signal });
      } catch (error) {
        this.#throwIfCancelled();
        const transient = error.kind === "network" || error.kind === "timeout" || error.status === 429 || error.status >= 500;
        if (!transient || attempt >= MAX_ATTEMPTS) throw error;
        await this.#wait(error.retryAfter ? Math.min(error.retryAfter, 30) * 1000 : 1000 * 2 ** (attempt - 1));
      }
    }
  }

  #throwIfCancelled() {
    if (this.#abort.signal.aborted) throw new DOMException("The export was cancelled.", "AbortError");
  }
}
