// The open ticket's conversation, for the agents' ticket page: every message (all
// pages), the emails sent or not sent about it, and the agents who can be assigned.
// The ticket itself and its history stay in DeskStore (store.loadDetail); this store
// only adds what the conversation needs, so the list and dashboard are untouched.
//
// While an email is still pending (the stream mails it about a second after the
// write), and for a few seconds after the agent sends something (a "resolved" or
// new-link email has no record until the mailer takes it), the messages and emails
// are read again every POLL_MS, a bounded number of times, so "Sending email…" turns
// into "Emailed" or "Not delivered", and new emails appear, by themselves.
//
// Events (CustomEvent): "change".

import * as api from "./api.js";
import { session } from "./session.js";

const POLL_MS = 1500;
const MAX_POLLS = 20;
const WATCH_AFTER_SENDING_MS = 6000;

function empty() {
  return { id: null, messages: [], emails: [], loading: false, error: null, emailsError: null, sending: false, renewing: false };
}

export class Conversation extends EventTarget {
  state = empty();
  agents = { list: [], loaded: false, error: null };
  #abort = null;
  #pollTimer = null;
  #polls = 0;
  #watchUntil = 0;

  constructor() {
    super();
    // Nothing of a ticket stays in memory once the agent is signed out.
    session.addEventListener("change", (event) => {
      if (event.detail.reason !== "refreshed" && event.detail.reason !== "signed-in") this.stop(true);
    });
  }

  /** Load the conversation of ticket `id` (and the agents, once). */
  async load(id) {
    const same = this.state.id === id;
    this.stop(!same);
    this.state = { ...this.state, id, loading: true, error: null };
    this.#emit();
    if (!this.agents.loaded) this.#loadAgents();
    await this.refresh();
  }

  /** Read the messages and emails again. */
  async refresh() {
    const id = this.state.id;
    if (!id) return;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    clearTimeout(this.#pollTimer);
    const [messages, emails] = await Promise.allSettled([
      api.getAllMessages(id, { signal: abort.signal }),
      api.getEmails(id, { signal: abort.signal }),
    ]);
    if (abort.signal.aborted || this.state.id !== id) return;
    this.state = {
      ...this.state,
      loading: false,
      messages: messages.status === "fulfilled" ? messages.value : this.state.messages,
      error: messages.status === "rejected" ? messages.reason : null,
      emails: emails.status === "fulfilled" ? emails.value : this.state.emails,
      emailsError: emails.status === "rejected" ? emails.reason : null,
    };
    this.#emit();
    this.#pollWhilePending();
  }

  /**
   * Post a reply (emailed) or an internal note, optionally setting the status.
   * Resolves to the new message; rejects with ApiError (the text stays with the caller).
   */
  async send({ body, internal, status }) {
    const id = this.state.id;
    this.state = { ...this.state, sending: true };
    this.#emit();
    try {
      const { message } = await api.postMessage(id, { body, internal, status: status || undefined });
      this.#polls = 0;
      this.#watchUntil = Date.now() + WATCH_AFTER_SENDING_MS;
      return message;
    } finally {
      this.state = { ...this.state, sending: false };
      this.#emit();
      if (this.state.id === id) this.refresh();
    }
  }

  /** Email the customer a new private link (the old one stops working). */
  async renewLink() {
    const id = this.state.id;
    this.state = { ...this.state, renewing: true };
    this.#emit();
    try {
      return await api.renewLink(id);
    } finally {
      this.state = { ...this.state, renewing: false };
      this.#polls = 0;
      this.#watchUntil = Date.now() + WATCH_AFTER_SENDING_MS;
      this.#emit();
      if (this.state.id === id) this.refresh();
    }
  }

  /** Stop loading and polling (and forget the ticket when `forget`). */
  stop(forget = false) {
    this.#abort?.abort();
    clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    this.#polls = 0;
    this.#watchUntil = 0;
    if (forget) {
      this.state = empty();
      if (!session.signedIn) this.agents = { list: [], loaded: false, error: null };
    }
  }

  async #loadAgents() {
    try {
      const list = await api.listAgents();
      this.agents = { list: list.filter((agent) => agent.enabled !== false), loaded: true, error: null };
    } catch (error) {
      this.agents = { list: [], loaded: false, error };
    }
    this.#emit();
  }

  #pollWhilePending() {
    const pending =
      this.state.messages.some((message) => message.delivery === "pending") ||
      this.state.emails.some((email) => email.status === "pending");
    if ((!pending && Date.now() > this.#watchUntil) || this.#polls >= MAX_POLLS) return;
    this.#polls += 1;
    this.#pollTimer = setTimeout(() => this.refresh(), POLL_MS);
  }

  #emit() {
    this.dispatchEvent(new CustomEvent("change"));
  }
}
