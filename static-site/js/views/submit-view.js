// "Submit a ticket": the customers' form, with classifier suggestions while they type.

import * as api from "../api.js";
import { h, options, replaceChildren } from "../dom.js";
import { CATEGORIES, PRIORITIES, choices, label } from "../format.js";
import { SuggestionController } from "../suggestions.js";

const SUGGESTED_FIELDS = ["category", "priority"];
const FORM_FIELDS = ["title", "description", "category", "priority"];

export class SubmitView {
  #store;
  #suggestions = new SuggestionController((input, { signal }) => api.classify(input, { signal }));
  /** Fields the person chose by hand: a suggestion never overwrites them. */
  #manual = { category: false, priority: false };
  /** The suggestion the form shows (sent with the ticket), or null. */
  #shown = null;
  /** Reused only to retry the very same body (so a retry cannot create a duplicate). */
  #submission = null;
  #sending = false;

  constructor(store) {
    this.#store = store;
    this.element = this.#build();
    this.#suggestions.addEventListener("pending", () => this.#renderSuggestionStatus("pending"));
    this.#suggestions.addEventListener("idle", () => this.#renderSuggestionStatus(this.#shown ? "shown" : "none"));
    this.#suggestions.addEventListener("failed", (event) => this.#renderSuggestionStatus("failed", event.detail.error));
    this.#suggestions.addEventListener("suggestion", (event) => this.#applySuggestion(event.detail.suggestion));
  }

  show() {
    document.title = "Submit a ticket · Support desk";
  }

  hide() {}

  #build() {
    this.inputs = {
      title: h("input", { id: "ticket-title", name: "title", type: "text", maxLength: 200, autocomplete: "off", attrs: { "aria-describedby": "ticket-title-error", required: true } }),
      description: h("textarea", { id: "ticket-description", name: "description", rows: 7, maxLength: 10000, attrs: { "aria-describedby": "ticket-description-hint ticket-description-error", required: true } }),
      category: h("select", { id: "ticket-category", name: "category", attrs: { "aria-describedby": "ticket-category-suggestion ticket-category-error" } }, options([["", "Not sure — suggest one"], ...choices(CATEGORIES)], "")),
      priority: h("select", { id: "ticket-priority", name: "priority", attrs: { "aria-describedby": "ticket-priority-suggestion ticket-priority-error" } }, options([["", "Not sure — suggest one"], ...choices(PRIORITIES)], "")),
    };
    this.errors = Object.fromEntries(
      FORM_FIELDS.map((field) => [field, h("p", { id: `ticket-${field}-error`, class: "field-error", dataset: { fieldError: field }, hidden: true })]),
    );
    this.badges = Object.fromEntries(
      SUGGESTED_FIELDS.map((field) => [field, h("p", { id: `ticket-${field}-suggestion`, class: "suggestion-badge", dataset: { suggestionBadge: field }, hidden: true })]),
    );
    this.suggestionStatus = h("p", { class: "suggestion-status", attrs: { role: "status" }, dataset: { suggestionStatus: "none" } });
    this.formError = h("div", { class: "notice notice--error", attrs: { role: "alert" }, dataset: { formError: "" }, hidden: true });
    this.success = h("div", { class: "notice notice--success", tabIndex: -1, dataset: { submitSuccess: "" }, hidden: true });
    this.submitButton = h("button", { type: "submit", class: "button button--primary", dataset: { submit: "" }, text: "Submit ticket" });

    for (const field of SUGGESTED_FIELDS) {
      this.inputs[field].addEventListener("change", () => {
        // Picking "Not sure" hands the field back to the classifier.
        this.#manual[field] = this.inputs[field].value !== "";
        this.#renderBadge(field);
        this.#clearFieldError(field);
      });
    }
    for (const field of ["title", "description"]) {
      this.inputs[field].addEventListener("input", () => this.#clearFieldError(field));
    }
    this.inputs.description.addEventListener("input", () => this.#textChanged());

    const form = h(
      "form",
      { class: "card ticket-form", noValidate: true, dataset: { ticketForm: "" }, attrs: { "aria-labelledby": "submit-heading" }, on: { submit: (event) => this.#submit(event) } },
      this.formError,
      field("ticket-title", "Title", this.inputs.title, null, this.errors.title),
      field(
        "ticket-description",
        "Description",
        this.inputs.description,
        h("p", { id: "ticket-description-hint", class: "hint", text: "What happened, and what did you expect? After a couple of sentences we suggest a category and priority." }),
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
    return h(
      "section",
      { class: "view view--submit", dataset: { view: "new" } },
      h("h2", { id: "submit-heading", tabIndex: -1, text: "Submit a ticket" }),
      h("p", { class: "lede", text: "Tell us what went wrong. A support agent will pick it up." }),
      this.success,
      form,
    );
  }

  #textChanged() {
    this.#suggestions.textChanged({ title: this.inputs.title.value, description: this.inputs.description.value });
  }

  #applySuggestion(suggestion) {
    this.#shown = {
      category: suggestion.suggested_category,
      priority: suggestion.suggested_priority,
      source: suggestion.source,
      warning: suggestion.warning ?? null,
    };
    for (const field of SUGGESTED_FIELDS) {
      // A late answer never overwrites what the person chose by hand.
      if (!this.#manual[field]) this.inputs[field].value = this.#shown[field];
      this.#renderBadge(field);
    }
    this.#renderSuggestionStatus("shown");
  }

  #renderBadge(field) {
    const badge = this.badges[field];
    const shown = this.#shown;
    if (!shown) {
      badge.hidden = true;
      badge.textContent = "";
      return;
    }
    const by = shown.source === "llm" ? "AI" : "offline classifier";
    const chosen = this.inputs[field].value;
    badge.hidden = false;
    badge.dataset.source = shown.source;
    if (this.#manual[field] && chosen !== shown[field]) {
      badge.dataset.state = "overridden";
      badge.textContent = `Your choice (${by} suggested ${label(shown[field])})`;
    } else {
      badge.dataset.state = "suggested";
      badge.textContent = `Suggested by ${by}`;
    }
  }

  #renderSuggestionStatus(state, error) {
    const status = this.suggestionStatus;
    status.dataset.suggestionStatus = state;
    if (state === "pending") {
      replaceChildren(status, h("span", { class: "spinner", attrs: { "aria-hidden": "true" } }), "Suggesting a category and priority…");
    } else if (state === "failed") {
      replaceChildren(status, `No suggestion right now (${error.message}). Choose a category and priority yourself, or leave them and we will sort it.`);
    } else if (state === "shown" && this.#shown) {
      const shown = this.#shown;
      const source = shown.source === "llm" ? "the AI" : "the offline classifier (AI unavailable)";
      replaceChildren(
        status,
        h("span", { class: `source-tag source-tag--${shown.source}`, text: shown.source === "llm" ? "AI" : "Offline" }),
        ` Suggested by ${source}: ${label(shown.category)}, ${label(shown.priority)} priority. Change them if they are not right.`,
      );
    } else {
      replaceChildren(status);
    }
  }

  #clearFieldError(field) {
    this.errors[field].hidden = true;
    this.errors[field].textContent = "";
    this.inputs[field].removeAttribute("aria-invalid");
  }

  #body() {
    const body = { title: this.inputs.title.value, description: this.inputs.description.value };
    for (const field of SUGGESTED_FIELDS) {
      if (this.inputs[field].value) body[field] = this.inputs[field].value;
    }
    if (this.#shown) {
      body.suggested_category = this.#shown.category;
      body.suggested_priority = this.#shown.priority;
      body.classification_source = this.#shown.source;
    }
    return body;
  }

  async #submit(event) {
    event.preventDefault();
    if (this.#sending) return;
    const body = this.#body();
    const bodyText = JSON.stringify(body);
    if (!this.#submission || this.#submission.body !== bodyText) {
      this.#submission = { body: bodyText, key: api.newIdempotencyKey() };
    }
    this.#setSending(true);
    this.formError.hidden = true;
    this.success.hidden = true;
    for (const field of FORM_FIELDS) this.#clearFieldError(field);
    try {
      const ticket = await this.#store.createTicket(body, this.#submission.key);
      this.#submission = null;
      this.#clearForm();
      replaceChildren(
        this.success,
        h("p", { class: "notice__title", text: "Thank you — your ticket has been created." }),
        h("p", {}, "Your reference: ", h("strong", { class: "ticket-ref", dataset: { ticketId: ticket.id }, text: ticket.id })),
        h("p", {}, h("a", { href: `#/tickets/${ticket.id}`, text: "Open it in the agents' console" })),
      );
      this.success.hidden = false;
      this.success.focus();
      this.#store.announce(`Ticket created. Your reference is ${ticket.id}.`);
    } catch (error) {
      this.#showError(error);
    } finally {
      this.#setSending(false);
    }
  }

  #showError(error) {
    const fields = error instanceof api.ApiError ? error.fields : {};
    let first = null;
    for (const [field, message] of Object.entries(fields)) {
      const errorElement = this.errors[field];
      if (!errorElement) continue;
      errorElement.textContent = `${label(field)} ${message}.`;
      errorElement.hidden = false;
      this.inputs[field].setAttribute("aria-invalid", "true");
      first ??= this.inputs[field];
    }
    replaceChildren(
      this.formError,
      h("p", { class: "notice__title", text: first ? "Please correct the highlighted field." : "Your ticket was not sent." }),
      h("p", { text: first ? error.message : `${error.message} Your text is still here; try again.` }),
    );
    this.formError.hidden = false;
    (first ?? this.submitButton).focus();
  }

  #setSending(sending) {
    this.#sending = sending;
    this.submitButton.disabled = sending;
    this.submitButton.textContent = sending ? "Sending…" : "Submit ticket";
    this.element.querySelector("[data-ticket-form]").setAttribute("aria-busy", String(sending));
  }

  #clearForm() {
    this.#suggestions.reset();
    for (const field of FORM_FIELDS) this.inputs[field].value = "";
    this.#manual = { category: false, priority: false };
    this.#shown = null;
    for (const field of SUGGESTED_FIELDS) this.#renderBadge(field);
    this.#renderSuggestionStatus("none");
  }
}

function field(id, text, control, extra, error) {
  return h("div", { class: "field" }, h("label", { htmlFor: id, text }), control, extra, error);
}
