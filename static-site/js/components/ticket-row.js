// One ticket in the agents' list: a dense table row (a stacked card on phones) with
// the number and title links, requester, status and priority as coloured selects that
// show their text, category, assignee, who the ticket waits on, and created/updated
// times. Updated in place when the ticket changes, so focus stays where it is.

import { h, replaceChildren } from "../dom.js";
import { CATEGORIES, PRIORITIES, STATUSES, choices, dateTime, label, shortAge } from "../format.js";
import { excerpt, highlighted } from "../search-text.js";
import { InlineSelect } from "./inline-select.js";

/** The list's columns: [key, header text] (the first header holds "select all"). */
export const COLUMNS = Object.freeze([
  ["select", "Select"],
  ["number", "Number"],
  ["subject", "Subject"],
  ["requester", "Requester"],
  ["status", "Status"],
  ["priority", "Priority"],
  ["category", "Category"],
  ["assignee", "Assignee"],
  ["waiting", "Waiting on"],
  ["created", "Created"],
  ["updated", "Updated"],
]);

const EDITABLE = [
  ["status", STATUSES],
  ["priority", PRIORITIES],
  ["category", CATEGORIES],
];
const WAITING = { customer: "Customer", agent: "Agent" };

/** "#1042" (or the short reference of a ticket from before numbers). */
export function referenceOf(ticket) {
  return ticket.reference || (ticket.number ? `#${ticket.number}` : `#${ticket.id.slice(0, 8)}`);
}

export class TicketRow {
  constructor(ticket) {
    this.id = ticket.id;
    const href = `#/tickets/${ticket.id}`;
    const hintId = `row-${ticket.id}-hint`;
    this.checkbox = h("input", { type: "checkbox", class: "row-check", dataset: { selectTicket: "" } });
    this.numberLink = h("a", { href, class: "queue-row__number", dataset: { ticketNumber: "" } });
    this.link = h("a", { href, class: "queue-row__title", dataset: { ticketLink: "" } });
    this.unsure = h("span", { class: "tag tag--unsure", dataset: { aiUnsure: "" }, text: "AI unsure", hidden: true });
    this.excerpt = h("p", { class: "queue-row__excerpt", dataset: { ticketDescription: "" }, hidden: true });
    this.note = h("p", { class: "queue-row__note", dataset: { ticketNote: "" }, hidden: true });
    this.hint = h("p", { id: hintId, class: "queue-row__hint", dataset: { pendingHint: "" }, hidden: true, text: "Not saved yet: Enter saves it, Escape puts it back." });
    this.selects = {};
    for (const [field, values] of EDITABLE) {
      this.selects[field] = new InlineSelect({
        ticketId: ticket.id,
        field,
        choices: choices(values),
        value: ticket[field],
        label: `${label(field)} of ${referenceOf(ticket)}`,
        hintId,
        onStaged: () => {
          this.hint.hidden = !Object.values(this.selects).some((select) => select.staged);
        },
      });
    }
    this.requester = h("td", { class: "queue-row__requester", dataset: { requester: "", label: "Requester" } });
    this.assignee = h("td", { class: "queue-row__assignee", dataset: { assignee: "", label: "Assignee" } });
    this.waiting = h("td", { class: "queue-row__waiting", dataset: { waitingOn: "", label: "Waiting on" } });
    this.createdTime = new RelativeTime("Created");
    this.updatedTime = new RelativeTime("Updated");
    this.created = h("td", { class: "queue-row__created", dataset: { created: "", label: "Created" } }, this.createdTime.element);
    this.updated = h("td", { class: "queue-row__updated", dataset: { updated: "", label: "Updated" } }, this.updatedTime.element);
    this.element = h(
      "tr",
      { class: "queue-row", dataset: { ticketRow: "", ticketId: ticket.id } },
      h("td", { class: "queue-row__select" }, this.checkbox),
      h("td", { class: "queue-row__ref" }, this.numberLink),
      h("td", { class: "queue-row__subject" }, h("div", { class: "queue-row__headline" }, this.link, this.unsure), this.excerpt, this.hint, this.note),
      this.requester,
      ...EDITABLE.map(([field]) => h("td", { class: `queue-row__${field}`, dataset: { label: label(field) } }, this.selects[field].element)),
      this.assignee,
      this.waiting,
      this.created,
      this.updated,
    );
  }

  /**
   * Show `ticket`. `words`: the search's words to highlight (the description excerpt
   * is shown only while searching); `note`/`saving`: the store's note for this ticket.
   */
  update(ticket, { note = null, saving = false, words = [], selected = false } = {}) {
    const reference = referenceOf(ticket);
    this.numberLink.textContent = reference;
    this.numberLink.setAttribute("aria-label", `Ticket ${reference}`);
    replaceChildren(this.link, highlighted(ticket.title, words));
    this.checkbox.checked = selected;
    this.checkbox.setAttribute("aria-label", `Select ${reference}: ${ticket.title}`);
    this.unsure.hidden = ticket.suggested_confidence !== "low";
    this.unsure.title = "The classifier was unsure of this ticket's category and priority: check them.";
    this.excerpt.hidden = words.length === 0;
    if (words.length) replaceChildren(this.excerpt, highlighted(excerpt(ticket.description, words), words));

    const requester = ticket.customer_name || ticket.customer_email;
    const unverified = Boolean(ticket.customer_email) && ticket.customer_email_verified === false;
    replaceChildren(
      this.requester,
      requester
        ? h("span", {
            text: requester,
            title: ticket.customer_email ? `${ticket.customer_email}${unverified ? " (email not verified)" : ""}` : null,
            dataset: unverified ? { emailUnverified: "" } : {},
          })
        : h("span", { class: "muted", text: "—" }),
    );
    const assignee = ticket.assignee_name || ticket.assignee;
    replaceChildren(this.assignee, assignee ? h("span", { text: assignee, title: ticket.assignee || null }) : h("span", { class: "muted", text: "Unassigned" }));
    this.waiting.textContent = WAITING[ticket.waiting_on] ?? "—";
    this.createdTime.update(ticket.created_at);
    this.updatedTime.update(ticket.updated_at);

    for (const [field] of EDITABLE) this.selects[field].update(ticket[field], `${label(field)} of ${reference}`);
    this.element.dataset.status = ticket.status;
    this.element.dataset.priority = ticket.priority;
    this.element.dataset.selected = String(selected);
    this.element.setAttribute("aria-busy", saving ? "true" : "false");
    renderNote(this.note, note, saving);
  }
}

/**
 * "3 hours ago", with the exact time in a tooltip on hover and on keyboard focus (CSS,
 * from data-exact) and, for screen readers, in the text. Updated in place: a focused
 * time keeps its focus when the row changes.
 */
class RelativeTime {
  constructor(what) {
    this.what = what;
    this.relative = document.createTextNode("");
    this.exact = h("span", { class: "visually-hidden" });
    this.element = h("time", { class: "rel-time", tabIndex: 0 }, this.relative, this.exact);
  }

  update(iso) {
    const exact = iso ? dateTime(iso) : "";
    this.element.dateTime = iso || "";
    this.element.dataset.exact = iso ? `${this.what} ${exact}` : "";
    this.element.tabIndex = iso ? 0 : -1;
    this.relative.data = iso ? shortAge(iso) : "—";
    this.exact.textContent = iso ? ` (${exact})` : "";
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
