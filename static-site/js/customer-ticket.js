// The customer's own ticket, through its private link: no sign-in, the link's secret
// sent in the X-Ticket-Key header by api.js. Kept apart from DeskStore (the agents'
// state) so nothing of the console is ever loaded on the customer's page.
//
// Events (CustomEvent): "change" (state changed), "announce" {text}.

import * as api from "./api.js";

export class CustomerTicket extends EventTarget {
  // linkReplaced: the page was loaded, then a send was refused because the link had been
  // replaced meanwhile (an agent sent a new one): the page and the typed text stay.
  state = { id: null, ticket: null, loading: false, error: null, invalidLink: false, linkReplaced: false, sending: false };
  #key = null;
  #abort = null;

  /**
   * Load the ticket `id` with the link's `key`. A missing key, or no id (a mistyped
   * address: the router gives none), is an invalid link, found without asking the API.
   */
  async load(id, key) {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    const same = this.state.id === id && this.#key === key;
    this.#key = key || null;
    this.state = { ...this.state, id, ticket: same ? this.state.ticket : null, loading: true, error: null, invalidLink: false, linkReplaced: false };
    this.#emit("change");
    if (!id || !this.#key) {
      this.state = { ...this.state, loading: false, invalidLink: true };
      this.#emit("change");
      return;
    }
    try {
      const ticket = await api.getPublicTicket(id, this.#key, { signal: abort.signal });
      if (abort.signal.aborted) return;
      this.state = { ...this.state, ticket, loading: false };
    } catch (error) {
      if (abort.signal.aborted) return;
      // Every refusal (no such ticket, a wrong, old or other ticket's key) is one 404.
      const invalidLink = error instanceof api.ApiError && error.status === 404;
      this.state = { ...this.state, ticket: null, loading: false, error: invalidLink ? null : error, invalidLink };
    }
    this.#emit("change");
  }

  /**
   * Send the customer's message. Resolves `{sent: true, reopened}` when sent (the ticket
   * is then reloaded), or `{sent: false}` when the link was refused: the ticket was shown,
   * so the link has been replaced since (state.linkReplaced; the page and the text stay).
   * Other failures reject with the ApiError.
   */
  async send(body) {
    const { id, ticket } = this.state;
    if (!id || !this.#key || this.state.sending || this.state.linkReplaced) return { sent: false };
    const wasSolved = ticket && (ticket.status === "resolved" || ticket.status === "closed");
    this.state = { ...this.state, sending: true };
    this.#emit("change");
    try {
      await api.postPublicMessage(id, this.#key, body);
    } catch (error) {
      const replaced = error instanceof api.ApiError && error.status === 404;
      this.state = { ...this.state, sending: false, linkReplaced: replaced };
      this.#emit("change");
      if (!replaced) throw error;
      return { sent: false };
    }
    this.state = { ...this.state, sending: false };
    await this.load(id, this.#key);
    const reopened = Boolean(wasSolved && this.state.ticket && !["resolved", "closed"].includes(this.state.ticket.status));
    this.#emit("announce", { text: reopened ? "Your message was sent, and your ticket is open again." : "Your message was sent." });
    return { sent: true, reopened };
  }

  /** Forget the ticket and its key (leaving the page). */
  clear() {
    this.#abort?.abort();
    this.#key = null;
    this.state = { id: null, ticket: null, loading: false, error: null, invalidLink: false, linkReplaced: false, sending: false };
  }

  #emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
