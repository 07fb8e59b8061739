// One ticket: full description, timestamps, the classifier's suggestion beside the
// chosen values, in-place changes, and the history of every change.

import { h, replaceChildren } from "../dom.js";
import { age, dateTime, label, sourceLabel } from "../format.js";
import { errorNotice } from "../components/notice.js";
import { TicketControls } from "../components/ticket-controls.js";
import { renderNote } from "../components/ticket-row.js";
import { hashFor } from "../router.js";

export class TicketView {
  #store;
  #active = false;
  #controls = null;
  #renderedId = null;

  constructor(store) {
    this.#store = store;
    this.body = h("div", { dataset: { ticketDetail: "" } });
    this.backLink = h("a", { href: "#/tickets", text: "← All tickets", dataset: { backLink: "" } });
    this.element = h(
      "section",
      { class: "view view--ticket", dataset: { view: "ticket" } },
      h("p", { class: "back-link" }, this.backLink),
      this.body,
    );
    store.addEventListener("detail", () => this.#active && this.#render());
  }

  show(route) {
    this.#active = true;
    this.#renderedId = null;
    // Back to the list as the agent left it (filters and search kept).
    this.backLink.href = hashFor("/tickets", this.#store.list.query);
    this.#store.loadDetail(route.params.id);
  }

  hide() {
    this.#active = false;
  }

  #render() {
    const { id, ticket, history, loading, error, historyError } = this.#store.detail;
    if (error) {
      const notFound = error.status === 404;
      document.title = "Ticket not found · Support desk";
      replaceChildren(
        this.body,
        h("h2", { tabIndex: -1, text: notFound ? "Ticket not found" : "Could not load the ticket" }),
        errorNotice(notFound ? `There is no ticket with id ${id}.` : "The ticket could not be loaded.", notFound ? null : error, notFound ? null : () => this.#store.loadDetail(id)),
      );
      this.#renderedId = null;
      return;
    }
    if (!ticket) {
      replaceChildren(this.body, h("p", { class: "loading", attrs: { role: "status" }, text: loading ? "Loading the ticket…" : "" }));
      this.#renderedId = null;
      return;
    }
    document.title = `${ticket.title} · Support desk`;
    // Build once per ticket, then update in place so focus stays in the selects.
    if (this.#renderedId !== ticket.id) this.#build(ticket);
    this.#update(ticket, history, historyError);
  }

  #build(ticket) {
    this.#renderedId = ticket.id;
    this.#controls = new TicketControls(ticket, "detail");
    this.#controls.element.addEventListener("ticket-change", (event) => this.#store.changeTicket(event.detail.id, event.detail.changes));
    this.title = h("h2", { class: "ticket-title", tabIndex: -1, dataset: { ticketTitle: "" } });
    this.meta = h("dl", { class: "meta-list" });
    this.description = h("p", { class: "ticket-description", dataset: { ticketDescription: "" } });
    this.suggestionTable = h("tbody");
    this.note = h("p", { hidden: true, dataset: { ticketNote: "" } });
    this.history = h("ol", { class: "history", dataset: { history: "" } });
    this.historyStatus = h("div");
    replaceChildren(
      this.body,
      h("article", { class: "ticket-detail" },
        this.title,
        this.meta,
        h("div", { class: "ticket-detail__grid" },
          h("section", { class: "card ticket-detail__description", attrs: { "aria-labelledby": "detail-description-heading" } },
            h("h3", { id: "detail-description-heading", text: "Description" }),
            this.description,
          ),
          h("section", { class: "card ticket-detail__triage", attrs: { "aria-labelledby": "detail-triage-heading" } },
            h("h3", { id: "detail-triage-heading", text: "Triage" }),
            this.#controls.element,
            this.note,
            h("table", { class: "suggestion-table", dataset: { suggestionTable: "" } },
              h("caption", { text: "Chosen values and the classifier's suggestion" }),
              h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Field" }), h("th", { scope: "col", text: "Chosen" }), h("th", { scope: "col", text: "Suggested" }))),
              this.suggestionTable,
            ),
          ),
          h("section", { class: "card ticket-detail__history", attrs: { "aria-labelledby": "detail-history-heading" } },
            h("h3", { id: "detail-history-heading", text: "History" }),
            this.historyStatus,
            this.history,
          ),
        ),
      ),
    );
    this.title.focus();
  }

  #update(ticket, history, historyError) {
    this.title.textContent = ticket.title;
    replaceChildren(
      this.meta,
      metaItem("Reference", h("code", { text: ticket.id })),
      metaItem("Created", timeElement(ticket.created_at)),
      metaItem("Last updated", timeElement(ticket.updated_at)),
      metaItem("Version", String(ticket.version)),
    );
    this.description.textContent = ticket.description;
    this.#controls.update(ticket);
    renderNote(this.note, this.#store.noteFor(ticket.id), this.#store.isSaving(ticket.id));
    const source = ticket.classification_source;
    replaceChildren(
      this.suggestionTable,
      ["category", "priority"].map((field) => {
        const suggested = ticket[`suggested_${field}`];
        const differs = suggested && suggested !== ticket[field];
        return h("tr", { dataset: { suggestionRow: field } },
          h("th", { scope: "row", text: label(field) }),
          h("td", { text: label(ticket[field]) }),
          h("td", {}, suggested ? `${label(suggested)} (${sourceLabel(source)})` : "None recorded", differs ? h("span", { class: "tag", text: " differs" }) : null),
        );
      }),
    );
    if (historyError) {
      replaceChildren(this.historyStatus, errorNotice("Could not load the history.", historyError));
    } else {
      replaceChildren(this.historyStatus, history.length ? null : h("p", { class: "muted", text: "Loading history…" }));
    }
    replaceChildren(this.history, [...history].reverse().map(historyItem));
  }
}

function metaItem(term, value) {
  return h("div", {}, h("dt", { text: term }), h("dd", {}, value));
}

function timeElement(iso) {
  return h("time", { dateTime: iso, title: age(iso), text: `${dateTime(iso)} (${age(iso)})` });
}

function historyItem(entry) {
  const verb = { created: "Created", updated: "Changed", deleted: "Deleted" }[entry.action] ?? label(entry.action);
  const changes = entry.action === "created" ? [] : entry.changes;
  return h(
    "li",
    { class: "history__entry", dataset: { historyVersion: String(entry.version) } },
    h(
      "p",
      { class: "history__head" },
      h("strong", { text: verb }),
      " by ",
      // "customer" is the API's name for whoever used the public form; agents are their email.
      h("span", { class: "history__actor", dataset: { historyActor: entry.actor }, text: entry.actor === "customer" ? "the customer" : entry.actor }),
      " · ",
      timeElement(entry.at),
      ` · version ${entry.version}`,
    ),
    changes.length
      ? h("ul", { class: "history__changes" }, changes.map((change) => h("li", {}, `${label(change.field)}: `, h("del", { text: display(change.field, change.old) }), " → ", h("ins", { text: display(change.field, change.new) }))))
      : null,
  );
}

function display(field, value) {
  if (value === null || value === undefined) return "—";
  return field === "title" || field === "description" ? String(value) : label(value);
}
