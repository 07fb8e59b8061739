// The application state and every operation that changes it. Views call methods and
// listen for events; they never call the API themselves (except the submit form's
// classification, which is local to that form).
//
// Events (CustomEvent, `detail` as noted):
//   "list"     the tickets list changed (loaded, page appended, error)
//   "ticket"   one ticket's displayed state or note changed       {id}
//   "detail"   the open ticket (or its history) changed
//   "stats"    dashboard figures changed
//   "saved"    a ticket was created or changed by this browser     {ticket, kind}
//   "agents"   the agents' directory loaded (or failed)
//   "announce" a status message for screen readers                {text}

import * as api from "./api.js";
import { label } from "./format.js";

const PAGE_SIZE = 25;
// The API's largest page: coming back to a list refreshes up to this many in one request.
const MAX_PAGE_SIZE = 100;
// With a search the API examines a bounded number of tickets per request, so a
// page can be empty while more pages follow. Follow a few automatically before
// handing control back to the person ("Load more").
const MAX_EMPTY_PAGES_FOLLOWED = 5;
const CHANNEL_NAME = "support-desk";

export const EMPTY_QUERY = Object.freeze({ category: "", priority: "", status: "", assignee: "", search: "", sort: "" });

export class DeskStore extends EventTarget {
  list = { query: EMPTY_QUERY, tickets: [], next: null, loading: false, error: null, loaded: false };
  detail = { id: null, ticket: null, history: [], loading: false, error: null, historyError: null };
  stats = { data: null, loading: false, error: null, updatedAt: null };
  agents = { list: [], loaded: false, error: null };

  /** Per ticket id: {confirmed: ticket as the server last said, queued: [changes...]} */
  #edits = new Map();
  /** Per ticket id: {kind: "error"|"info", text} shown beside the ticket. */
  #notes = new Map();
  /** Per ticket: version -> {to, fields} for each change this tab saved (see undoBase). */
  #own = new Map();
  #listAbort = null;
  #detailAbort = null;
  #statsPromise = null;
  #agentsPromise = null;
  /** Per queued change object: {resolve, baseVersion} (see changeTicket). */
  #pending = new WeakMap();
  #channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL_NAME) : null;

  constructor() {
    super();
    // Another tab of this browser created or changed a ticket: same as here.
    this.#channel?.addEventListener("message", (event) => {
      if (event.data && event.data.type === "saved") this.#emit("saved", { ticket: null, kind: "elsewhere" });
    });
  }

  /** Forget every ticket and figure loaded (on sign-out), cancelling loads in flight. */
  reset() {
    this.#listAbort?.abort();
    this.#detailAbort?.abort();
    this.list = { query: EMPTY_QUERY, tickets: [], next: null, loading: false, error: null, loaded: false };
    this.detail = { id: null, ticket: null, history: [], loading: false, error: null, historyError: null };
    this.stats = { data: null, loading: false, error: null, updatedAt: null };
    this.agents = { list: [], loaded: false, error: null };
    this.#agentsPromise = null;
    this.#notes.clear();
    this.#own.clear();
  }

  #emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  announce(text) {
    this.#emit("announce", { text });
  }

  noteFor(id) {
    return this.#notes.get(id) ?? null;
  }

  isSaving(id) {
    return this.#edits.has(id);
  }

  // ---- Tickets list ----

  /** Load the first page for `query` (aborting any load still running). */
  async loadTickets(query = this.list.query) {
    this.#listAbort?.abort();
    const abort = new AbortController();
    this.#listAbort = abort;
    const sameQuery = JSON.stringify(query) === JSON.stringify(this.list.query);
    this.list = {
      ...this.list,
      query,
      tickets: sameQuery ? this.list.tickets : [],
      next: sameQuery ? this.list.next : null,
      loading: true,
      error: null,
    };
    this.#emit("list");
    const filters = Object.fromEntries(Object.entries(query).filter(([, value]) => value));
    await this.#loadPages({ ...filters, limit: PAGE_SIZE }, abort, true);
  }

  /**
   * Bring the loaded list up to date without losing the agent's place: every ticket
   * loaded so far (all the pages of "Load more") again, in one request of that size.
   * Beyond the API's largest page the list stays as it was loaded.
   */
  async refreshTickets() {
    const count = this.list.tickets.length;
    if (!this.list.loaded || this.list.loading || count > MAX_PAGE_SIZE) return;
    this.#listAbort?.abort();
    const abort = new AbortController();
    this.#listAbort = abort;
    this.list = { ...this.list, loading: true, error: null };
    this.#emit("list");
    const filters = Object.fromEntries(Object.entries(this.list.query).filter(([, value]) => value));
    await this.#loadPages({ ...filters, limit: Math.max(count, PAGE_SIZE) }, abort, true);
  }

  /**
   * The tickets the list would show now (as many as are loaded, at most the API's
   * largest page), read without touching the list: the console's poll compares them
   * with what is on screen. Null while the list is not loaded or is loading.
   */
  async peekTickets() {
    const { loaded, loading, error, tickets, query } = this.list;
    if (!loaded || loading || error) return null;
    const filters = Object.fromEntries(Object.entries(query).filter(([, value]) => value));
    const page = await api.listTickets({ ...filters, limit: Math.min(MAX_PAGE_SIZE, Math.max(tickets.length, PAGE_SIZE)) });
    return sameList(query, this.list.query) && !this.list.loading ? page.tickets : null;
  }

  /** The open ticket as the API holds it now, read without touching the page (its poll). */
  async peekDetail(id) {
    if (this.detail.id !== id || this.detail.loading || this.#edits.has(id)) return null;
    const ticket = await api.getTicket(id);
    return this.detail.id === id && !this.detail.loading && !this.#edits.has(id) ? ticket : null;
  }

  /** Append the next page (following the API's Link header). */
  async loadMore() {
    if (!this.list.next || this.list.loading) return;
    const abort = new AbortController();
    this.#listAbort = abort;
    this.list = { ...this.list, loading: true, error: null };
    this.#emit("list");
    await this.#loadPages(this.list.next, abort, false);
  }

  async #loadPages(firstRequest, abort, replace) {
    let requestArg = firstRequest;
    const found = [];
    let next = null;
    try {
      for (let followed = 0; ; followed += 1) {
        const page = await api.listTickets(requestArg, { signal: abort.signal });
        found.push(...page.tickets);
        next = page.next;
        if (found.length > 0 || !next || followed >= MAX_EMPTY_PAGES_FOLLOWED) break;
        requestArg = next;
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      this.list = { ...this.list, loading: false, error };
      this.#emit("list");
      // A sign-in problem is said once, by the sign-in form.
      if (error.kind !== "auth") this.announce(`Could not load tickets. ${error.message}`);
      return;
    }
    if (abort.signal.aborted) return;
    // A ticket with an edit in flight keeps what the person chose until the API answers.
    const shown = found.map((ticket) => this.#displayed(ticket));
    const tickets = replace ? shown : [...this.list.tickets, ...shown.filter((t) => !this.#inList(t.id))];
    this.list = { ...this.list, tickets, next, loading: false, error: null, loaded: true };
    this.#emit("list");
  }

  #inList(id) {
    return this.list.tickets.some((ticket) => ticket.id === id);
  }

  #displayed(ticket) {
    const edit = this.#edits.get(ticket.id);
    return edit ? Object.assign({}, ticket, ...edit.queued) : ticket;
  }

  /** Show `ticket` wherever it is displayed (list row, open ticket). */
  #show(ticket) {
    if (this.#inList(ticket.id)) {
      this.list = {
        ...this.list,
        tickets: this.list.tickets.map((t) => (t.id === ticket.id ? ticket : t)),
      };
    }
    if (this.detail.ticket && this.detail.ticket.id === ticket.id) {
      this.detail = { ...this.detail, ticket };
      this.#emit("detail");
    }
    this.#emit("ticket", { id: ticket.id });
  }

  #recordOwn(id, from, to, fields) {
    if (!this.#own.has(id)) this.#own.set(id, new Map());
    this.#own.get(id).set(from, { to, fields });
  }

  /**
   * The version an undo of this tab's change (which produced `version` and touched
   * `fields`) should be conditional on. If every change since was this tab's own and
   * none touched those fields, the current version: the agent's own later edits do not
   * block undoing an earlier one. If one of them changed the same field again,
   * `{refused: true}`. Otherwise `version` itself, so that a change by anyone else makes
   * the undo a 412.
   */
  undoBase(id, version, fields) {
    const latest = this.#edits.get(id)?.confirmed?.version ?? this.#findTicket(id)?.version;
    const chain = this.#own.get(id) ?? new Map();
    let at = version;
    for (let steps = 0; at !== latest && steps < 1000; steps += 1) {
      const step = chain.get(at);
      if (!step) return { baseVersion: version };
      if (step.fields.some((field) => fields.includes(field))) return { refused: true };
      at = step.to;
    }
    return { baseVersion: at === latest ? latest : version };
  }

  #findTicket(id) {
    if (this.detail.ticket && this.detail.ticket.id === id) return this.detail.ticket;
    return this.list.tickets.find((ticket) => ticket.id === id) ?? null;
  }

  // ---- Changing a ticket: optimistic, queued per ticket, rolled back on refusal ----

  /**
   * Apply `changes` ({status: "resolved"}) at once, then PATCH with If-Match.
   * Changes made while one is in flight queue behind it (each uses the version the
   * previous answer returned); if the API refuses one, every queued change of that
   * ticket is rolled back to what the server holds, with a note saying why.
   * `baseVersion` makes the change conditional on that version instead (an undo is
   * conditional on the version its edit produced). Resolves to `{ok, ticket, before}`
   * (`before`: the changed fields' values before) or `{ok: false, error}`.
   */
  changeTicket(id, changes, { baseVersion } = {}) {
    const current = this.#findTicket(id);
    if (!current) return Promise.resolve({ ok: false, error: null });
    let edit = this.#edits.get(id);
    if (!edit) {
      edit = { confirmed: current, queued: [] };
      this.#edits.set(id, edit);
    }
    const queued = { ...changes };
    const settled = new Promise((resolve) => this.#pending.set(queued, { resolve, baseVersion }));
    edit.queued.push(queued);
    this.#notes.delete(id);
    this.#show(Object.assign({}, edit.confirmed, ...edit.queued));
    if (edit.queued.length === 1) this.#drain(id, edit);
    return settled;
  }

  async #drain(id, edit) {
    while (edit.queued.length > 0) {
      const changes = edit.queued[0];
      const what = describeChanges(changes);
      const pending = this.#pending.get(changes);
      const before = Object.fromEntries(Object.keys(changes).map((field) => [field, edit.confirmed[field]]));
      try {
        const base = pending?.baseVersion ?? edit.confirmed.version;
        edit.confirmed = await api.updateTicket(id, changes, base);
        this.#recordOwn(id, base, edit.confirmed.version, Object.keys(changes));
        edit.queued.shift();
        pending?.resolve({ ok: true, ticket: edit.confirmed, before });
        this.#notes.set(id, { kind: "info", text: `Saved: ${what}.` });
        this.announce(`Saved: ${what} for “${edit.confirmed.title}”.`);
        this.#broadcastSaved(edit.confirmed, "changed");
      } catch (error) {
        for (const dropped of edit.queued) this.#pending.get(dropped)?.resolve({ ok: false, error });
        edit.queued = [];
        let text;
        if (error instanceof api.ApiError && error.isConflict) {
          text =
            `Not saved: someone else changed this ticket while you were editing it. ` +
            `It has been reloaded with their changes; check it and make your change (${what}) again.`;
          // The 412 carries the ticket as it is now; an older API did not, so ask for it.
          if (error.current && error.current.id === id) {
            edit.confirmed = error.current;
          } else {
            try {
              edit.confirmed = await api.getTicket(id);
            } catch (reloadError) {
              text += ` (Reloading it failed too: ${reloadError.message})`;
            }
          }
        } else {
          text = `Not saved: ${what} was undone. ${error.message}`;
        }
        this.#notes.set(id, { kind: "error", text });
        this.announce(text);
      }
      if (edit.queued.length === 0) this.#edits.delete(id);
      this.#show(Object.assign({}, edit.confirmed, ...edit.queued));
    }
    if (this.detail.ticket && this.detail.ticket.id === id) this.#loadHistory(id);
  }

  #broadcastSaved(ticket, kind) {
    this.#emit("saved", { ticket, kind });
    this.#channel?.postMessage({ type: "saved" });
  }

  // ---- The console: bulk changes, export pages, references, agents ----

  /**
   * One chunk of a bulk change (`[{id, version, changes}]`, at most 100): each ticket
   * as the API now holds it (changed, or a 412's current) is shown wherever it is.
   */
  async bulkUpdate(items) {
    const results = await api.bulkUpdate(items);
    for (const result of results) {
      const ticket = result.ticket ?? result.current;
      if (ticket && ticket.id === result.id && !this.#edits.has(ticket.id)) this.#show(ticket);
    }
    if (results.some((result) => result.status === 200)) this.#broadcastSaved(null, "bulk");
    return results;
  }

  /** A page of tickets for a query or a Link URL, outside the list (the CSV export). */
  readTicketsPage(queryOrNextUrl, { signal } = {}) {
    return api.listTickets(queryOrNextUrl, { signal });
  }

  /** The ticket a reference names (`{kind: "number"|"short"|"id", value}`), or null. */
  async findByReference(reference) {
    try {
      if (reference.kind === "number") return await api.getTicketByNumber(reference.value);
      if (reference.kind === "id") return await api.getTicket(reference.value);
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 404) return null;
      throw error;
    }
    const page = await api.listTickets({ search: `#${reference.value}`, limit: 1 });
    return page.tickets[0] ?? null;
  }

  /** The agents (for the assignee filter and bulk assignment), read once. */
  loadAgents() {
    if (this.#agentsPromise) return this.#agentsPromise;
    this.#agentsPromise = api.listAgents().then(
      (list) => {
        this.agents = { list, loaded: true, error: null };
        this.#emit("agents");
      },
      (error) => {
        this.#agentsPromise = null;
        this.agents = { ...this.agents, error };
        this.#emit("agents");
      },
    );
    return this.#agentsPromise;
  }

  // ---- Creating ----

  /** POST a new ticket; rejects with ApiError (with `fields` for validation errors). */
  async createTicket(fields, idempotencyKey) {
    const ticket = await api.createTicket(fields, { idempotencyKey });
    this.#broadcastSaved(ticket, "created");
    return ticket;
  }

  // ---- One ticket ----

  async loadDetail(id) {
    this.#detailAbort?.abort();
    const abort = new AbortController();
    this.#detailAbort = abort;
    const keep = this.detail.id === id ? this.detail.ticket : this.#findTicket(id);
    this.detail = { id, ticket: keep, history: [], loading: true, error: null, historyError: null };
    this.#emit("detail");
    try {
      const ticket = await api.getTicket(id, { signal: abort.signal });
      if (abort.signal.aborted) return;
      this.detail = { ...this.detail, ticket: this.#displayed(ticket), loading: false };
    } catch (error) {
      if (abort.signal.aborted) return;
      this.detail = { ...this.detail, ticket: null, loading: false, error };
      this.#emit("detail");
      return;
    }
    this.#emit("detail");
    await this.#loadHistory(id, abort);
  }

  async #loadHistory(id, abort = this.#detailAbort) {
    try {
      const history = await api.getHistory(id, { signal: abort?.signal });
      if (abort?.signal.aborted || this.detail.id !== id) return;
      this.detail = { ...this.detail, history, historyError: null };
    } catch (error) {
      if (abort?.signal.aborted) return;
      this.detail = { ...this.detail, historyError: error };
    }
    this.#emit("detail");
  }

  // ---- Dashboard ----

  /** Fetch the figures (one request at a time; callers share the one in flight). */
  loadStats() {
    if (this.#statsPromise) return this.#statsPromise;
    this.stats = { ...this.stats, loading: true };
    this.#emit("stats");
    this.#statsPromise = api
      .getStats()
      .then(
        (data) => {
          this.stats = { data, loading: false, error: null, updatedAt: new Date() };
        },
        (error) => {
          this.stats = { ...this.stats, loading: false, error };
        },
      )
      .finally(() => {
        this.#statsPromise = null;
        this.#emit("stats");
      });
    return this.#statsPromise;
  }
}

function sameList(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** "status → Resolved, priority → High" ("assignee → nobody" for an unassignment) */
export function describeChanges(changes) {
  return Object.entries(changes)
    .map(([field, value]) => `${label(field).toLowerCase()} → ${field === "assignee" && !value ? "nobody" : label(value)}`)
    .join(", ");
}
