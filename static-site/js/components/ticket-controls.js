// Status, category and priority of one ticket as labelled selects, changed in place.
// Talks upward with a "ticket-change" CustomEvent {id, changes}.

import { h, options } from "../dom.js";
import { CATEGORIES, PRIORITIES, STATUSES, choices } from "../format.js";

const FIELDS = [
  ["status", "Status", STATUSES],
  ["category", "Category", CATEGORIES],
  ["priority", "Priority", PRIORITIES],
];

export class TicketControls {
  /** @param {object} ticket  @param {string} idPrefix  unique per place on the page */
  constructor(ticket, idPrefix) {
    this.id = ticket.id;
    this.selects = {};
    this.element = h("div", { class: "ticket-controls", dataset: { ticketControls: "" } });
    for (const [field, text, values] of FIELDS) {
      const controlId = `${idPrefix}-${field}`;
      const select = h(
        "select",
        {
          id: controlId,
          name: field,
          class: `select select--${field}`,
          dataset: { field },
          on: { change: () => this.#changed(field, select) },
        },
        options(choices(values), ticket[field]),
      );
      this.selects[field] = select;
      this.element.append(
        h("div", { class: "ticket-controls__field" }, h("label", { htmlFor: controlId, text }), select),
      );
    }
    this.update(ticket);
  }

  #changed(field, select) {
    this.element.dispatchEvent(
      new CustomEvent("ticket-change", { bubbles: true, detail: { id: this.id, changes: { [field]: select.value } } }),
    );
  }

  /** Show `ticket`'s values without rebuilding (keeps keyboard focus where it is). */
  update(ticket) {
    for (const [field] of FIELDS) {
      const select = this.selects[field];
      if (select.value !== ticket[field]) select.value = ticket[field];
      select.dataset.value = ticket[field];
    }
  }
}
