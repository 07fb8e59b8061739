// One ticket in the agents' list: title link, age, truncated description, and the
// status/category/priority controls. Updated in place when the ticket changes.

import { h, replaceChildren } from "../dom.js";
import { age, dateTime, label, truncate } from "../format.js";
import { TicketControls } from "./ticket-controls.js";

export class TicketRow {
  constructor(ticket) {
    this.id = ticket.id;
    const titleId = `ticket-${ticket.id}-title`;
    this.link = h("a", { href: `#/tickets/${ticket.id}`, dataset: { ticketLink: "" } });
    this.time = h("time");
    this.priorityBadge = h("span", { class: "badge", dataset: { priorityBadge: "" } });
    this.description = h("p", { class: "ticket-row__description", dataset: { ticketDescription: "" } });
    this.controls = new TicketControls(ticket, `row-${ticket.id}`);
    this.note = h("p", { class: "ticket-row__note", dataset: { ticketNote: "" }, hidden: true });
    this.element = h(
      "li",
      { class: "ticket-row", dataset: { ticketRow: "", ticketId: ticket.id } },
      h(
        "article",
        { attrs: { "aria-labelledby": titleId } },
        h("div", { class: "ticket-row__head" }, h("h3", { id: titleId, class: "ticket-row__title" }, this.link), this.priorityBadge),
        h("p", { class: "ticket-row__meta" }, "Opened ", this.time, h("span", { class: "ticket-row__id", text: ` · #${ticket.id.slice(0, 8)}` })),
        this.description,
        this.controls.element,
        this.note,
      ),
    );
    this.update(ticket, null, false);
  }

  update(ticket, note, saving) {
    this.link.textContent = ticket.title;
    this.time.dateTime = ticket.created_at;
    this.time.title = dateTime(ticket.created_at);
    this.time.textContent = age(ticket.created_at);
    this.priorityBadge.className = `badge badge--${ticket.priority}`;
    this.priorityBadge.textContent = `${label(ticket.priority)} priority`;
    this.description.textContent = truncate(ticket.description);
    this.element.dataset.status = ticket.status;
    this.element.dataset.priority = ticket.priority;
    this.element.setAttribute("aria-busy", saving ? "true" : "false");
    this.controls.update(ticket);
    renderNote(this.note, note, saving);
  }
}

/** The message under a ticket: "Saving…", "Saved: …" or why a change was undone. */
export function renderNote(element, note, saving) {
  if (saving) {
    element.hidden = false;
    element.className = "ticket-note ticket-note--saving";
    replaceChildren(element, "Saving…");
    return;
  }
  element.hidden = !note;
  if (!note) return;
  element.className = `ticket-note ticket-note--${note.kind}`;
  replaceChildren(element, h("span", { class: "ticket-note__icon", attrs: { "aria-hidden": "true" }, text: note.kind === "error" ? "⚠ " : "✓ " }), note.text);
}
