// The "?" dialog: every keyboard shortcut of the list. A native modal <dialog>
// (focus is kept inside, Escape closes it); focus goes back where it was.

import { h } from "../dom.js";
import { SHORTCUTS } from "../shortcuts.js";

export class ShortcutHelp {
  #returnFocus = null;

  constructor() {
    this.element = h(
      "dialog",
      { class: "shortcut-help", dataset: { shortcutHelp: "" }, attrs: { "aria-labelledby": "shortcut-help-heading" }, on: { close: () => this.#restoreFocus() } },
      h("h2", { id: "shortcut-help-heading", text: "Keyboard shortcuts" }),
      h("p", { class: "muted", text: "In the tickets list, when you are not typing in a field." }),
      h(
        "dl",
        { class: "shortcut-help__list" },
        SHORTCUTS.map(([key, meaning]) => h("div", {}, h("dt", {}, h("kbd", { text: key })), h("dd", { text: meaning }))),
      ),
      h("button", { type: "button", class: "button button--primary", text: "Close", dataset: { closeHelp: "" }, on: { click: () => this.element.close() } }),
    );
  }

  open() {
    if (this.element.open) return;
    this.#returnFocus = document.activeElement;
    if (!this.element.isConnected) document.body.append(this.element);
    this.element.showModal();
  }

  #restoreFocus() {
    const target = this.#returnFocus;
    this.#returnFocus = null;
    if (target instanceof HTMLElement && target.isConnected) target.focus();
  }
}
