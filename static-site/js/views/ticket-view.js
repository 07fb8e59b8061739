// One ticket, for agents: its description, one timeline (messages, internal notes,
// history and emails, oldest first) with the reply box under it, triage (status,
// category, priority, assignee, the suggestion) and the customer's contact.

import { h, options, replaceChildren } from "../dom.js";
import { STATUSES, age, choices, dateTime, label, sourceLabel } from "../format.js";
import { hashFor } from "../router.js";
import { session } from "../session.js";
import { Conversation } from "../conversation.js";
import { clearComposerDraft, loadComposerDraft, saveComposerDraft } from "../composer-drafts.js";
import { AssigneeControl } from "../components/assignee-control.js";
import { CharCounter } from "../components/char-counter.js";
import { errorNotice } from "../components/notice.js";
import { fillRichText, richText } from "../components/rich-text.js";
import { TicketControls } from "../components/ticket-controls.js";
import { renderNote } from "../components/ticket-row.js";
import { UndoToasts } from "../components/undo-toasts.js";
import { Poller } from "../poller.js";

const MESSAGE_MAX = 10000;
/** How often the open ticket is checked for changes (a customer's answer) while visible. */
export const TICKET_POLL_MS = 30000;
// At the same instant: the change that caused it, then the message, then its email.
const KIND_ORDER = { history: 0, message: 1, email: 2 };
const EMAIL_KINDS = { confirmation: "Confirmation email", resolved: "“Resolved” email", link: "New-link email" };
const FIELD_NAMES = {
  title: "Title",
  description: "Description",
  category: "Category",
  priority: "Priority",
  status: "Status",
  assignee: "Assignee",
  customer_email: "Customer's email",
  customer_name: "Customer's name",
};

export class TicketView {
  #store;
  #conversation = new Conversation();
  #active = false;
  #controls = null;
  #assignee = null;
  #renderedId = null;
  /** The history last shown, kept while the ticket reloads (no flicker). */
  #history = [];
  #timelineSignature = "";
  /** Ids of the messages shown, to tell a newly arrived one (null until the first load). */
  #knownMessages = null;
  #poller = new Poller(() => this.#lookForChanges(), TICKET_POLL_MS);

  constructor(store) {
    this.#store = store;
    this.body = h("div", { dataset: { ticketDetail: "" } });
    this.backLink = h("a", { href: "#/tickets", text: "← All tickets", dataset: { backLink: "" } });
    this.toasts = new UndoToasts();
    this.element = h(
      "section",
      { class: "view view--ticket", dataset: { view: "ticket" } },
      h("p", { class: "back-link" }, this.backLink),
      this.body,
      this.toasts.element,
    );
    store.addEventListener("detail", () => this.#active && this.#render());
    this.#conversation.addEventListener("change", () => this.#active && this.#renderedId && this.#updateConversation());
  }

  show(route) {
    if (this.#active && this.#renderedId === route.params.id) {
      // The same ticket routed again (a session event re-routes the page, as a new tab's
      // handover does once it ends): read it again, and leave the page as it is (the
      // reply box, its mode and text, and the focus). Rebuilding would reset them.
      this.#store.loadDetail(route.params.id);
      this.#conversation.refresh();
      return;
    }
    this.#active = true;
    this.#renderedId = null;
    this.#history = [];
    // Back to the list as the agent left it (filters and search kept).
    this.backLink.href = hashFor("/tickets", this.#store.list.query);
    this.#knownMessages = null;
    this.#store.loadDetail(route.params.id);
    this.#conversation.load(route.params.id);
    this.#poller.start();
  }

  hide() {
    this.#active = false;
    this.#poller.stop();
    this.#conversation.stop();
    this.toasts.clear();
  }

  #render() {
    const { id, ticket, history, loading, error, historyError } = this.#store.detail;
    if (error) {
      const notFound = error.status === 404;
      document.title = "Ticket not found · Support desk";
      replaceChildren(
        this.body,
        h("h2", { tabIndex: -1, text: notFound ? "Ticket not found" : "Could not load the ticket" }),
        errorNotice(notFound ? "There is no such ticket (it may have been deleted)." : "The ticket could not be loaded.", notFound ? null : error, notFound ? null : () => this.#reload(id)),
      );
      this.#renderedId = null;
      return;
    }
    if (!ticket) {
      replaceChildren(this.body, h("p", { class: "loading", attrs: { role: "status" }, text: loading ? "Loading the ticket…" : "" }));
      this.#renderedId = null;
      return;
    }
    document.title = `${ticket.reference ?? ""} ${ticket.title} · Support desk`.trim();
    if (!(loading && history.length === 0)) this.#history = history;
    // Build once per ticket, then update in place so focus stays where it is.
    if (this.#renderedId !== ticket.id) this.#build(ticket);
    this.#update(ticket, historyError);
  }

  #reload(id) {
    this.#store.loadDetail(id);
    this.#conversation.load(id);
  }

  // ---- Building the page ----

  #build(ticket) {
    this.#renderedId = ticket.id;
    this.toasts.clear();
    this.#controls = new TicketControls(ticket, "detail");
    this.#assignee = new AssigneeControl(ticket, session.username, "detail");
    this.#assignee.setAgents(this.#conversation.agents.list);
    const onChange = (event) => this.#change(event.detail.id, event.detail.changes);
    this.#controls.element.addEventListener("ticket-change", onChange);
    this.#assignee.element.addEventListener("ticket-change", onChange);

    this.reference = h("span", { class: "ticket-detail__ref", dataset: { ticketReference: "" } });
    this.statusPill = h("span", { class: "status-pill", dataset: { ticketStatus: "" } });
    this.unsure = h("span", { class: "tag tag--unsure", dataset: { aiUnsure: "" }, attrs: { title: "The classifier was not sure of its suggestion: check the category and priority." }, text: "AI unsure", hidden: true });
    this.title = h("h2", { class: "ticket-title", tabIndex: -1, dataset: { ticketTitle: "" } });
    this.meta = h("p", { class: "ticket-detail__meta", dataset: { ticketMeta: "" } });
    this.description = richText("", { class: "ticket-description", dataset: { ticketDescription: "" } });
    this.suggestionTable = h("tbody");
    this.note = h("p", { hidden: true, dataset: { ticketNote: "" } });
    this.timeline = h("ol", { class: "timeline", dataset: { timeline: "" }, attrs: { "aria-labelledby": "detail-conversation-heading" } });
    this.timelineStatus = h("div", { dataset: { timelineStatus: "" } });
    // Not a live region: the store's announcer says it once.
    this.newMessageNote = h("p", { class: "notice notice--info new-message", dataset: { newMessage: "" }, hidden: true });
    this.customer = h("div", { dataset: { customer: "" } });

    replaceChildren(
      this.body,
      h(
        "article",
        { class: "ticket-detail" },
        h("p", { class: "ticket-detail__head" }, this.reference, this.statusPill, this.unsure),
        this.title,
        this.meta,
        h(
          "div",
          { class: "ticket-detail__grid" },
          h("section", { class: "card ticket-detail__description", attrs: { "aria-labelledby": "detail-description-heading" } }, h("h3", { id: "detail-description-heading", text: "Description" }), this.description),
          h(
            "section",
            { class: "card ticket-detail__conversation", attrs: { "aria-labelledby": "detail-conversation-heading" } },
            h("h3", { id: "detail-conversation-heading", text: "Conversation and history" }),
            h("p", { class: "hint timeline__order", text: "Oldest first; the reply box is at the end." }),
            this.timelineStatus,
            this.timeline,
            this.newMessageNote,
            this.#buildReplyForm(),
          ),
          h(
            "section",
            { class: "card ticket-detail__triage", attrs: { "aria-labelledby": "detail-triage-heading" } },
            h("h3", { id: "detail-triage-heading", text: "Triage" }),
            this.#controls.element,
            this.#assignee.element,
            this.note,
            h(
              "table",
              { class: "suggestion-table", dataset: { suggestionTable: "" } },
              h("caption", { text: "Suggested when it was created" }),
              h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Field" }), h("th", { scope: "col", text: "Now" }), h("th", { scope: "col", text: "Suggested" }))),
              this.suggestionTable,
            ),
          ),
          h("section", { class: "card ticket-detail__customer", attrs: { "aria-labelledby": "detail-customer-heading" } }, h("h3", { id: "detail-customer-heading", text: "Customer" }), this.customer),
        ),
      ),
    );
    this.title.focus();
    this.#restoreDraft(ticket.id);
    this.#customerEmail = undefined;
    this.#customerContact = "";
    this.#timelineSignature = "";
  }

  #buildReplyForm() {
    this.replyMode = {
      reply: h("input", { type: "radio", name: "reply-mode", id: "reply-mode-reply", value: "reply", checked: true, dataset: { replyMode: "reply" } }),
      note: h("input", { type: "radio", name: "reply-mode", id: "reply-mode-note", value: "note", dataset: { replyMode: "note" } }),
    };
    for (const radio of Object.values(this.replyMode)) {
      radio.addEventListener("change", () => {
        this.#renderReplyMode();
        this.#keepDraft();
      });
    }
    this.replyInput = h("textarea", { id: "reply-body", name: "body", rows: 5, attrs: { "aria-describedby": "reply-hint reply-counter reply-error" } });
    this.replyCounter = new CharCounter(this.replyInput, MESSAGE_MAX, { id: "reply-counter", name: "The message", onLimit: (text) => this.#store.announce(text) });
    this.replyHint = h("p", { id: "reply-hint", class: "hint", dataset: { replyHint: "" } });
    this.replyError = h("p", { id: "reply-error", class: "field-error", dataset: { fieldError: "body" }, hidden: true });
    this.replyStatus = h("select", { id: "reply-status", name: "status", dataset: { replyStatus: "" } });
    this.replyButton = h("button", { type: "submit", class: "button button--primary", dataset: { replySend: "" } });
    this.replyInput.addEventListener("input", () => {
      if (this.replyMode.note.checked && this.replyInput.value.trim()) this.#writtenAsNote = true;
      this.#clearReplyError();
      this.#keepDraft();
      this.#renderNoteWarning();
    });
    // Text written as an internal note, then switched to "Reply", is one click from
    // the customer: say so while it is there.
    this.noteWarning = h("p", { class: "field-error note-warning", dataset: { noteWarning: "" }, attrs: { role: "alert" }, hidden: true, text: "This text was written as an internal note: the customer will see it if you send it as a reply." });
    this.draftNote = h("p", { class: "hint draft-note", dataset: { draftRestored: "" }, attrs: { role: "status" }, hidden: true });
    this.replyForm = h(
      "form",
      { class: "reply-box", noValidate: true, dataset: { replyForm: "", mode: "reply" }, attrs: { "aria-labelledby": "reply-heading" }, on: { submit: (event) => this.#sendReply(event) } },
      h("h4", { id: "reply-heading", class: "reply-box__heading", text: "Add to the conversation" }),
      h(
        "fieldset",
        { class: "reply-box__mode" },
        h("legend", { text: "Send as" }),
        h("label", { class: "choice choice--reply", htmlFor: "reply-mode-reply" }, this.replyMode.reply, h("span", { text: "Reply" }), h("span", { class: "choice__hint", text: " (the customer sees it)" })),
        h("label", { class: "choice choice--note", htmlFor: "reply-mode-note" }, this.replyMode.note, h("span", { attrs: { "aria-hidden": "true" }, text: "⚑ " }), h("span", { text: "Internal note" }), h("span", { class: "choice__hint", text: " (agents only)" })),
      ),
      h("div", { class: "field" }, h("label", { htmlFor: "reply-body", dataset: { replyLabel: "" }, text: "Message" }), this.replyInput, this.noteWarning, this.draftNote, this.replyHint, this.replyCounter.element, this.replyError),
      h("div", { class: "reply-box__actions" }, h("div", { class: "field reply-box__status" }, h("label", { htmlFor: "reply-status", text: "Then set status" }), this.replyStatus), this.replyButton),
    );
    return this.replyForm;
  }

  // ---- Live updates: a customer's answer, another agent's change ----

  /**
   * One cheap read of the ticket; only when it changed (a message, a status) are the
   * ticket, its history and the conversation read again. Everything is updated in
   * place: the reply box keeps its text, its mode and the focus.
   */
  async #lookForChanges() {
    const id = this.#renderedId;
    const shown = this.#store.detail.ticket;
    if (!id || !shown || this.#conversation.state.sending) return;
    const fresh = await this.#store.peekDetail(id);
    if (!fresh || this.#renderedId !== id) return;
    const changed = ["version", "message_count", "last_message_at"].some((field) => fresh[field] !== shown[field]);
    if (!changed) return;
    this.#store.loadDetail(id);
    await this.#conversation.refresh();
  }

  /** After a load: say when a message arrived that this page did not send. */
  #noticeNewMessages(messages) {
    const ids = messages.map((message) => message.id);
    if (this.#knownMessages === null) {
      if (!this.#conversation.state.loading && this.#conversation.state.id === this.#renderedId) this.#knownMessages = new Set(ids);
      return;
    }
    const arrived = messages.filter((message) => !this.#knownMessages.has(message.id) && message.author === "customer");
    for (const id of ids) this.#knownMessages.add(id);
    if (arrived.length === 0) return;
    const newest = arrived.at(-1);
    const text = arrived.length === 1 ? "New message from the customer" : `${arrived.length} new messages from the customer`;
    replaceChildren(
      this.newMessageNote,
      h("span", { attrs: { "aria-hidden": "true" }, text: "✉ " }),
      `${text} — `,
      h("button", { type: "button", class: "button button--small", dataset: { showNewMessage: "" }, text: "Show", on: { click: () => this.#showMessage(newest.id) } }),
    );
    this.newMessageNote.hidden = false;
    this.#store.announce(`${text}.`);
  }

  #showMessage(id) {
    this.newMessageNote.hidden = true;
    const item = this.timeline.querySelector(`[data-message-id="${CSS.escape(id)}"]`);
    if (!item) return;
    item.tabIndex = -1;
    item.scrollIntoView({ block: "center" });
    item.focus({ preventScroll: true });
  }

  // ---- Triage changes, and Undo (as in the list) ----

  async #change(id, changes) {
    const result = await this.#store.changeTicket(id, changes);
    if (!result.ok || this.#renderedId !== id) return;
    this.toasts.addChange(this.#store, id, changes, result, "open");
  }

  // ---- The unsent text (composer-drafts.js) ----

  #restoreDraft(id) {
    const draft = loadComposerDraft(id);
    this.draftNote.hidden = !draft;
    if (!draft) return;
    this.replyMode[draft.mode].checked = true;
    this.replyInput.value = draft.body;
    this.#writtenAsNote = draft.mode === "note";
    this.replyCounter.update();
    this.draftNote.textContent = `Draft restored (${draft.mode === "note" ? "internal note" : "reply"}, last edited ${dateTime(draft.savedAt.toISOString())}).`;
  }

  #keepDraft() {
    if (!this.#renderedId) return;
    saveComposerDraft(this.#renderedId, this.replyMode.note.checked ? "note" : "reply", this.replyInput.value);
    if (!this.replyInput.value.trim()) this.draftNote.hidden = true;
  }

  // ---- Updating it ----

  #update(ticket, historyError) {
    this.reference.textContent = ticket.reference ?? "";
    this.statusPill.className = `status-pill status-pill--${ticket.status}`;
    this.statusPill.textContent = label(ticket.status);
    this.unsure.hidden = ticket.suggested_confidence !== "low";
    this.title.textContent = ticket.title;
    replaceChildren(
      this.meta,
      "Opened ",
      timeElement(ticket.created_at, `${dateTime(ticket.created_at)} (${age(ticket.created_at)})`),
      " · Updated ",
      timeElement(ticket.updated_at, age(ticket.updated_at)),
    );
    fillRichText(this.description, ticket.description);
    this.#controls.update(ticket);
    this.#assignee.update(ticket);
    renderNote(this.note, this.#store.noteFor(ticket.id), this.#store.isSaving(ticket.id));
    replaceChildren(
      this.suggestionTable,
      ["category", "priority"].map((field) => {
        const suggested = ticket[`suggested_${field}`];
        const differs = suggested && suggested !== ticket[field];
        return h(
          "tr",
          { dataset: { suggestionRow: field } },
          h("th", { scope: "row", text: label(field) }),
          h("td", { text: label(ticket[field]) }),
          h("td", {}, suggested ? `${label(suggested)} (${sourceLabel(ticket.classification_source)})` : "None recorded", differs ? h("span", { class: "tag", text: " differs" }) : null),
        );
      }),
    );
    this.#renderCustomer(ticket);
    this.#renderReplyStatus(ticket);
    this.#renderReplyMode();
    this.historyError = historyError;
    this.#updateConversation();
  }

  #renderReplyStatus(ticket) {
    const chosen = this.replyStatus.value;
    replaceChildren(this.replyStatus, options([["", `Leave it ${label(ticket.status)}`], ...choices(STATUSES.filter((status) => status !== ticket.status))], chosen));
    if (chosen && chosen !== ticket.status) this.replyStatus.value = chosen;
  }

  #writtenAsNote = false;

  #renderNoteWarning() {
    if (!this.replyInput.value.trim()) this.#writtenAsNote = false;
    this.noteWarning.hidden = this.replyMode.note.checked || !this.#writtenAsNote;
  }

  #renderReplyMode() {
    this.#renderNoteWarning();
    const ticket = this.#store.detail.ticket;
    const note = this.replyMode.note.checked;
    this.replyForm.dataset.mode = note ? "note" : "reply";
    this.replyButton.textContent = this.#conversation.state.sending ? "Sending…" : note ? "Add internal note" : "Send reply";
    this.replyButton.disabled = this.#conversation.state.sending;
    if (note) this.replyHint.textContent = "Only agents see internal notes; they are never emailed.";
    else if (ticket?.customer_email) this.replyHint.textContent = `Emailed to ${ticket.customer_email}, and shown on the customer's page.`;
    else this.replyHint.textContent = "This ticket has no customer email: the reply is shown on the customer's page but not emailed.";
  }

  #customerEmail = undefined;
  #customerContact = "";

  #renderCustomer(ticket) {
    const email = ticket.customer_email || null;
    // Rebuilt only when the contact changes, so the confirm step keeps its focus.
    const contact = JSON.stringify([email, ticket.customer_name || "", Boolean(ticket.customer_email_verified)]);
    if (this.#customerContact === contact) return;
    this.#customerContact = contact;
    this.#customerEmail = email;
    this.customerName = h("dd", { dataset: { customerName: "", value: ticket.customer_name || "" }, text: ticket.customer_name || "Not given" });
    const details = h(
      "dl",
      { class: "contact" },
      h("div", {}, h("dt", { text: "Name" }), this.customerName),
      h(
        "div",
        {},
        h("dt", { text: "Email" }),
        h(
          "dd",
          { dataset: { customerEmail: "" } },
          email ? h("a", { href: mailtoHref(email, ticket), text: email }) : "None",
          email && !ticket.customer_email_verified ? [" ", unverifiedBadge()] : null,
        ),
      ),
    );
    const others = email ? h("p", {}, h("a", { href: hashFor("/tickets", { search: email }), dataset: { customerTickets: "" }, text: "Other tickets from this customer" })) : null;
    if (!email) {
      replaceChildren(
        this.customer,
        details,
        h("div", { class: "notice notice--warning", dataset: { noEmail: "" } }, h("p", { class: "notice__title" }, h("span", { attrs: { "aria-hidden": "true" }, text: "⚠ " }), "No email address: this customer cannot be notified."), h("p", { text: "Replies are kept on the ticket but not emailed, and no private link can be sent." })),
      );
      return;
    }
    this.renewResult = h("p", { class: "renew-result", dataset: { renewResult: "" }, attrs: { role: "status" } });
    this.renewButton = h("button", { type: "button", class: "button button--small", dataset: { renewLink: "" }, text: "Send a new link", on: { click: () => this.#askRenew(true) } });
    this.renewConfirm = h(
      "div",
      { class: "renew-confirm", dataset: { renewConfirm: "" }, hidden: true, on: { keydown: (event) => event.key === "Escape" && this.#askRenew(false) } },
      h("p", { tabIndex: -1, dataset: { renewQuestion: "" } }, "Email ", h("strong", { text: email }), " a new private link? The link they have now stops working."),
      h(
        "div",
        { class: "form-actions" },
        h("button", { type: "button", class: "button button--primary button--small", dataset: { renewConfirmButton: "" }, text: "Send new link", on: { click: () => this.#renew() } }),
        h("button", { type: "button", class: "button button--quiet button--small", text: "Cancel", on: { click: () => this.#askRenew(false) } }),
      ),
    );
    replaceChildren(this.customer, details, others, h("p", { class: "hint", text: "Lost their private link? Send a new one; the old one stops working." }), this.renewButton, this.renewConfirm, this.renewResult);
  }

  #askRenew(open) {
    this.renewConfirm.hidden = !open;
    this.renewButton.hidden = open;
    if (open) {
      this.renewResult.textContent = "";
      this.renewConfirm.querySelector("[data-renew-question]").focus();
    } else {
      this.renewButton.focus();
    }
  }

  async #renew() {
    const email = this.#customerEmail;
    for (const button of this.renewConfirm.querySelectorAll("button")) button.disabled = true;
    try {
      await this.#conversation.renewLink();
      this.renewResult.textContent = `A new link was emailed to ${email}. The old link no longer works.`;
      this.#store.announce(this.renewResult.textContent);
      this.#store.loadDetail(this.#renderedId);
    } catch (error) {
      this.renewResult.textContent = `No new link was sent. ${error.message}`;
      this.#store.announce(this.renewResult.textContent);
    } finally {
      for (const button of this.renewConfirm.querySelectorAll("button")) button.disabled = false;
      this.renewConfirm.hidden = true;
      this.renewButton.hidden = false;
      this.renewButton.focus();
    }
  }

  // ---- The timeline ----

  #updateConversation() {
    const ticket = this.#store.detail.ticket;
    const state = this.#conversation.state;
    this.#assignee?.setAgents(this.#conversation.agents.list);
    const problems = [];
    if (state.error) problems.push(errorNotice("Could not load the messages.", state.error, () => this.#conversation.refresh()));
    if (state.emailsError) problems.push(errorNotice("Could not load the emails.", state.emailsError, () => this.#conversation.refresh()));
    if (this.historyError) problems.push(errorNotice("Could not load the history.", this.historyError));
    const loading = state.loading && state.messages.length === 0 ? h("p", { class: "muted", attrs: { role: "status" }, text: "Loading the conversation…" }) : null;
    replaceChildren(this.timelineStatus, problems, loading);
    const entries = [
      ...this.#history.map((entry) => ({ kind: "history", at: entry.at, item: entry })),
      ...state.messages.map((message) => ({ kind: "message", at: message.created_at, item: message })),
      // A reply's email is shown on the reply itself.
      ...state.emails.filter((email) => email.kind !== "reply").map((email) => ({ kind: "email", at: email.at, item: email })),
    ];
    entries.sort((a, b) => a.at.localeCompare(b.at) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
    // Polling reads the same entries again and again: rebuild only when something
    // changed, and then put the keyboard focus back where it was in the timeline.
    const signature = JSON.stringify([entries, ticket?.customer_name, ticket?.customer_email]);
    if (signature !== this.#timelineSignature) {
      this.#timelineSignature = signature;
      const focus = timelineFocus(this.timeline);
      replaceChildren(
        this.timeline,
        entries.map((entry) => {
          const item = entry.kind === "message" ? messageItem(entry.item, ticket) : entry.kind === "email" ? emailItem(entry.item) : historyItem(entry.item);
          item.dataset.timelineKey = timelineKey(entry);
          return item;
        }),
      );
      restoreTimelineFocus(this.timeline, focus);
    }
    this.#noticeNewMessages(state.messages);
    this.#renderReplyMode();
  }

  // ---- Sending ----

  #clearReplyError() {
    this.replyError.hidden = true;
    this.replyError.textContent = "";
    this.replyInput.removeAttribute("aria-invalid");
  }

  #showReplyError(text) {
    this.replyError.textContent = text;
    this.replyError.hidden = false;
    this.replyInput.setAttribute("aria-invalid", "true");
    this.replyInput.focus();
    this.#store.announce(text);
  }

  async #sendReply(event) {
    event.preventDefault();
    if (this.#conversation.state.sending) return;
    this.#clearReplyError();
    const body = this.replyInput.value;
    const internal = this.replyMode.note.checked;
    const status = this.replyStatus.value;
    if (!body.trim()) {
      this.#showReplyError("Write a message first.");
      return;
    }
    if (this.replyCounter.over) {
      this.#showReplyError(`The message is too long: at most ${MESSAGE_MAX.toLocaleString("en")} characters.`);
      return;
    }
    const id = this.#renderedId;
    try {
      await this.#conversation.send({ body, internal, status });
    } catch (error) {
      const fieldMessage = error.fields?.body;
      this.#showReplyError(fieldMessage ? `The message ${fieldMessage}.` : `Not sent: ${error.message} Your text is still here.`);
      return;
    }
    clearComposerDraft(id);
    if (this.#renderedId !== id) return;
    this.replyInput.value = "";
    this.draftNote.hidden = true;
    this.replyCounter.update();
    this.replyStatus.value = "";
    // The mode stays as the agent chose it: a second note is often next.
    this.#renderReplyMode();
    this.replyInput.focus();
    const what = internal ? "Internal note added." : "Reply sent.";
    this.#store.announce(status ? `${what} Status set to ${label(status)}.` : what);
    // The ticket changed (last message, maybe its status): read it and its history again.
    this.#store.loadDetail(id);
  }
}

/** What identifies a timeline entry across rebuilds. */
function timelineKey(entry) {
  const { item } = entry;
  if (entry.kind === "message") return `message:${item.id}`;
  if (entry.kind === "history") return `history:${item.version}`;
  return `email:${item.kind}:${item.at}`;
}

const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

/** Where the focus is in the timeline: its entry's key and, inside it, which control. */
function timelineFocus(timeline) {
  const focused = document.activeElement;
  if (!focused || !timeline.contains(focused)) return null;
  const item = focused.closest("[data-timeline-key]");
  if (!item) return null;
  return { key: item.dataset.timelineKey, control: focused === item ? -1 : [...item.querySelectorAll(FOCUSABLE)].indexOf(focused) };
}

/** Focus the same entry (and control) of the rebuilt timeline, without scrolling. */
function restoreTimelineFocus(timeline, focus) {
  if (!focus) return;
  const item = timeline.querySelector(`[data-timeline-key="${CSS.escape(focus.key)}"]`);
  if (!item) return;
  const target = focus.control >= 0 ? item.querySelectorAll(FOCUSABLE)[focus.control] : null;
  if (target) {
    target.focus({ preventScroll: true });
  } else {
    item.tabIndex = -1;
    item.focus({ preventScroll: true });
  }
}

/**
 * `mailto:` for the customer's address, every part percent-encoded (an address may
 * hold `+`, `&`, `?` or `%`, which would otherwise end the address or start headers),
 * with the ticket in the subject.
 */
function mailtoHref(email, ticket) {
  const at = email.lastIndexOf("@");
  const address = at > 0 ? `${encodeURIComponent(email.slice(0, at))}@${encodeURIComponent(email.slice(at + 1))}` : encodeURIComponent(email);
  const subject = `${ticket.reference ? `${ticket.reference} ` : ""}${ticket.title}`;
  return `mailto:${address}?subject=${encodeURIComponent(subject)}`;
}

/** "Email not verified": the customer has not yet opened a link sent to that address. */
export function unverifiedBadge() {
  return h(
    "span",
    {
      class: "tag tag--unverified",
      dataset: { emailUnverified: "" },
      attrs: { title: "Nobody has opened a link sent to this address yet: it may not be the customer's." },
    },
    h("span", { attrs: { "aria-hidden": "true" }, text: "? " }),
    "Email not verified",
  );
}

function timeElement(iso, text) {
  return h("time", { dateTime: iso, title: dateTime(iso), text });
}

function who(entry) {
  return entry.actor === "customer" ? "The customer" : entry.actor_name || entry.actor;
}

/** What an email did, in words: "Emailed", "Not delivered: …", "Not emailed: …". */
export function deliveryText(status, note) {
  const reason = (note || "").replace(/^(Not delivered|Not sent|Not emailed):\s*/i, "");
  if (status === "sent") return "Emailed";
  if (status === "pending") return "Sending email…";
  if (status === "not_delivered") return `Not delivered: ${reason || "the email was refused"}`;
  if (/no customer email/i.test(reason)) return "Not emailed: no customer email";
  return reason ? `Not emailed: ${reason}` : "Not emailed";
}

function messageItem(message, ticket) {
  const fromCustomer = message.author === "customer";
  const kind = message.internal ? "note" : fromCustomer ? "customer" : "reply";
  const heading = { note: "Internal note", customer: "Customer message", reply: "Reply" }[kind];
  const author = fromCustomer ? ticket?.customer_name || ticket?.customer_email || "The customer" : message.author_name || message.author;
  const delivery = kind === "reply" ? deliveryText(message.delivery, message.delivery_note) : null;
  return h(
    "li",
    { class: `timeline__item timeline__item--${kind}`, dataset: { timelineItem: "message", messageKind: kind, messageId: message.id } },
    h(
      "p",
      { class: "timeline__head" },
      h("span", { class: `timeline__kind timeline__kind--${kind}` }, kind === "note" ? h("span", { attrs: { "aria-hidden": "true" }, text: "⚑ " }) : null, heading),
      " by ",
      h("strong", { text: author }),
      " · ",
      timeElement(message.created_at, `${dateTime(message.created_at)} (${age(message.created_at)})`),
    ),
    richText(message.body, { class: "timeline__body", dataset: { messageBody: "" } }),
    kind === "note"
      ? h("p", { class: "timeline__delivery timeline__delivery--none", text: "Agents only: not shown to the customer, never emailed." })
      : delivery
        ? h("p", { class: `timeline__delivery timeline__delivery--${message.delivery}`, dataset: { delivery: message.delivery } }, h("span", { attrs: { "aria-hidden": "true" }, text: deliveryIcon(message.delivery) }), delivery)
        : null,
  );
}

function deliveryIcon(status) {
  return { sent: "✓ ", pending: "… ", not_delivered: "⚠ ", suppressed: "⚠ " }[status] ?? "– ";
}

function emailItem(email) {
  const what = EMAIL_KINDS[email.kind] ?? "Email";
  return h(
    "li",
    { class: "timeline__item timeline__item--email", dataset: { timelineItem: "email", emailKind: email.kind, delivery: email.status } },
    h("p", { class: "timeline__head" }, h("span", { attrs: { "aria-hidden": "true" }, text: "✉ " }), h("strong", { text: what }), ` to ${email.to} · `, timeElement(email.at, `${dateTime(email.at)} (${age(email.at)})`)),
    h("p", { class: `timeline__delivery timeline__delivery--${email.status}` }, h("span", { attrs: { "aria-hidden": "true" }, text: deliveryIcon(email.status) }), email.status === "suppressed" ? deliveryText("suppressed", email.note).replace(/^Not emailed/, "Not sent") : deliveryText(email.status, email.note)),
  );
}

function historyItem(entry) {
  const actor = who(entry);
  const sentence = {
    created: "created the ticket",
    updated: "changed the ticket",
    reopened: "reopened the ticket",
    link_renewed: "sent the customer a new private link (the old one stopped working)",
    deleted: "deleted the ticket",
  }[entry.action] ?? entry.action;
  const changes = entry.action === "created" ? [] : entry.changes;
  return h(
    "li",
    { class: "timeline__item timeline__item--event", dataset: { timelineItem: "history", historyVersion: String(entry.version), historyAction: entry.action } },
    h("p", { class: "timeline__head" }, h("strong", { class: "history__actor", text: actor }), ` ${sentence} · `, timeElement(entry.at, `${dateTime(entry.at)} (${age(entry.at)})`)),
    changes.length ? h("ul", { class: "history__changes" }, changes.map(changeItem)) : null,
  );
}

function changeItem(change) {
  const name = FIELD_NAMES[change.field] ?? change.field;
  if (change.field === "assignee") {
    if (!change.old) return h("li", {}, "Assigned to ", h("ins", { text: change.new }));
    if (!change.new) return h("li", {}, "Unassigned (was ", h("del", { text: change.old }), ")");
  }
  if (change.field === "description") return h("li", { text: "Description edited" });
  return h("li", {}, `${name}: `, h("del", { text: shown(change.field, change.old) }), " → ", h("ins", { text: shown(change.field, change.new) }));
}

function shown(field, value) {
  if (value === null || value === undefined || value === "") return "none";
  return ["category", "priority", "status"].includes(field) ? label(value) : String(value);
}
