// Who works on a ticket: a labelled select (an agent, or Unassigned) and "Assign to me".
// Talks upward with the same "ticket-change" CustomEvent as ticket-controls, so the
// change goes through store.changeTicket (optimistic, PATCH with If-Match).

import { h, replaceChildren } from "../dom.js";

export class AssigneeControl {
  #agents = [];
  #ticket;
  #optionsSignature = "";

  /**
   * @param {object} ticket
   * @param {string} me  the signed-in agent's email (session.username)
   * @param {string} idPrefix  unique per place on the page
   */
  constructor(ticket, me, idPrefix) {
    this.id = ticket.id;
    this.me = me;
    this.#ticket = ticket;
    const selectId = `${idPrefix}-assignee`;
    this.select = h("select", { id: selectId, name: "assignee", class: "select select--assignee", dataset: { field: "assignee" }, on: { change: () => this.#change(this.select.value || null) } });
    this.assignMe = h("button", { type: "button", class: "button button--small", dataset: { assignMe: "" }, text: "Assign to me", on: { click: () => this.#assignToMe() } });
    this.element = h(
      "div",
      { class: "assignee-control", dataset: { assigneeControl: "" } },
      h("label", { htmlFor: selectId, text: "Assignee" }),
      h("div", { class: "assignee-control__row" }, this.select, this.assignMe),
    );
    this.update(ticket);
  }

  /** The agents to choose from (GET /api/agents/). */
  setAgents(agents) {
    this.#agents = agents;
    this.update(this.#ticket);
  }

  update(ticket) {
    this.#ticket = ticket;
    const current = ticket.assignee || "";
    const choices = new Map(this.#agents.map((agent) => [agent.email, agentLabel(agent)]));
    // The assignee and the signed-in agent are always choices, even before the list loads.
    if (this.me && !choices.has(this.me)) choices.set(this.me, this.me);
    if (current && !choices.has(current)) choices.set(current, ticket.assignee_name && ticket.assignee_name !== current ? `${ticket.assignee_name} (${current})` : current);
    const pairs = [["", "Unassigned"], ...[...choices].sort((a, b) => a[1].localeCompare(b[1]))];
    const signature = JSON.stringify(pairs);
    // Rebuild the options only when they change, so focus and the open list stay put.
    if (this.#optionsSignature !== signature) {
      replaceChildren(this.select, pairs.map(([value, text]) => h("option", { value, text })));
      this.#optionsSignature = signature;
    }
    if (this.select.value !== current) this.select.value = current;
    this.select.dataset.value = current;
    this.assignMe.hidden = !this.me || current === this.me;
  }

  #assignToMe() {
    this.#change(this.me);
    // The button hides once the ticket is mine: keep the keyboard on the select.
    this.select.focus();
  }

  #change(assignee) {
    this.element.dispatchEvent(new CustomEvent("ticket-change", { bubbles: true, detail: { id: this.id, changes: { assignee } } }));
  }
}

function agentLabel(agent) {
  return agent.display_name && agent.display_name !== agent.email ? `${agent.display_name} (${agent.email})` : agent.email;
}
