// The list's views: the built-in ones ("Unsolved, by priority", "Mine", "Unassigned",
// "All") and the ones the agent saved, as links (so they open in a new tab and Back
// works), each saved one with a Delete button; and "Save this view", a small form.

import { h, replaceChildren } from "../dom.js";
import { hashFor } from "../router.js";
import { BUILT_IN_VIEWS, sameQuery } from "../queue.js";

export class ViewsBar {
  #views;
  #query = null;

  /** @param {import("../queue.js").SavedViews} savedViews  @param {() => object} currentQuery */
  constructor(savedViews, currentQuery) {
    this.#views = savedViews;
    this.currentQuery = currentQuery;
    this.builtIn = h("ul", { class: "views__list", dataset: { builtInViews: "" } });
    this.saved = h("ul", { class: "views__list", dataset: { savedViews: "" } });
    this.nameInput = h("input", { id: "view-name", type: "text", maxLength: 60, autocomplete: "off", dataset: { viewName: "" } });
    this.message = h("p", { class: "views__message", attrs: { role: "status" }, dataset: { viewsMessage: "" } });
    this.form = h(
      "form",
      { class: "views__form", hidden: true, dataset: { saveViewForm: "" }, on: { submit: (event) => this.#save(event) } },
      h("label", { htmlFor: "view-name", text: "Name this view" }),
      this.nameInput,
      h("button", { type: "submit", class: "button button--small button--primary", text: "Save" }),
      h("button", { type: "button", class: "button button--small button--quiet", text: "Cancel", on: { click: () => this.#closeForm() } }),
    );
    this.nameInput.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.#closeForm();
      }
    });
    this.openButton = h("button", {
      type: "button",
      class: "button button--small button--quiet",
      text: "Save this view…",
      dataset: { saveView: "" },
      attrs: { "aria-expanded": "false" },
      on: { click: () => this.#openForm() },
    });
    this.element = h(
      "nav",
      { class: "views", attrs: { "aria-label": "Views" }, dataset: { views: "" } },
      this.builtIn,
      this.saved,
      this.openButton,
      this.form,
      this.message,
    );
    savedViews.addEventListener("change", () => this.render(this.#query));
  }

  /** Show the views, marking the one the list shows now. */
  render(query) {
    this.#query = query;
    replaceChildren(
      this.builtIn,
      BUILT_IN_VIEWS.map((view) => h("li", {}, this.#link(view.name, view.query, { builtInView: view.id }))),
    );
    const saved = this.#views.list();
    this.saved.hidden = saved.length === 0;
    replaceChildren(
      this.saved,
      saved.map((view) =>
        h(
          "li",
          { class: "views__saved" },
          this.#link(view.name, view.query, { savedView: view.name }),
          h("button", {
            type: "button",
            class: "views__delete",
            text: "×",
            dataset: { deleteView: view.name },
            attrs: { "aria-label": `Delete the view “${view.name}”` },
            on: { click: () => this.#delete(view.name) },
          }),
        ),
      ),
    );
  }

  #link(name, query, dataset) {
    const current = this.#query && sameQuery(query, this.#query);
    return h("a", { class: "views__link", href: hashFor("/tickets", query), text: name, dataset, attrs: { "aria-current": current ? "page" : null } });
  }

  #openForm() {
    this.form.hidden = false;
    this.openButton.hidden = true;
    this.openButton.setAttribute("aria-expanded", "true");
    this.message.textContent = "";
    this.nameInput.focus();
  }

  #closeForm() {
    this.form.hidden = true;
    this.openButton.hidden = false;
    this.openButton.setAttribute("aria-expanded", "false");
    this.nameInput.value = "";
    this.openButton.focus();
  }

  #save(event) {
    event.preventDefault();
    try {
      const name = this.#views.save(this.nameInput.value, this.currentQuery());
      this.#closeForm();
      this.message.textContent = `Saved the view “${name}”.`;
    } catch (error) {
      this.message.textContent = error.message;
      this.nameInput.focus();
    }
  }

  #delete(name) {
    try {
      this.#views.remove(name);
      this.message.textContent = `Deleted the view “${name}”.`;
    } catch (error) {
      this.message.textContent = error.message;
    }
    this.openButton.focus();
  }
}
