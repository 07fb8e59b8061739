// The customer's private page, #/my-ticket/<id>?key=<secret>: their ticket, the
// conversation (agents' public replies and their own messages, never internal
// notes), and a box to answer. No sign-in and nothing of the agents' console.

import { h, replaceChildren } from "../dom.js";
import { dateTime, age } from "../format.js";
import { CustomerTicket } from "../customer-ticket.js";
import { CharCounter } from "../components/char-counter.js";
import { errorNotice } from "../components/notice.js";
import { customerErrorText, fieldSentence } from "../customer-messages.js";
import { fillRichText, richText } from "../components/rich-text.js";

const MESSAGE_MAX = 10000;
const STATUS_WORDS = {
  open: ["Open", "We have your ticket and will answer here and by email."],
  in_progress: ["In progress", "We are working on it."],
  resolved: ["Resolved", "We think this is solved. If it is not, answer below: that opens it again."],
  closed: ["Closed", "This ticket is closed. If you answer below, it opens again."],
};

export class MyTicketView {
  #model = new CustomerTicket();
  #store;
  #active = false;
  #renderedId = null;
  #focusHeading = false;
  #route = null;

  constructor(store) {
    this.#store = store;
    this.element = h("section", { class: "view view--my-ticket", dataset: { view: "my-ticket" } });
    this.#model.addEventListener("change", () => this.#active && this.#render());
    this.#model.addEventListener("announce", (event) => this.#store.announce(event.detail.text));
  }

  show(route) {
    // Shown again for the same link while it is on screen (main.js routes again when the
    // sign-in state changes, e.g. 300 ms after load or a sign-out in another tab): keep
    // the page as it is, with what the customer is typing.
    const same = this.#active && this.#route?.params.id === route.params.id && this.#route?.query.key === route.query.key;
    this.#route = route;
    if (same) return;
    this.#active = true;
    this.#focusHeading = true;
    this.#renderedId = null;
    document.title = "Your ticket · Support desk";
    this.#model.load(route.params.id, route.query.key);
  }

  hide() {
    this.#active = false;
    this.#model.clear();
    this.#renderedId = null;
  }

  #render() {
    const { ticket, loading, error, invalidLink } = this.#model.state;
    if (invalidLink) {
      // The same page for a mistyped address, a missing, wrong or replaced key and an
      // unknown ticket: it says nothing about whether the ticket exists.
      this.#renderedId = null;
      document.title = "Link not valid · Support desk";
      replaceChildren(
        this.element,
        h(
          "div",
          { class: "notice notice--error invalid-link", dataset: { invalidLink: "" } },
          h("h2", { tabIndex: -1, text: "This link is not valid" }),
          h("p", { text: "It may be mistyped or cut short, or it may have been replaced by a newer one." }),
          h("p", { dataset: { newLinkHelp: "" }, text: "The link in the most recent email about your ticket works: open it to read and answer your ticket. If you cannot find that email, submit a new ticket and mention your ticket number; an agent can email you a new link." }),
          h("p", {}, h("a", { href: "#/new", class: "button button--primary", dataset: { submitNew: "" }, text: "Submit a new ticket" })),
        ),
      );
      this.#maybeFocus();
      return;
    }
    if (error) {
      this.#renderedId = null;
      replaceChildren(
        this.element,
        h("h2", { tabIndex: -1, text: "Your ticket" }),
        errorNotice("Could not load your ticket.", customerErrorText(error), () => this.#model.load(this.#route.params.id, this.#route.query.key)),
      );
      this.#maybeFocus();
      return;
    }
    if (!ticket) {
      this.#renderedId = null;
      replaceChildren(this.element, h("p", { class: "loading", attrs: { role: "status" }, text: loading ? "Loading your ticket…" : "" }));
      return;
    }
    document.title = `${ticket.reference} ${ticket.title} · Support desk`;
    if (this.#renderedId !== ticket.id) this.#build(ticket);
    this.#update(ticket);
    this.#maybeFocus();
  }

  #maybeFocus() {
    if (!this.#focusHeading) return;
    this.#focusHeading = false;
    this.element.querySelector("h2[tabindex]")?.focus();
  }

  #build(ticket) {
    this.#renderedId = ticket.id;
    this.reference = h("p", { class: "my-ticket__reference", dataset: { myTicketReference: "" } });
    this.title = h("h2", { class: "ticket-title", tabIndex: -1, dataset: { myTicketTitle: "" } });
    this.status = h("span", { class: "status-pill", dataset: { myTicketStatus: "" } });
    this.statusText = h("span", { class: "my-ticket__status-text" });
    this.created = h("p", { class: "muted my-ticket__created" });
    this.description = richText("", { class: "ticket-description", dataset: { myTicketDescription: "" } });
    this.thread = h("ol", { class: "thread", dataset: { thread: "" }, attrs: { "aria-labelledby": "my-thread-heading" } });
    this.threadEmpty = h("p", { class: "muted", dataset: { threadEmpty: "" }, text: "No answers yet. We will answer here, and send you an email when we do." });

    this.replyInput = h("textarea", { id: "my-reply", name: "body", rows: 5, attrs: { "aria-describedby": "my-reply-reopen my-reply-counter my-reply-error" } });
    this.replyCounter = new CharCounter(this.replyInput, MESSAGE_MAX, { id: "my-reply-counter", name: "Your message", onLimit: (text) => this.#store.announce(text) });
    this.replyError = h("div", { id: "my-reply-error", class: "reply-error", dataset: { fieldError: "body" }, hidden: true });
    this.reopenNote = h("p", { id: "my-reply-reopen", class: "hint", dataset: { reopenNote: "" } });
    this.sendButton = h("button", { type: "submit", class: "button button--primary", dataset: { send: "" }, text: "Send" });
    // Seen, not announced: the live region says the same when it is sent.
    this.sentNote = h("p", { class: "sent-note", dataset: { sentNote: "" }, hidden: true });
    this.replyInput.addEventListener("input", () => {
      if (!this.#model.state.linkReplaced) this.#clearReplyError();
      this.sentNote.hidden = true;
    });
    const form = h(
      "form",
      { class: "card reply-form", noValidate: true, dataset: { customerReply: "" }, attrs: { "aria-labelledby": "my-reply-heading" }, on: { submit: (event) => this.#send(event) } },
      // Not "Answer us": nobody may have answered yet.
      h("h3", { id: "my-reply-heading", text: "Add to your ticket" }),
      h("div", { class: "field" }, h("label", { htmlFor: "my-reply", text: "Your message" }), this.replyInput, this.reopenNote, this.replyCounter.element, this.replyError),
      h("div", { class: "form-actions" }, this.sendButton, this.sentNote),
    );

    replaceChildren(
      this.element,
      h(
        "article",
        { class: "my-ticket" },
        this.reference,
        this.title,
        // The full stop is for screen readers ("Status: Open. We have your ticket…"); the pill
        // already separates the two on screen.
        h("p", { class: "my-ticket__status", dataset: { myTicketStatusLine: "" } }, "Status: ", this.status, h("span", { class: "visually-hidden", text: ". " }), this.statusText),
        h("section", { class: "card my-ticket__request", attrs: { "aria-labelledby": "my-request-heading" } }, h("h3", { id: "my-request-heading", text: "What you wrote" }), this.created, this.description),
        h("section", { class: "my-ticket__conversation", attrs: { "aria-labelledby": "my-thread-heading" } }, h("h3", { id: "my-thread-heading", text: "Conversation" }), this.threadEmpty, this.thread),
        form,
      ),
    );
  }

  #update(ticket) {
    this.reference.textContent = `Ticket ${ticket.reference}`;
    this.title.textContent = ticket.title;
    const [word, sentence] = STATUS_WORDS[ticket.status] ?? [ticket.status, ""];
    this.status.textContent = word;
    this.status.className = `status-pill status-pill--${ticket.status}`;
    this.status.dataset.myTicketStatus = ticket.status;
    this.statusText.textContent = sentence;
    replaceChildren(this.created, "Sent ", timeElement(ticket.created_at));
    fillRichText(this.description, ticket.description);
    const messages = Array.isArray(ticket.messages) ? ticket.messages : [];
    this.threadEmpty.hidden = messages.length > 0;
    replaceChildren(this.thread, messages.map(messageItem));
    const solved = ticket.status === "resolved" || ticket.status === "closed";
    this.reopenNote.textContent = solved ? `This ticket is ${ticket.status === "resolved" ? "resolved" : "closed"}: sending an answer opens it again.` : "We answer here and by email.";
    this.reopenNote.dataset.reopenNote = solved ? "reopens" : "";
    const { sending, linkReplaced } = this.#model.state;
    // A replaced link can never send: the button stays off, the error says why.
    this.sendButton.disabled = sending || linkReplaced;
    this.sendButton.textContent = sending ? "Sending…" : "Send";
  }

  #clearReplyError() {
    this.replyError.hidden = true;
    this.replyError.textContent = "";
    this.replyInput.removeAttribute("aria-invalid");
  }

  #showReplyError(text, ...extra) {
    replaceChildren(this.replyError, h("p", { class: "field-error", text }), ...extra);
    this.replyError.hidden = false;
    this.replyInput.setAttribute("aria-invalid", "true");
    this.replyInput.focus();
    this.#store.announce(text);
  }

  async #send(event) {
    event.preventDefault();
    if (this.#model.state.sending) return;
    this.#clearReplyError();
    const body = this.replyInput.value;
    this.sentNote.hidden = true;
    if (!body.trim()) {
      this.#showReplyError("Please write your message first.");
      return;
    }
    if (this.replyCounter.over) {
      this.#showReplyError(`Your message is too long: at most ${MESSAGE_MAX.toLocaleString("en")} characters.`);
      return;
    }
    try {
      const result = await this.#model.send(body);
      if (result.sent && this.#renderedId) {
        this.replyInput.value = "";
        this.replyCounter.update();
        this.replyInput.focus();
        this.sentNote.textContent = result.reopened ? "Sent. Your ticket is open again." : "Sent.";
        this.sentNote.hidden = false;
      } else if (this.#model.state.linkReplaced) {
        this.#showLinkReplaced();
      }
    } catch (error) {
      const fieldMessage = error.fields?.body;
      this.#showReplyError(fieldMessage ? fieldSentence("Your message", fieldMessage) : `Not sent. ${customerErrorText(error, { textKept: true })}`);
    }
  }

  /** The link was replaced while the page was open: keep the text, say why, offer a copy. */
  #showLinkReplaced() {
    const copyStatus = h("p", { class: "copy-status", dataset: { copyStatus: "" } });
    this.#showReplyError(
      "Not sent: this link has been replaced by a newer one, which we emailed to you. Your text is still in the box: copy it, open the link in our most recent email, and send it from there.",
      h("button", { type: "button", class: "button", dataset: { copyText: "" }, text: "Copy your text", on: { click: (event) => this.#copyText(event.currentTarget, copyStatus) } }),
      copyStatus,
    );
  }

  async #copyText(button, status) {
    try {
      await navigator.clipboard.writeText(this.replyInput.value);
      status.textContent = "Your text is copied.";
      button.focus();
    } catch {
      // No clipboard access: select the text for Ctrl+C instead.
      this.replyInput.focus();
      this.replyInput.select();
      status.textContent = "Your text is selected: press Ctrl+C (⌘C on a Mac) to copy it.";
    }
    this.#store.announce(status.textContent);
  }
}

function timeElement(iso) {
  return h("time", { dateTime: iso, title: dateTime(iso), text: `${dateTime(iso)} (${age(iso)})` });
}

function messageItem(message) {
  const mine = message.author === "customer";
  return h(
    "li",
    { class: `thread__message thread__message--${mine ? "mine" : "support"}`, dataset: { message: message.id, messageAuthor: mine ? "customer" : "support" } },
    h("p", { class: "thread__head" }, h("strong", { class: "thread__author", dataset: { messageAuthorName: "" }, text: mine ? "You" : message.author_name || "Support" }), " · ", timeElement(message.created_at)),
    richText(message.body, { class: "thread__body", dataset: { messageBody: "" } }),
  );
}
