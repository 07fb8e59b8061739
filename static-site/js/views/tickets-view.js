// "Tickets": the agents' queue. A dense table of tickets (stacked cards on phones),
// filters, sort and search in the address bar (#/tickets?status=unsolved&sort=priority)
// so a reload, Back or a shared link shows the same list; built-in and saved views;
// inline edits with Undo; keyboard shortcuts; bulk changes; CSV export. Coming back
// from a ticket restores the loaded pages, the scroll position and the focus.

import { h, options, replaceChildren } from "../dom.js";
import { CATEGORIES, PRIORITIES, choices, label } from "../format.js";
import { replaceQuery } from "../router.js";
import { EMPTY_QUERY } from "../store.js";
import {
  LIST_STATUSES,
  MAX_SEARCH_LENGTH,
  SORTS,
  SavedViews,
  describeQuery,
  describeSort,
  normalQuery,
  queryLabel,
  readListQuery,
  refusedFieldMessage,
  sameQuery,
  searchProblem,
} from "../queue.js";
import { parseReference, searchWords } from "../search-text.js";
import { shortcutFor } from "../shortcuts.js";
import { BulkChange } from "../bulk-change.js";
import { Poller } from "../poller.js";
import { emptyNotice, errorNotice } from "../components/notice.js";
import { BulkBar, BulkReport } from "../components/bulk-bar.js";
import { ExportControl } from "../components/export-control.js";
import { ShortcutHelp } from "../components/shortcut-help.js";
import { COLUMNS, TicketRow, referenceOf } from "../components/ticket-row.js";
import { UndoToasts } from "../components/undo-toasts.js";
import { ViewsBar } from "../components/views-bar.js";

const SEARCH_DEBOUNCE_MS = 300;
/** How often the list looks for new tickets while the tab is visible. */
export const LIST_POLL_MS = 30000;
const FILTER_LABELS = { status: "Status", category: "Category", priority: "Priority", assignee: "Assignee", sort: "Sort" };

export class TicketsView {
  #store;
  #rows = new Map();
  #searchTimer = null;
  #active = false;
  /** Ids of the selected tickets (only tickets on screen can be selected). */
  #selected = new Set();
  /** The checkbox clicked last: a shift-click selects the range from it. */
  #anchorId = null;
  /** The row j/k/x/Enter act on: the one holding the focus, or the last one that did. */
  #currentId = null;
  /** Where the agent was, for coming back: the window's scroll and the row in focus. */
  #place = { scrollY: 0 };
  #bulkRun = null;
  /** Sentences about the address (a bad filter reset), shown above the list. */
  #addressNotes = [];
  /** Tickets the poll found for this query that the list does not show yet. */
  #newIds = new Set();
  #newQuery = null;
  #poller = new Poller(() => this.#lookForNew(), LIST_POLL_MS);

  constructor(store) {
    this.#store = store;
    this.savedViews = new SavedViews();
    this.element = this.#build();
    store.addEventListener("list", () => this.#active && this.#render());
    store.addEventListener("ticket", (event) => this.#active && this.#updateRow(event.detail.id));
    store.addEventListener("agents", () => this.#renderAgents());
    document.addEventListener("keydown", (event) => this.#active && this.#shortcut(event));
    window.addEventListener(
      "scroll",
      () => {
        if (this.#active) this.#place.scrollY = window.scrollY;
      },
      { passive: true },
    );
  }

  /**
   * Show the list the address asks for. Returns true when it put the focus back on
   * the row the agent left from (then the router leaves the focus alone).
   */
  show(route) {
    this.#active = true;
    document.title = "Tickets · Support desk";
    const { query, problems, isDefault } = readListQuery(route.query);
    if (isDefault || problems.length) replaceQuery("/tickets", query);
    this.#addressNotes = problems.map((problem) => problem.message);
    for (const note of this.#addressNotes) this.#store.announce(note);
    this.#setControls(query);
    // An agent named in the address is shown by name once the directory is read.
    if (query.assignee && !["me", "none"].includes(query.assignee)) this.#store.loadAgents();
    const list = this.#store.list;
    if (list.loaded && !list.error && sameQuery(list.query, query)) {
      // Back from a ticket (or the header's Tickets link): the same pages, scroll and
      // focus as the agent left them, then brought up to date in the background.
      this.#render();
      const focused = this.#restorePlace();
      this.#store.refreshTickets();
      this.#poller.start();
      return focused;
    }
    this.#forgetPlace();
    this.#render();
    this.#store.loadTickets(query);
    this.#poller.start();
    return false;
  }

  hide() {
    this.#active = false;
    this.#poller.stop();
    this.#newIds.clear();
    clearTimeout(this.#searchTimer);
    if (this.help.element.open) this.help.element.close();
  }

  // ---- Building ----

  #build() {
    this.search = h("input", {
      id: "filter-search",
      type: "search",
      name: "search",
      maxLength: MAX_SEARCH_LENGTH,
      autocomplete: "off",
      placeholder: "Words, an email, or #1042",
      dataset: { filter: "search" },
      attrs: { "aria-describedby": "filter-search-hint" },
    });
    this.searchHint = h("p", { id: "filter-search-hint", class: "queue-filters__hint", attrs: { role: "status" }, dataset: { searchHint: "" } });
    this.filters = {
      status: h("select", { id: "filter-status", name: "status", dataset: { filter: "status" } }, options([["", "Any status"], ...LIST_STATUSES.map((value) => [value, value === "unsolved" ? "Unsolved (open or in progress)" : label(value)])], "")),
      category: h("select", { id: "filter-category", name: "category", dataset: { filter: "category" } }, options([["", "Any category"], ...choices(CATEGORIES)], "")),
      priority: h("select", { id: "filter-priority", name: "priority", dataset: { filter: "priority" } }, options([["", "Any priority"], ...choices(PRIORITIES)], "")),
      assignee: h("select", { id: "filter-assignee", name: "assignee", dataset: { filter: "assignee" } }, options(this.#assigneeChoices(""), "")),
      sort: h("select", { id: "filter-sort", name: "sort", dataset: { filter: "sort" } }, options(SORTS.map((value) => [value, queryLabel(value)]), "newest")),
    };
    for (const select of Object.values(this.filters)) select.addEventListener("change", () => this.#applyFilters());
    // The agents' directory is read when an assignee control is about to be used, not
    // with every list: most lists never need it.
    const needAgents = () => this.#store.loadAgents();
    this.filters.assignee.addEventListener("focus", needAgents);
    this.filters.assignee.addEventListener("pointerdown", needAgents);
    this.search.addEventListener("input", () => {
      clearTimeout(this.#searchTimer);
      this.#searchTimer = setTimeout(() => this.#applyFilters(), SEARCH_DEBOUNCE_MS);
    });
    this.search.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      clearTimeout(this.#searchTimer);
      this.#applyFilters();
      const reference = parseReference(this.search.value, { strict: true });
      if (reference) this.#jumpTo(reference);
    });
    const clear = h("button", { type: "button", class: "button button--small button--quiet", dataset: { clearFilters: "" }, text: "Clear filters", on: { click: () => this.#clearFilters() } });

    this.summary = h("p", { class: "list-summary", dataset: { listSummary: "" } });
    this.addressNotice = h("div", { dataset: { addressNotice: "" } });
    this.status = h("div", { dataset: { listStatus: "" } });
    this.caption = h("caption", { class: "visually-hidden" });
    this.selectAll = h("input", {
      type: "checkbox",
      class: "row-check",
      dataset: { selectAll: "" },
      attrs: { "aria-label": "Select every ticket shown" },
      on: { change: () => this.#selectAllChanged() },
    });
    this.body = h("tbody", {
      on: {
        click: (event) => this.#rowClick(event),
        focusin: (event) => this.#rowFocused(event),
        "ticket-change": (event) => this.#inlineChange(event.detail.id, event.detail.changes),
      },
    });
    this.table = h(
      "table",
      { class: "queue", dataset: { ticketList: "" } },
      this.caption,
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          COLUMNS.map(([key, text]) =>
            h("th", { scope: "col", class: `queue__head queue__head--${key}` }, headerContent(key, text, this.selectAll)),
          ),
        ),
      ),
      this.body,
    );
    this.moreButton = h("button", { type: "button", class: "button", dataset: { loadMore: "" }, text: "Load more", on: { click: () => this.#store.loadMore() } });
    this.moreArea = h("div", { class: "load-more" }, this.moreButton);

    this.views = new ViewsBar(this.savedViews, () => this.#currentQuery());
    this.bulkBar = new BulkBar({ onApply: (changes) => this.#applyBulk(changes), onClear: () => this.#clearSelection() });
    this.bulkBar.selects.assignee.addEventListener("focus", needAgents);
    this.bulkBar.selects.assignee.addEventListener("pointerdown", needAgents);
    this.bulkReport = new BulkReport({ onRetry: () => this.#retryBulk(), onDismiss: () => this.#dismissBulk() });
    this.exporter = new ExportControl({
      query: () => this.#store.list.query,
      readPage: (request, options) => this.#store.readTicketsPage(request, options),
      announce: (text) => this.#store.announce(text),
    });
    this.toasts = new UndoToasts();
    this.help = new ShortcutHelp();
    // Floats over the top of the list: the rows never move under the pointer.
    this.newCount = h("span", { dataset: { newCount: "" } });
    this.newBar = h(
      "div",
      // Not a live region: the store's announcer says it once.
      { class: "new-tickets", dataset: { newTickets: "" } },
      this.newCount,
      h("button", { type: "button", class: "button button--small button--primary", dataset: { showNew: "" }, text: "Show", on: { click: () => this.#showNew() } }),
    );
    this.newBar.hidden = true;
    const helpButton = h("button", { type: "button", class: "button button--small button--quiet", dataset: { showShortcuts: "" }, on: { click: () => this.help.open() } }, "Shortcuts ", h("kbd", { text: "?" }));

    return h(
      "section",
      { class: "view view--tickets", dataset: { view: "tickets" } },
      h(
        "div",
        { class: "view-head" },
        h("div", {}, h("h2", { id: "tickets-heading", tabIndex: -1, text: "Tickets" }), this.summary),
        h("div", { class: "view-head__actions" }, this.exporter.element, helpButton),
      ),
      this.views.element,
      this.addressNotice,
      h(
        "form",
        { class: "queue-filters card", attrs: { role: "search", "aria-label": "Filter tickets" }, on: { submit: (event) => event.preventDefault() } },
        h("div", { class: "queue-filters__search field" }, h("label", { htmlFor: "filter-search", text: "Search" }), this.search, this.searchHint),
        ...Object.entries(this.filters).map(([name, select]) => h("div", { class: "field" }, h("label", { htmlFor: select.id, text: FILTER_LABELS[name] }), select)),
        h("div", { class: "queue-filters__actions" }, clear),
      ),
      this.bulkBar.element,
      this.bulkReport.element,
      this.status,
      h("div", { class: "queue-wrap" }, this.table),
      this.moreArea,
      this.toasts.element,
      this.newBar,
    );
  }

  #assigneeChoices(current) {
    const agents = this.#store.agents.list;
    const pairs = [["", "Anyone"], ["me", "Mine"], ["none", "Unassigned"], ...agents.map((agent) => [agent.email, agent.display_name || agent.email])];
    // An agent named in the address before the directory has loaded (or no longer in it).
    if (current && !pairs.some(([value]) => value === current)) pairs.push([current, current]);
    return pairs;
  }

  #renderAgents() {
    const select = this.filters.assignee;
    const current = select.value;
    replaceChildren(select, options(this.#assigneeChoices(current), current));
    this.bulkBar.setAgents(this.#store.agents.list);
  }

  // ---- The query ----

  #currentQuery() {
    const query = normalQuery({
      ...Object.fromEntries(Object.entries(this.filters).map(([name, select]) => [name, select.value])),
      search: this.search.value.trim(),
    });
    return query;
  }

  #setControls(query) {
    if (query.assignee) replaceChildren(this.filters.assignee, options(this.#assigneeChoices(query.assignee), query.assignee));
    for (const name of ["status", "category", "priority", "assignee"]) this.filters[name].value = query[name];
    this.filters.sort.value = query.sort || "newest";
    if (this.search.value.trim() !== query.search) this.search.value = query.search;
    this.searchHint.textContent = "";
  }

  #applyFilters() {
    const query = this.#currentQuery();
    const problem = searchProblem(query.search);
    if (problem) {
      // Said beside the field; the list stays as it was until the search can be sent.
      this.searchHint.textContent = `Not searched: ${problem}.`;
      return;
    }
    this.searchHint.textContent = "";
    this.#addressNotes = [];
    if (sameQuery(query, this.#store.list.query) && this.#store.list.loaded) return;
    replaceQuery("/tickets", query);
    this.#forgetPlace();
    this.#store.loadTickets(query);
  }

  #clearFilters() {
    this.#setControls({ ...EMPTY_QUERY, sort: this.filters.sort.value });
    this.#applyFilters();
    this.search.focus();
  }

  /** The same search and filters, in every status (the button disappears: focus the search). */
  #searchAllStatuses() {
    this.filters.status.value = "";
    this.#applyFilters();
    this.search.focus();
  }

  /** `#1042` (or a full id) typed into the search and Enter: open that ticket. */
  async #jumpTo(reference) {
    this.searchHint.textContent = `Looking for ${reference.text}…`;
    try {
      const ticket = await this.#store.findByReference(reference);
      if (!this.#active) return;
      if (ticket) {
        this.searchHint.textContent = "";
        window.location.hash = `#/tickets/${ticket.id}`;
      } else {
        this.searchHint.textContent = `There is no ticket ${reference.text}.`;
      }
    } catch (error) {
      this.searchHint.textContent = `Could not look for ${reference.text}: ${error.message}`;
    }
  }

  /**
   * The API refused a field of the query (a 400 naming it, e.g. an assignee who is no
   * longer an agent): reset that field, say so, and load the list without it.
   */
  #recoverFromRefusal(error) {
    const fields = Object.keys(error.fields).filter((name) => name in EMPTY_QUERY || name === "cursor");
    const query = { ...this.#store.list.query };
    const reset = fields.filter((name) => name === "cursor" || query[name]);
    if (reset.length === 0) return false;
    for (const name of reset) {
      this.#addressNotes.push(refusedFieldMessage(name, query[name] ?? ""));
      if (name in query) query[name] = "";
    }
    replaceQuery("/tickets", query);
    this.#setControls(query);
    this.#store.loadTickets(query);
    return true;
  }

  // ---- New tickets (the poll) ----

  async #lookForNew() {
    const fresh = await this.#store.peekTickets();
    if (!fresh || !this.#active) return;
    const shown = new Set(this.#store.list.tickets.map((ticket) => ticket.id));
    const before = this.#newIds.size;
    for (const ticket of fresh) if (!shown.has(ticket.id)) this.#newIds.add(ticket.id);
    this.#renderNew();
    if (this.#newIds.size > before) this.#store.announce(this.newCount.textContent);
  }

  #renderNew() {
    const count = this.#newIds.size;
    this.newBar.hidden = count === 0;
    this.newCount.textContent = count ? `${count} new ticket${count === 1 ? "" : "s"} — ` : "";
  }

  /** "Show": the list brought up to date (the agent's place kept), focus on the heading. */
  #showNew() {
    this.#newIds.clear();
    this.#renderNew();
    if (this.#store.list.tickets.length > 100) this.#store.loadTickets(this.#store.list.query);
    else this.#store.refreshTickets();
    this.element.querySelector("#tickets-heading").focus();
  }

  // ---- Rendering ----

  #render() {
    const { tickets, next, loading, error, loaded, query } = this.#store.list;
    // A reload that brought the new tickets in takes them off the "new" count.
    for (const ticket of tickets) this.#newIds.delete(ticket.id);
    if (!this.#newQuery || !sameQuery(query, this.#newQuery)) this.#newIds.clear();
    this.#newQuery = query;
    this.#renderNew();
    if (error && error.status === 400 && !loading && this.#recoverFromRefusal(error)) return;
    const words = searchWords(query.search);
    // Keyed rows: a row that stays keeps its element (and the keyboard focus in it).
    const keep = new Set(tickets.map((ticket) => ticket.id));
    for (const [id, row] of this.#rows) {
      if (!keep.has(id)) {
        row.element.remove();
        this.#rows.delete(id);
        this.#selected.delete(id);
      }
    }
    tickets.forEach((ticket, index) => {
      let row = this.#rows.get(ticket.id);
      if (!row) {
        row = new TicketRow(ticket);
        this.#rows.set(ticket.id, row);
      }
      row.update(ticket, this.#rowState(ticket.id, words));
      if (this.body.children[index] !== row.element) this.body.insertBefore(row.element, this.body.children[index] ?? null);
    });

    replaceChildren(
      this.addressNotice,
      this.#addressNotes.length ? h("div", { class: "notice notice--info", attrs: { role: "status" } }, this.#addressNotes.map((text) => h("p", { text }))) : null,
    );
    const filtered = Object.entries(query).some(([name, value]) => name !== "sort" && value);
    this.table.setAttribute("aria-busy", String(loading));
    this.table.hidden = tickets.length === 0;
    if (error) {
      const retry = error.status === 400 ? null : () => this.#store.loadTickets();
      replaceChildren(this.status, errorNotice("Could not load tickets.", error, retry));
    } else if (loading && tickets.length === 0) {
      replaceChildren(this.status, h("p", { class: "loading", attrs: { role: "status" }, text: query.search ? "Searching…" : "Loading tickets…" }));
    } else if (loaded && !loading && tickets.length === 0) {
      replaceChildren(
        this.status,
        next
          ? emptyNotice("No matches among the tickets searched so far. Older tickets have not been searched yet: use “Search older tickets”.")
          : query.search && query.status === "unsolved"
            ? // Most "it's not there" searches are for a ticket already solved.
              emptyNotice(
                `No unsolved tickets match “${query.search}”.`,
                h("button", { type: "button", class: "button", dataset: { searchAllStatuses: "" }, text: "Search all statuses", on: { click: () => this.#searchAllStatuses() } }),
              )
            : filtered
            ? emptyNotice("No tickets match these filters.", h("button", { type: "button", class: "button button--quiet", text: "Clear filters", on: { click: () => this.#clearFilters() } }))
            : emptyNotice("No tickets yet.", h("a", { href: "#/new", text: "Submit the first one" })),
      );
    } else {
      replaceChildren(this.status);
    }

    const description = `${describeQuery(query)}, ${describeSort(query.sort)}`;
    this.caption.textContent = `Tickets: ${description}`;
    this.summary.textContent = tickets.length
      ? `${tickets.length} ticket${tickets.length === 1 ? "" : "s"} shown${next ? ", more to load" : ""}. ${description}.`
      : "";
    this.moreArea.hidden = !next || Boolean(error && tickets.length === 0);
    this.moreButton.disabled = loading;
    this.moreButton.textContent = loading && tickets.length ? "Loading…" : tickets.length === 0 ? "Search older tickets" : "Load more";
    this.views.render(query);
    this.#renderSelection();
  }

  #rowState(id, words = searchWords(this.#store.list.query.search)) {
    return { note: this.#store.noteFor(id), saving: this.#store.isSaving(id), words, selected: this.#selected.has(id) };
  }

  #updateRow(id) {
    const row = this.#rows.get(id);
    const ticket = this.#store.list.tickets.find((t) => t.id === id);
    if (row && ticket) row.update(ticket, this.#rowState(id));
  }

  // ---- Keeping the agent's place ----

  #rowFocused(event) {
    const row = event.target.closest("[data-ticket-row]");
    if (!row) return;
    if (this.#currentId && this.#currentId !== row.dataset.ticketId) this.#rows.get(this.#currentId)?.element.removeAttribute("data-current");
    this.#currentId = row.dataset.ticketId;
    row.dataset.current = "true";
  }

  #restorePlace() {
    const row = this.#currentId ? this.#rows.get(this.#currentId) : null;
    if (row) row.link.focus({ preventScroll: true });
    window.scrollTo(0, this.#place.scrollY);
    return Boolean(row);
  }

  #forgetPlace() {
    this.#place = { scrollY: 0 };
    this.#currentId = null;
    this.#selected.clear();
    this.#anchorId = null;
    this.toasts.clear();
  }

  // ---- Inline edits and Undo ----

  async #inlineChange(id, changes) {
    const result = await this.#store.changeTicket(id, changes);
    if (!result.ok) return;
    this.toasts.addChange(this.#store, id, changes, result, "in the list");
  }

  // ---- Keyboard shortcuts ----

  #shortcut(event) {
    const key = shortcutFor(event);
    if (!key) return;
    const tickets = this.#store.list.tickets;
    const index = tickets.findIndex((ticket) => ticket.id === this.#currentId);
    if (key === "j" || key === "k") {
      if (tickets.length === 0) return;
      const target = index === -1 ? 0 : Math.min(tickets.length - 1, Math.max(0, index + (key === "j" ? 1 : -1)));
      const row = this.#rows.get(tickets[target].id);
      row.link.focus({ preventScroll: true });
      row.element.scrollIntoView({ block: "nearest" });
    } else if (key === "Enter") {
      if (index === -1) return;
      window.location.hash = `#/tickets/${this.#currentId}`;
    } else if (key === "x") {
      if (index === -1) return;
      this.#toggle(this.#currentId, !this.#selected.has(this.#currentId), false);
    } else if (key === "/") {
      this.search.focus();
      this.search.select();
    } else if (key === "?") {
      this.help.open();
    } else if (key === "u") {
      if (!this.toasts.undoLatest()) return;
    }
    event.preventDefault();
  }

  // ---- Selection and bulk changes ----

  #rowClick(event) {
    const box = event.target.closest("[data-select-ticket]");
    if (!box) return;
    const id = box.closest("[data-ticket-row]").dataset.ticketId;
    this.#toggle(id, box.checked, event.shiftKey);
  }

  /** Select or unselect `id`; with `range`, every row from the last one clicked too. */
  #toggle(id, selected, range) {
    const ids = this.#store.list.tickets.map((ticket) => ticket.id);
    let chosen = [id];
    if (range && this.#anchorId && ids.includes(this.#anchorId)) {
      const [from, to] = [ids.indexOf(this.#anchorId), ids.indexOf(id)].sort((a, b) => a - b);
      chosen = ids.slice(from, to + 1);
    }
    for (const one of chosen) {
      if (selected) this.#selected.add(one);
      else this.#selected.delete(one);
      this.#updateRow(one);
    }
    this.#anchorId = id;
    this.#renderSelection();
  }

  #selectAllChanged() {
    const select = this.selectAll.checked;
    for (const ticket of this.#store.list.tickets) {
      if (select) this.#selected.add(ticket.id);
      else this.#selected.delete(ticket.id);
      this.#updateRow(ticket.id);
    }
    this.#renderSelection();
  }

  #clearSelection() {
    const ids = [...this.#selected];
    this.#selected.clear();
    for (const id of ids) this.#updateRow(id);
    this.#renderSelection();
  }

  #renderSelection() {
    const shown = this.#store.list.tickets.length;
    const count = this.#selected.size;
    this.selectAll.checked = shown > 0 && count === shown;
    this.selectAll.indeterminate = count > 0 && count < shown;
    // The bar's "Set assignee" needs the agents before it is first opened.
    if (count > 0) this.#store.loadAgents();
    this.bulkBar.render(count, Boolean(this.#bulkRun && this.#bulkRun.running));
  }

  #applyBulk(changes) {
    const items = this.#store.list.tickets
      .filter((ticket) => this.#selected.has(ticket.id))
      .map((ticket) => ({ id: ticket.id, version: ticket.version, reference: referenceOf(ticket), title: ticket.title }));
    if (items.length) this.#runBulk(new BulkChange({ items, changes, send: (chunk) => this.#store.bulkUpdate(chunk) }));
  }

  #retryBulk() {
    const previous = this.#bulkRun;
    if (!previous || previous.running) return;
    const items = previous.retryItems();
    if (items.length) this.#runBulk(new BulkChange({ items, changes: previous.changes, send: (chunk) => this.#store.bulkUpdate(chunk) }));
  }

  async #runBulk(run) {
    if (this.#bulkRun && this.#bulkRun.running) return;
    this.#bulkRun = run;
    const describe = (item) => `${item.reference} ${item.title}`;
    run.addEventListener("progress", () => this.bulkReport.render(run, describe));
    const finished = run.run(); // marks the run as running at once
    this.bulkReport.render(run, describe);
    this.#renderSelection();
    await finished;
    // What changed leaves the selection; what failed stays selected, to retry or inspect.
    for (const [id, { result }] of run.results) {
      if (result.status === 200) this.#selected.delete(id);
      this.#updateRow(id);
    }
    this.bulkReport.render(run, describe);
    this.#renderSelection();
    this.bulkReport.heading.focus();
    this.#store.announce(`${this.bulkReport.heading.textContent}.`);
  }

  #dismissBulk() {
    this.bulkReport.hide();
    this.#bulkRun = null;
    this.selectAll.focus();
  }
}

/** A column header: "select all" for the first, "#" (read as "Number") for the reference. */
function headerContent(key, text, selectAll) {
  if (key === "select") return selectAll;
  if (key === "number") return [h("span", { attrs: { "aria-hidden": "true" }, text: "#" }), h("span", { class: "visually-hidden", text })];
  return text;
}
