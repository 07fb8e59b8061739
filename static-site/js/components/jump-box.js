// The header's "Go to ticket" box (agents only): #1042, 1042, #3ykzwkda or a full id
// opens that ticket; a reference that names no ticket says so in the header.

import { h } from "../dom.js";
import { parseReference } from "../search-text.js";

export class JumpBox {
  #store;
  #busy = false;

  constructor(store) {
    this.#store = store;
    this.input = h("input", {
      id: "jump-to",
      type: "text",
      name: "reference",
      maxLength: 40,
      autocomplete: "off",
      spellcheck: false,
      placeholder: "#1042",
      dataset: { jumpInput: "" },
      attrs: { "aria-describedby": "jump-message" },
    });
    this.message = h("p", { id: "jump-message", class: "jump__message", attrs: { role: "status" }, dataset: { jumpMessage: "" } });
    this.element = h(
      "form",
      { class: "jump", attrs: { role: "search", "aria-label": "Go to a ticket" }, dataset: { jumpForm: "" }, on: { submit: (event) => this.#go(event) } },
      h("label", { class: "visually-hidden", htmlFor: "jump-to", text: "Go to ticket number" }),
      this.input,
      h("button", { type: "submit", class: "button button--header", text: "Go", dataset: { jumpGo: "" } }),
      this.message,
    );
    this.input.addEventListener("input", () => {
      this.message.textContent = "";
    });
    // A "no such ticket" message belongs to the page it was said on.
    window.addEventListener("hashchange", () => {
      if (!this.#busy) this.message.textContent = "";
    });
  }

  async #go(event) {
    event.preventDefault();
    if (this.#busy) return;
    const text = this.input.value.trim();
    if (!text) return;
    const reference = parseReference(text);
    if (!reference) {
      this.message.textContent = "Type a ticket number such as #1042.";
      return;
    }
    this.#busy = true;
    this.message.textContent = `Looking for ${reference.text}…`;
    try {
      const ticket = await this.#store.findByReference(reference);
      if (!ticket) {
        this.message.textContent = `There is no ticket ${reference.text}.`;
        this.input.select();
        return;
      }
      this.message.textContent = "";
      this.input.value = "";
      window.location.hash = `#/tickets/${ticket.id}`;
    } catch (error) {
      this.message.textContent = `Could not look up ${reference.text}: ${error.message}`;
    } finally {
      this.#busy = false;
    }
  }
}
