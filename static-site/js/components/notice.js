// Messages in the page: errors with a "Try again" button, empty states, notes.

import { h } from "../dom.js";

/** An error panel (role=alert) with an optional retry action. */
export function errorNotice(title, error, onRetry) {
  const message = error && error.message ? error.message : String(error ?? "");
  return h(
    "div",
    { class: "notice notice--error", attrs: { role: "alert" }, dataset: { errorNotice: "" } },
    h("p", { class: "notice__title", text: title }),
    message ? h("p", { text: message }) : null,
    onRetry ? h("button", { type: "button", class: "button", text: "Try again", on: { click: onRetry } }) : null,
  );
}

export function emptyNotice(text, ...extra) {
  return h("div", { class: "notice", dataset: { emptyNotice: "" } }, h("p", { text }), ...extra);
}
