// "Saved: status → Resolved on #1042. Undo": one toast per inline edit, for 8 seconds
// (the clock pauses while the pointer or the keyboard focus is on it). At most three
// are kept; the newest is what the "u" shortcut undoes.

import { h } from "../dom.js";
import { describeChanges } from "../store.js";
import { referenceOf } from "./ticket-row.js";

export const UNDO_SECONDS = 8;
const MAX_TOASTS = 3;

export class UndoToasts {
  #toasts = [];

  constructor() {
    this.element = h("div", { class: "toasts", dataset: { undoArea: "" } });
  }

  /**
   * The toast for a saved change (``store.changeTicket``'s ``result``), whose Undo puts
   * back ``result.before``, conditional on the version the change produced or, when
   * only this tab changed other fields since, the current one (``store.undoBase``): an
   * undo never overwrites what someone else changed since.
   * @param {object} store  the Store
   * @param {string} id  the ticket's id
   * @param {object} changes  what was changed
   * @param {object} result  changeTicket's answer (ok, ticket, before)
   * @param {string} goneText  why else an undo can fail, after "the ticket is no longer"
   */
  addChange(store, id, changes, result, goneText) {
    const reference = referenceOf(result.ticket);
    const version = result.ticket.version;
    this.add(`Saved: ${describeChanges(changes)} on ${reference}.`, async () => {
      const base = store.undoBase(id, version, Object.keys(changes));
      if (base.refused) return `Not undone on ${reference}: you changed that again since; its newer change has its own Undo.`;
      const undone = await store.changeTicket(id, result.before, { baseVersion: base.baseVersion });
      if (undone.ok) return `Undone on ${reference}: ${describeChanges(result.before)}.`;
      if (undone.error && undone.error.isConflict) return `Not undone: someone changed ${reference} since; it shows their version now.`;
      return `Not undone on ${reference}: ${undone.error ? undone.error.message : `the ticket is no longer ${goneText}.`}`;
    });
  }

  /**
   * @param {string} text  what was done
   * @param {() => Promise<string>} undo  reverts it; resolves to the sentence to show after
   */
  add(text, undo) {
    const toast = { timer: null, remaining: UNDO_SECONDS * 1000, started: 0, undo, done: false };
    const button = h("button", { type: "button", class: "button button--small", text: "Undo", dataset: { undo: "" }, on: { click: () => this.#undo(toast) } });
    toast.message = h("span", { class: "toast__text", text });
    toast.element = h(
      "div",
      {
        class: "toast",
        tabIndex: -1,
        dataset: { undoToast: "" },
        on: {
          mouseenter: () => this.#pause(toast),
          mouseleave: () => this.#resume(toast),
          focusin: () => this.#pause(toast),
          focusout: () => this.#resume(toast),
        },
      },
      toast.message,
      button,
    );
    toast.button = button;
    this.#toasts.push(toast);
    this.element.append(toast.element);
    while (this.#toasts.length > MAX_TOASTS) this.#remove(this.#toasts[0]);
    this.#resume(toast);
  }

  /** Undo the newest toast's change (the "u" shortcut); false when there is none. */
  undoLatest() {
    const toast = [...this.#toasts].reverse().find((candidate) => !candidate.done);
    if (!toast) return false;
    this.#undo(toast);
    return true;
  }

  clear() {
    for (const toast of [...this.#toasts]) this.#remove(toast);
  }

  async #undo(toast) {
    if (toast.done) return;
    toast.done = true;
    this.#pause(toast);
    toast.button.disabled = true;
    toast.message.textContent = "Undoing…";
    const focused = toast.element.contains(document.activeElement);
    let text;
    try {
      text = await toast.undo();
    } catch (error) {
      text = `Could not undo: ${error.message}`;
    }
    toast.message.textContent = text;
    toast.button.remove();
    if (focused) toast.element.focus();
    toast.remaining = 4000;
    this.#resume(toast);
  }

  #pause(toast) {
    if (!toast.timer) return;
    clearTimeout(toast.timer);
    toast.timer = null;
    toast.remaining -= Date.now() - toast.started;
  }

  #resume(toast) {
    if (toast.timer || !this.#toasts.includes(toast)) return;
    if (toast.element.matches(":hover") || toast.element.contains(document.activeElement)) return;
    toast.started = Date.now();
    toast.timer = setTimeout(() => this.#remove(toast), Math.max(0, toast.remaining));
  }

  #remove(toast) {
    clearTimeout(toast.timer);
    toast.timer = null;
    toast.element.remove();
    this.#toasts = this.#toasts.filter((other) => other !== toast);
  }
}
