// A select in a list row that saves only when the person means it.
//
// Chromium (and Firefox on Windows and Linux) change a closed, focused select's value
// on ArrowUp/ArrowDown or a typed letter and fire `change` at once, so one stray arrow
// key used to save "status → In progress". Here a value reached that way is only
// staged: the select shows it as unsaved (dashed, with a hint), Enter or leaving the
// select saves it, Escape puts the saved value back. A value picked from the opened
// list (mouse, touch, or Alt+Down/Space then Enter) saves at once, as before.
//
// Talks upward with a "ticket-change" CustomEvent {id, changes}, like TicketControls.

import { h, options } from "../dom.js";

const STAGING_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"]);

export class InlineSelect {
  #saved;
  #keyed = false;
  #hintId;

  /**
   * @param {{ticketId: string, field: string, choices: [string, string][], value: string,
   *          label: string, hintId: string, onStaged: (staged: boolean) => void}} options
   */
  constructor({ ticketId, field, choices, value, label, hintId, onStaged }) {
    this.ticketId = ticketId;
    this.field = field;
    this.#saved = value;
    this.#hintId = hintId;
    this.onStaged = onStaged;
    this.element = h(
      "select",
      {
        class: `inline-select inline-select--${field}`,
        name: field,
        dataset: { field, value },
        attrs: { "aria-label": label },
        on: {
          keydown: (event) => this.#keydown(event),
          keyup: () => {
            this.#keyed = false;
          },
          pointerdown: () => {
            this.#keyed = false;
          },
          change: () => this.#changed(),
          blur: () => this.staged && this.#commit(),
        },
      },
      options(choices, value),
    );
  }

  get staged() {
    return this.element.dataset.pending === "true";
  }

  /** The saved value changed (the API answered, or the ticket was reloaded). */
  update(value, label) {
    this.#saved = value;
    this.element.setAttribute("aria-label", label);
    if (!this.staged && this.element.value !== value) this.element.value = value;
    if (!this.staged) this.element.dataset.value = value;
  }

  #keydown(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Enter" && this.staged) {
      event.preventDefault();
      this.#commit();
    } else if (event.key === "Escape" && this.staged) {
      event.preventDefault();
      event.stopPropagation();
      this.#setStaged(false);
      this.element.value = this.#saved;
      this.element.dataset.value = this.#saved;
    } else if (STAGING_KEYS.has(event.key) || (event.key.length === 1 && event.key !== " ")) {
      this.#keyed = true;
    }
  }

  #changed() {
    this.element.dataset.value = this.element.value;
    if (this.#keyed) {
      this.#setStaged(this.element.value !== this.#saved);
      return;
    }
    this.#commit();
  }

  #commit() {
    this.#setStaged(false);
    const value = this.element.value;
    if (value === this.#saved) return;
    this.element.dispatchEvent(
      new CustomEvent("ticket-change", { bubbles: true, detail: { id: this.ticketId, changes: { [this.field]: value } } }),
    );
  }

  #setStaged(staged) {
    if (staged === this.staged) return;
    // The hint ("Not saved yet…") describes the select only while it applies.
    if (staged) {
      this.element.dataset.pending = "true";
      this.element.setAttribute("aria-describedby", this.#hintId);
    } else {
      delete this.element.dataset.pending;
      this.element.removeAttribute("aria-describedby");
    }
    this.onStaged?.(staged);
  }
}
