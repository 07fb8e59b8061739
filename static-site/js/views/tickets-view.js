// "Tickets": the agents' console. Filters and search live in the address bar
// (#/tickets?status=open&search=login) so a reload or a shared link keeps them.

import { h, options, replaceChildren } from "../dom.js";
import { CATEGORIES, PRIORITIES, STATUSES, choices } from "../format.js";
import { replaceQuery } from "../router.js";
import { EMPTY_QUERY } from "../store.js";
import { emptyNotice, errorNotice } from "../components/notice.js";
import { TicketRow } from "../components/ticket-row.js";

const SEARCH_DEBOUNCE_MS = 300;

export class TicketsView {
  #store;
  #rows = new Map();
  #searchTimer = null;
  #active = false;

  constructor(store) {
    this.#store = store;
    this.element = this.#build();
    store.addEventListener("list", () => this.#active && this.#render());
    store.addEventListener("ticket", (event) => this.#active && this.#updateRow(event.detail.id));
  }

  show(route) {
    this.#active = true;
    document.title = "Tickets · Support desk";
    const query = { ...EMPTY_QUERY };
    for (const name of Object.keys(EMPTY_QUERY)) query[name] = route.query[name] ?? "";
    this.#setControls(query);
    this.#render();
    this.#store.loadTickets(query);
  }

  hide() {
    this.#active = false;
    clearTimeout(this.#searchTimer);
  }

  #build() {
    this.filters = {
      category: h("select", { id: "filter-category", name: "category", dataset: { filter: "category" } }, options([["", "All categories"], ...choices(CATEGORIES)], "")),
      priority: h("select", { id: "filter-priority", name: "priority", dataset: { filter: "priority" } }, options([["", "All priorities"], ...choices(PRIORITIES)], "")),
      status: h("select", { id: "filter-status", name: "status", dataset: { filter: "status" } }, options([["", "All statuses"], ...choices(STATUSES)], "")),
    };
    this.search = h("input", { id: "filter-search", type: "search", name: "search", maxLength: 200, autocomplete: "off", placeholder: "Words in the title or description", dataset: { filter: "search" } });
    for (const select of Object.values(this.filters)) select.addEventListener("change", () => this.#applyFilters());
    this.search.addEventListener("input", () => {
      clearTimeout(this.#searchTimer);
      this.#searchTimer = setTimeout(() => this.#applyFilters(), SEARCH_DEBOUNCE_MS);
    });
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(this.#searchTimer);
        this.#applyFilters();
      }
    });
    const clear = h("button", { type: "button", class: "button button--quiet", dataset: { clearFilters: "" }, text: "Clear filters", on: { click: () => this.#clearFilters() } });

    this.summary = h("p", { class: "list-summary", dataset: { listSummary: "" } });
    this.list = h("ol", { class: "ticket-list", dataset: { ticketList: "" }, attrs: { "aria-labelledby": "tickets-heading" } });
    this.status = h("div", { dataset: { listStatus: "" } });
    this.moreButton = h("button", { type: "button", class: "button", dataset: { loadMore: "" }, text: "Load more", on: { click: () => this.#store.loadMore() } });
    this.moreArea = h("div", { class: "load-more" }, this.moreButton);

    this.element = h(
      "section",
      { class: "view view--tickets", dataset: { view: "tickets" } },
      h("div", { class: "view-head" }, h("h2", { id: "tickets-heading", tabIndex: -1, text: "Tickets" }), this.summary),
      h(
        "form",
        { class: "filters card", attrs: { role: "search", "aria-label": "Filter tickets" }, on: { submit: (event) => event.preventDefault() } },
        h("div", { class: "filters__search field" }, h("label", { htmlFor: "filter-search", text: "Search" }), this.search),
        ...Object.entries(this.filters).map(([name, select]) =>
          h("div", { class: "field" }, h("label", { htmlFor: select.id, text: name[0].toUpperCase() + name.slice(1) }), select),
        ),
        h("div", { class: "filters__actions" }, clear),
      ),
      this.status,
      this.list,
      this.moreArea,
    );
    return this.element;
  }

  #currentQuery() {
    return {
      category: this.filters.category.value,
      priority: this.filters.priority.value,
      status: this.filters.status.value,
      search: this.search.value.trim(),
    };
  }

  #setControls(query) {
    for (const name of ["category", "priority", "status"]) this.filters[name].value = query[name];
    if (this.search.value.trim() !== query.search) this.search.value = query.search;
  }

  #applyFilters() {
    const query = this.#currentQuery();
    replaceQuery("/tickets", query);
    this.#store.loadTickets(query);
  }

  #clearFilters() {
    this.#setControls(EMPTY_QUERY);
    this.search.value = "";
    this.#applyFilters();
    this.search.focus();
  }

  #render() {
    const { tickets, next, loading, error, loaded, query } = this.#store.list;
    // Keyed rows: a row that stays keeps its element (and the keyboard focus in it).
    const keep = new Set(tickets.map((ticket) => ticket.id));
    for (const [id, row] of this.#rows) {
      if (!keep.has(id)) {
        row.element.remove();
        this.#rows.delete(id);
      }
    }
    tickets.forEach((ticket, index) => {
      let row = this.#rows.get(ticket.id);
      if (!row) {
        row = new TicketRow(ticket);
        row.element.addEventListener("ticket-change", (event) => this.#store.changeTicket(event.detail.id, event.detail.changes));
        this.#rows.set(ticket.id, row);
      }
      row.update(ticket, this.#store.noteFor(ticket.id), this.#store.isSaving(ticket.id));
      if (this.list.children[index] !== row.element) this.list.insertBefore(row.element, this.list.children[index] ?? null);
    });

    const filtered = Object.values(query).some(Boolean);
    this.list.setAttribute("aria-busy", String(loading));
    if (error) {
      replaceChildren(this.status, errorNotice("Could not load tickets.", error, () => this.#store.loadTickets()));
    } else if (loading && tickets.length === 0) {
      replaceChildren(this.status, h("p", { class: "loading", attrs: { role: "status" }, text: query.search ? "Searching…" : "Loading tickets…" }));
    } else if (loaded && !loading && tickets.length === 0) {
      replaceChildren(
        this.status,
        next
          ? emptyNotice("No matches among the tickets searched so far. Older tickets have not been searched yet: use “Search older tickets”.")
          : filtered
            ? emptyNotice("No tickets match these filters.", h("button", { type: "button", class: "button button--quiet", text: "Clear filters", on: { click: () => this.#clearFilters() } }))
            : emptyNotice("No tickets yet.", h("a", { href: "#/new", text: "Submit the first one" })),
      );
    } else {
      replaceChildren(this.status);
    }

    this.summary.textContent = tickets.length
      ? `Showing ${tickets.length} ticket${tickets.length === 1 ? "" : "s"}${filtered ? " matching the filters" : ""}${next ? "; more available" : ""}, newest first.`
      : "";
    this.moreArea.hidden = !next || Boolean(error && tickets.length === 0);
    this.moreButton.disabled = loading;
    this.moreButton.textContent = loading && tickets.length ? "Loading…" : tickets.length === 0 ? "Search older tickets" : "Load more";
  }

  #updateRow(id) {
    const row = this.#rows.get(id);
    const ticket = this.#store.list.tickets.find((t) => t.id === id);
    if (row && ticket) row.update(ticket, this.#store.noteFor(id), this.#store.isSaving(id));
  }
}
