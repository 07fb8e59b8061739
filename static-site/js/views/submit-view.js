// "Submit a ticket": the customers' form. Contact, title and description with visible
// counters, suggestions while they type, a draft kept across reloads, and a
// confirmation with the ticket's number and private link (the form then waits behind
// "Submit another ticket").

import * as api from "../api.js";
import { h, options, replaceChildren } from "../dom.js";
import { clearDraft, loadDraft, saveDraft } from "../draft.js";
import { CATEGORIES, PRIORITIES, age, choices, label } from "../format.js";
import { customerErrorText, emailProblem, fieldSentence } from "../customer-messages.js";
import { session } from "../session.js";
import { SuggestionController } from "../suggestions.js";
import { CharCounter } from "../components/char-counter.js";

const SUGGESTED_FIELDS = ["category", "priority"];
// API field names, in the order the form shows them.
const FORM_FIELDS = ["customer_email", "customer_name", "title", "description", "category", "priority"];
const FIELD_LABELS = {
  customer_email: "Email",
  customer_name: "Name",
  title: "Title",
  description: "Description",
  category: "Category",
  priority: "Priority",
};
const LIMITS = { title: 200, description: 10000, customer_name: 100, customer_email: 254 };
const DRAFT_SAVE_DELAY_MS = 250;

export class SubmitView {
  #store;
  #suggestions = new SuggestionController((input, { signal }) => api.classify(input, { signal }));
  /** Fields the person chose by hand: a suggestion never overwrites them. */
  #manual = { category: false, priority: false };
  /** The suggestion the form shows ({category, priority, confident, id}), or null. */
  #shown = null;
  /** Reused only to retry the very same body (so a retry cannot create a duplicate). */
  #submission = null;
  #sending = false;
  #draftTimer = null;
  /** Fields whose error is shown: the banner counts them, and goes when they are fixed. */
  #invalid = new Set();
  /** True while the confirmation replaces the form. */
  #confirmed = false;

  constructor(store) {
    this.#store = store;
    this.element = this.#build();
    this.#suggestions.addEventListener("pending", () => this.#renderSuggestionStatus("pending"));
    this.#suggestions.addEventListener("idle", () => this.#renderSuggestionStatus(this.#shown ? "shown" : "none"));
    this.#suggestions.addEventListener("failed", () => this.#renderSuggestionStatus("failed"));
    this.#suggestions.addEventListener("suggestion", (event) => this.#applySuggestion(event.detail.suggestion));
    this.#restoreDraft();
  }

  show() {
    document.title = this.#confirmed ? "Ticket received · Support desk" : "Submit a ticket · Support desk";
    // Staff reach their sign-in from here; a signed-in agent has the header instead.
    this.staffLink.hidden = session.signedIn;
  }

  hide() {
    this.#saveDraftNow();
  }

  #build() {
    this.inputs = {
      customer_email: h("input", { id: "ticket-email", name: "customer_email", type: "email", autocomplete: "email", attrs: { "aria-describedby": "ticket-email-hint ticket-customer_email-error", required: true } }),
      customer_name: h("input", { id: "ticket-name", name: "customer_name", type: "text", autocomplete: "name", attrs: { "aria-describedby": "ticket-customer_name-error" } }),
      title: h("input", { id: "ticket-title", name: "title", type: "text", autocomplete: "off", attrs: { "aria-describedby": "ticket-title-counter ticket-title-error", required: true } }),
      description: h("textarea", { id: "ticket-description", name: "description", rows: 7, attrs: { "aria-describedby": "ticket-description-hint ticket-description-counter ticket-description-error", required: true } }),
      category: h("select", { id: "ticket-category", name: "category", attrs: { "aria-describedby": "ticket-category-suggestion ticket-category-error" } }, options([["", "Not sure — suggest one"], ...choices(CATEGORIES)], "")),
      priority: h("select", { id: "ticket-priority", name: "priority", attrs: { "aria-describedby": "ticket-priority-suggestion ticket-priority-error" } }, options([["", "Not sure — suggest one"], ...choices(PRIORITIES)], "")),
    };
    const announce = (text) => this.#store.announce(text);
    this.counters = {
      title: new CharCounter(this.inputs.title, LIMITS.title, { id: "ticket-title-counter", name: "Title", onLimit: announce }),
      description: new CharCounter(this.inputs.description, LIMITS.description, { id: "ticket-description-counter", name: "Description", onLimit: announce }),
    };
    this.errors = Object.fromEntries(
      FORM_FIELDS.map((field) => [field, h("p", { id: `ticket-${field}-error`, class: "field-error", dataset: { fieldError: field }, hidden: true })]),
    );
    this.badges = Object.fromEntries(
      SUGGESTED_FIELDS.map((field) => [field, h("div", { id: `ticket-${field}-suggestion`, class: "suggestion-badge", dataset: { suggestionBadge: field }, hidden: true })]),
    );
    // The status line: "Suggesting…" is shown but not announced (it would be read at every
    // pause while the person is still typing); the live part holds only settled results,
    // and is only changed when the result reads differently, so the same suggestion
    // coming back after another pause is not read again.
    this.suggestionPending = h("span", { class: "suggestion-status__pending" });
    this.suggestionMessage = h("span", { attrs: { role: "status", "aria-atomic": "true" }, dataset: { suggestionMessage: "" } });
    this.suggestionStatus = h("div", { class: "suggestion-status", dataset: { suggestionStatus: "none" } }, this.suggestionPending, this.suggestionMessage);
    this.formError = h("div", { class: "notice notice--error", attrs: { role: "alert" }, dataset: { formError: "" }, hidden: true });
    this.success = h("div", { class: "notice notice--success confirmation", dataset: { submitSuccess: "" }, hidden: true });
    this.anotherButton = h("button", { type: "button", class: "button", dataset: { submitAnother: "" }, text: "Submit another ticket", on: { click: () => this.#showForm() } });
    this.confirmationActions = h("div", { class: "form-actions confirmation-actions" }, this.anotherButton);
    // A link to #/new (the header's "Submit a ticket", the brand) while the confirmation
    // is up changes no address, so no route runs: it means "another ticket" too.
    document.addEventListener("click", (event) => {
      const link = event.target instanceof Element ? event.target.closest('a[href="#/new"]') : null;
      if (link && this.#confirmed && location.hash === "#/new") {
        event.preventDefault();
        this.#showForm();
      }
    });
    this.confirmationActions.hidden = true;
    this.draftNote = h("div", { class: "notice notice--info draft-note", dataset: { draftNote: "" }, hidden: true });
    this.submitButton = h("button", { type: "submit", class: "button button--primary", dataset: { submit: "" }, text: "Submit ticket" });
    this.staffLink = h("p", { class: "staff-link", dataset: { staffLink: "" } }, h("a", { href: "#/tickets", text: "Staff sign-in" }));

    for (const field of SUGGESTED_FIELDS) {
      this.inputs[field].addEventListener("change", () => {
        // Picking "Not sure" hands the field back to the suggestion.
        this.#manual[field] = this.inputs[field].value !== "";
        this.#renderBadge(field);
        this.#fieldFixed(field);
      });
    }
    for (const field of ["customer_email", "customer_name", "title", "description"]) {
      // Fixed: its error goes (and the banner is recounted). Not yet: the error stays
      // while typing, and says what is wrong now when the person leaves the field.
      this.inputs[field].addEventListener("input", () => {
        if (this.#invalid.has(field) && !this.#checkField(field)) this.#fieldFixed(field);
      });
      this.inputs[field].addEventListener("change", () => {
        const problem = this.#invalid.has(field) && this.#checkField(field);
        if (problem) this.errors[field].textContent = fieldSentence(FIELD_LABELS[field], problem);
      });
    }
    // Both: a suggestion is for the title and the description together.
    this.inputs.title.addEventListener("input", () => this.#textChanged());
    this.inputs.description.addEventListener("input", () => this.#textChanged());

    this.form = h(
      "form",
      {
        class: "card ticket-form",
        noValidate: true,
        dataset: { ticketForm: "" },
        attrs: { "aria-labelledby": "submit-heading" },
        on: { submit: (event) => this.#submit(event), input: () => this.#saveDraftSoon(), change: () => this.#saveDraftSoon() },
      },
      this.formError,
      h(
        "div",
        { class: "form-row" },
        field("ticket-email", "Email", this.inputs.customer_email, h("p", { id: "ticket-email-hint", class: "hint", text: "We send your confirmation and our answers here." }), this.errors.customer_email),
        field("ticket-name", "Name (optional)", this.inputs.customer_name, null, this.errors.customer_name),
      ),
      field("ticket-title", "Title", this.inputs.title, this.counters.title.element, this.errors.title),
      field(
        "ticket-description",
        "Description",
        this.inputs.description,
        [h("p", { id: "ticket-description-hint", class: "hint", text: "What happened, and what did you expect? After a couple of sentences we suggest a category and priority." }), this.counters.description.element],
        this.errors.description,
      ),
      this.suggestionStatus,
      h(
        "div",
        { class: "form-row" },
        field("ticket-category", "Category", this.inputs.category, this.badges.category, this.errors.category),
        field("ticket-priority", "Priority", this.inputs.priority, this.badges.priority, this.errors.priority),
      ),
      h("div", { class: "form-actions" }, this.submitButton),
    );
    this.heading = h("h2", { id: "submit-heading", tabIndex: -1, text: "Submit a ticket" });
    this.lede = h("p", { class: "lede", text: "Tell us what went wrong. A support agent will pick it up and answer you by email." });
    return h(
      "section",
      { class: "view view--submit", dataset: { view: "new" } },
      this.heading,
      this.lede,
      this.success,
      this.confirmationActions,
      this.draftNote,
      this.form,
      this.staffLink,
    );
  }

  // ---- Draft ----

  #draftFields() {
    const fields = {};
    for (const name of ["title", "description", "customer_email", "customer_name"]) fields[name] = this.inputs[name].value;
    // Only what the person chose: a suggestion is asked for again after a reload.
    for (const name of SUGGESTED_FIELDS) fields[name] = this.#manual[name] ? this.inputs[name].value : "";
    return fields;
  }

  #saveDraftSoon() {
    if (this.#sending) return;
    clearTimeout(this.#draftTimer);
    this.#draftTimer = setTimeout(() => this.#saveDraftNow(), DRAFT_SAVE_DELAY_MS);
  }

  #saveDraftNow() {
    if (this.#draftTimer === null) return;
    clearTimeout(this.#draftTimer);
    this.#draftTimer = null;
    saveDraft(this.#draftFields());
  }

  #restoreDraft() {
    const draft = loadDraft();
    if (!draft) return;
    for (const [name, value] of Object.entries(draft.fields)) {
      if (!this.inputs[name]) continue;
      this.inputs[name].value = value;
      if (SUGGESTED_FIELDS.includes(name)) this.#manual[name] = this.inputs[name].value !== "";
    }
    for (const counter of Object.values(this.counters)) counter.update();
    replaceChildren(
      this.draftNote,
      h("p", {}, `We kept the ticket you were writing (last changed ${age(draft.savedAt.toISOString())}). It stays in this browser until you send it.`),
      h("button", { type: "button", class: "button button--quiet", dataset: { discardDraft: "" }, text: "Discard draft", on: { click: () => this.#discardDraft() } }),
    );
    this.draftNote.hidden = false;
    this.#textChanged();
  }

  #discardDraft() {
    clearTimeout(this.#draftTimer);
    this.#draftTimer = null;
    clearDraft();
    this.#clearForm();
    this.draftNote.hidden = true;
    this.#store.announce("Draft discarded. The form is empty.");
    this.inputs.customer_email.focus();
  }

  // ---- Suggestions ----

  #textChanged() {
    this.#suggestions.textChanged({ title: this.inputs.title.value, description: this.inputs.description.value });
  }

  #applySuggestion(suggestion) {
    this.#shown = {
      category: suggestion.suggested_category,
      priority: suggestion.suggested_priority,
      // A low-confidence suggestion is offered, not filled in.
      confident: suggestion.confidence !== "low",
      // Claude's answer has an id: the create sends it, so the ticket records what
      // was shown (the server ignores it if the text has changed since).
      id: suggestion.suggestion_id ?? null,
    };
    for (const field of SUGGESTED_FIELDS) {
      // A late answer never overwrites what the person chose by hand.
      if (!this.#manual[field]) this.inputs[field].value = this.#shown.confident ? this.#shown[field] : "";
      this.#renderBadge(field);
    }
    this.#renderSuggestionStatus("shown");
  }

  #useSuggestion(field) {
    const value = this.#shown?.[field];
    if (!value) return;
    this.inputs[field].value = value;
    this.#manual[field] = true;
    this.#renderBadge(field);
    this.#clearFieldError(field);
    this.#saveDraftSoon();
    // The button is gone: keep the keyboard on the field it filled.
    this.inputs[field].focus();
    this.#store.announce(`${FIELD_LABELS[field]} set to ${label(value)}.`);
  }

  #renderBadge(field) {
    const badge = this.badges[field];
    const shown = this.#shown;
    if (!shown) {
      badge.hidden = true;
      replaceChildren(badge);
      return;
    }
    const chosen = this.inputs[field].value;
    badge.hidden = false;
    if (this.#manual[field] && chosen !== shown[field]) {
      badge.dataset.state = "overridden";
      replaceChildren(badge, `Your choice (suggested ${label(shown[field])})`);
    } else if (this.#manual[field] || shown.confident) {
      badge.dataset.state = "suggested";
      replaceChildren(badge, "Suggested");
    } else {
      badge.dataset.state = "hint";
      replaceChildren(
        badge,
        `Suggested: ${label(shown[field])} `,
        h("button", { type: "button", class: "button button--small", dataset: { useSuggestion: field }, text: `Use ${label(shown[field])}`, on: { click: () => this.#useSuggestion(field) } }),
      );
    }
  }

  #renderSuggestionStatus(state) {
    const status = this.suggestionStatus;
    status.dataset.suggestionStatus = state;
    const pending = state === "pending";
    if (pending) {
      replaceChildren(this.suggestionPending, h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }), "Suggesting a category and priority…");
    } else {
      replaceChildren(this.suggestionPending);
    }
    // While pending, the last settled result stays in the live region, out of sight.
    this.suggestionMessage.classList.toggle("visually-hidden", pending);
    if (pending) return;
    let text = "";
    if (state === "failed") {
      text = "No suggestion right now. Choose a category and priority yourself, or leave them and we will sort it.";
    } else if (state === "shown" && this.#shown) {
      const shown = this.#shown;
      const what = `Suggested: ${label(shown.category)}, ${label(shown.priority)} priority.`;
      status.dataset.confidence = shown.confident ? "high" : "low";
      text = shown.confident ? `${what} Change them if they are not right.` : `${what} Use them if they fit, or choose your own.`;
    }
    if (this.suggestionMessage.textContent !== text) this.suggestionMessage.textContent = text;
  }

  // ---- Sending ----

  #clearFieldError(field) {
    this.#invalid.delete(field);
    this.errors[field].hidden = true;
    this.errors[field].textContent = "";
    this.inputs[field].removeAttribute("aria-invalid");
  }

  /** A field was corrected: its error goes, and the banner counts what is left (or goes). */
  #fieldFixed(field) {
    if (!this.#invalid.has(field)) return;
    this.#clearFieldError(field);
    this.#renderFieldBanner();
  }

  /** What the form can see is wrong with `field` before sending (API wording), or null. */
  #checkField(field) {
    const input = this.inputs[field];
    if (field === "title" || field === "description") {
      if (!input.value.trim()) return "must not be blank";
      if (this.counters[field].over) return `must be at most ${LIMITS[field].toLocaleString("en")} characters`;
    } else if (field === "customer_email") {
      // The API's own rules for the common mistakes first, then the browser's check.
      const problem = emailProblem(input.value);
      if (problem) return problem;
      if (input.validity.typeMismatch) return "must be a valid email address, like name@example.com";
    } else if (field === "customer_name") {
      if (input.value.trim().length > LIMITS.customer_name) return `must be at most ${LIMITS.customer_name} characters`;
    }
    return null;
  }

  /** Problems the form can see before sending: `{field: message}`. */
  #check() {
    const problems = {};
    for (const field of ["customer_email", "customer_name", "title", "description"]) {
      const problem = this.#checkField(field);
      if (problem) problems[field] = problem;
    }
    return problems;
  }

  #body() {
    // Only what the person entered, and which suggestion they saw: the server makes
    // its own suggestion, or reads the one shown back from its cache (issue 14).
    const body = {
      title: this.inputs.title.value,
      description: this.inputs.description.value,
      customer_email: this.inputs.customer_email.value.trim(),
    };
    const name = this.inputs.customer_name.value.trim();
    if (name) body.customer_name = name;
    for (const field of SUGGESTED_FIELDS) {
      if (this.inputs[field].value) body[field] = this.inputs[field].value;
    }
    if (this.#shown?.id) body.suggestion_id = this.#shown.id;
    return body;
  }

  async #submit(event) {
    event.preventDefault();
    if (this.#sending) return;
    this.formError.hidden = true;
    for (const field of FORM_FIELDS) this.#clearFieldError(field);
    const problems = this.#check();
    if (Object.keys(problems).length > 0) {
      this.#showFieldErrors(problems);
      return;
    }
    const body = this.#body();
    const bodyText = JSON.stringify(body);
    if (!this.#submission || this.#submission.body !== bodyText) {
      this.#submission = { body: bodyText, key: api.newIdempotencyKey() };
    }
    this.#setSending(true);
    try {
      const ticket = await this.#store.createTicket(body, this.#submission.key);
      this.#submission = null;
      clearTimeout(this.#draftTimer);
      this.#draftTimer = null;
      clearDraft();
      this.draftNote.hidden = true;
      this.#clearForm();
      this.#showConfirmation(ticket, body.customer_email);
    } catch (error) {
      const fields = error instanceof api.ApiError ? error.fields : {};
      const known = Object.fromEntries(Object.entries(fields).filter(([field]) => this.errors[field]));
      if (Object.keys(known).length > 0) this.#showFieldErrors(known);
      else this.#showSendError(error);
    } finally {
      this.#setSending(false);
    }
  }

  #showConfirmation(ticket, email) {
    const reference = ticket.reference || `#${ticket.number}`;
    const url = privateLink(ticket);
    const copyStatus = h("p", { class: "copy-status", dataset: { copyStatus: "" } });
    // The confirmation email is not promised: the desk sends at most a few confirmations
    // an hour to one address (against misuse of the form), so a later one is not mailed.
    const linkBlock = url
      ? [
          h("label", { htmlFor: "private-link-url", text: "Your private link, to follow this ticket and answer us:" }),
          h("input", { id: "private-link-url", class: "private-link__url", type: "text", readOnly: true, value: url, dataset: { privateLinkText: "" }, attrs: { spellcheck: "false" } }),
          h(
            "div",
            { class: "private-link" },
            h("a", { href: url, class: "button button--primary", dataset: { privateLink: "" }, text: "Open your ticket" }),
            h("button", { type: "button", class: "button", dataset: { copyLink: "" }, text: "Copy link", on: { click: (event) => this.#copy(url, event.currentTarget, copyStatus) } }),
          ),
          copyStatus,
          h("p", { dataset: { emailedNote: "" } }, "We are also sending this link to ", h("strong", { text: email }), ". Keep it: it is your way back to this ticket, even if the email does not arrive."),
          h("p", { text: "Keep it to yourself: anyone with the link can read and answer this ticket." }),
        ]
      : [h("p", { dataset: { emailedNote: "" } }, "We are sending a private link to ", h("strong", { text: email }), ", to follow this ticket and answer us. If it does not arrive, write to us again and mention your reference.")];
    replaceChildren(
      this.success,
      h("p", { class: "confirmation__reference" }, "Your reference: ", h("strong", { class: "ticket-ref", dataset: { ticketRef: "", ticketId: ticket.id }, text: reference })),
      linkBlock,
    );
    this.#confirmed = true;
    this.heading.textContent = "Ticket received";
    document.title = "Ticket received · Support desk";
    this.lede.hidden = true;
    this.form.hidden = true;
    this.formError.hidden = true;
    this.success.hidden = false;
    this.confirmationActions.hidden = false;
    this.heading.focus();
    this.#store.announce(`Ticket ${reference} received. Your private link is on this page.`);
  }

  /** Back to an empty form after a confirmation ("Submit another ticket"). */
  #showForm() {
    this.#confirmed = false;
    this.heading.textContent = "Submit a ticket";
    document.title = "Submit a ticket · Support desk";
    this.success.hidden = true;
    replaceChildren(this.success);
    this.confirmationActions.hidden = true;
    this.lede.hidden = false;
    this.form.hidden = false;
    this.inputs.customer_email.focus();
  }

  async #copy(url, button, status) {
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = "Link copied.";
    } catch {
      // No clipboard access (permissions, an old browser): select it for Ctrl+C instead.
      const field = this.success.querySelector("[data-private-link-text]");
      field.focus();
      field.select();
      status.textContent = "The link is selected: press Ctrl+C (⌘C on a Mac) to copy it.";
      this.#store.announce(status.textContent);
      return;
    }
    this.#store.announce(status.textContent);
    button.focus();
  }

  #showFieldErrors(problems) {
    let first = null;
    for (const field of FORM_FIELDS) {
      const message = problems[field];
      if (!message) continue;
      const errorElement = this.errors[field];
      errorElement.textContent = fieldSentence(FIELD_LABELS[field], message);
      errorElement.hidden = false;
      this.inputs[field].setAttribute("aria-invalid", "true");
      this.#invalid.add(field);
      first ??= this.inputs[field];
    }
    this.#renderFieldBanner();
    first.focus();
  }

  /** The banner over the form: how many fields are still marked, and which; none, no banner. */
  #renderFieldBanner() {
    const names = FORM_FIELDS.filter((field) => this.#invalid.has(field)).map((field) => FIELD_LABELS[field]);
    const count = names.length;
    if (count === 0) {
      this.formError.hidden = true;
      replaceChildren(this.formError);
      return;
    }
    replaceChildren(
      this.formError,
      h("p", { class: "notice__title", dataset: { errorCount: String(count) }, text: count === 1 ? "Please correct the highlighted field." : `Please correct the ${count} highlighted fields.` }),
      h("p", { text: `${count === 1 ? "Field" : "Fields"}: ${listOf(names)}.` }),
    );
    this.formError.hidden = false;
  }

  #showSendError(error) {
    replaceChildren(
      this.formError,
      h("p", { class: "notice__title", text: "Your ticket was not sent." }),
      h("p", { dataset: { sendError: "" }, text: customerErrorText(error, { textKept: true }) }),
    );
    this.formError.hidden = false;
    this.submitButton.focus();
  }

  #setSending(sending) {
    this.#sending = sending;
    this.submitButton.disabled = sending;
    this.submitButton.textContent = sending ? "Sending…" : "Submit ticket";
    this.element.querySelector("[data-ticket-form]").setAttribute("aria-busy", String(sending));
  }

  #clearForm() {
    this.formError.hidden = true;
    this.#suggestions.reset();
    for (const field of FORM_FIELDS) {
      this.inputs[field].value = "";
      this.#clearFieldError(field);
    }
    for (const counter of Object.values(this.counters)) counter.update();
    this.#manual = { category: false, priority: false };
    this.#shown = null;
    for (const field of SUGGESTED_FIELDS) this.#renderBadge(field);
    this.#renderSuggestionStatus("none");
  }
}

/** The customer's private page for a just-created ticket (the API's, or built here). */
function privateLink(ticket) {
  if (ticket.customer_url) return ticket.customer_url;
  if (!ticket.customer_key) return null;
  const here = new URL(window.location.href);
  here.hash = `#/my-ticket/${ticket.id}?key=${encodeURIComponent(ticket.customer_key)}`;
  return here.href;
}

/** "Title", "Title and Email", "Title, Email and Description". */
function listOf(names) {
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

function field(id, text, control, extra, error) {
  return h("div", { class: "field" }, h("label", { htmlFor: id, text }), control, extra, error);
}
