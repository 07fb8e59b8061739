// "Agent sign-in": shown instead of the tickets, a ticket or the dashboard while nobody
// is signed in. The address bar keeps the route (and its filters), so signing in
// lands the agent where they were going.

import { h, replaceChildren } from "../dom.js";
import { MESSAGES } from "../session.js";

export class SignInView {
  #session;
  #busy = false;

  constructor(session) {
    this.#session = session;
    this.email = h("input", { id: "signin-email", name: "email", type: "email", autocomplete: "username", spellcheck: false, attrs: { required: true, autocapitalize: "none" } });
    this.password = h("input", { id: "signin-password", name: "password", type: "password", autocomplete: "current-password", attrs: { required: true } });
    // Why the form is shown ("Your session expired"); read out when it appears.
    this.reason = h("p", { id: "signin-reason", class: "notice notice--info", attrs: { role: "status" }, dataset: { signinReason: "" } });
    // Present (and empty) from the start, so a screen reader announces what goes in it.
    this.error = h("p", { id: "signin-error", class: "field-error", attrs: { "aria-live": "assertive", "aria-atomic": "true" }, dataset: { signinError: "" } });
    this.button = h("button", { type: "submit", class: "button button--primary", dataset: { signinSubmit: "" }, text: "Sign in" });
    this.form = h(
      "form",
      { class: "card signin-form", noValidate: true, dataset: { signinForm: "" }, attrs: { "aria-labelledby": "signin-heading", "aria-describedby": "signin-reason signin-error" }, on: { submit: (event) => this.#submit(event) } },
      h("div", { class: "field" }, h("label", { htmlFor: "signin-email", text: "Email" }), this.email),
      h("div", { class: "field" }, h("label", { htmlFor: "signin-password", text: "Password" }), this.password),
      this.error,
      h("div", { class: "form-actions" }, this.button),
    );
    this.element = h(
      "section",
      { class: "view view--signin", dataset: { view: "signin" } },
      h("h2", { id: "signin-heading", tabIndex: -1, text: "Agent sign-in" }),
      h("p", { class: "lede" }, "Tickets and the dashboard are for support agents. Customers do not need an account to ", h("a", { href: "#/new", text: "submit a ticket" }), "."),
      this.reason,
      this.form,
    );
    this.setReason("");
  }

  /** A sentence above the form: why it is shown (e.g. the session expired), or "". */
  setReason(text) {
    this.reason.textContent = text;
    this.reason.hidden = !text;
  }

  show() {
    document.title = "Sign in · Support desk";
    this.#setError("");
    this.password.value = "";
    if (!this.#session.configured) this.#setError(MESSAGES.config);
  }

  hide() {}

  /** Where keyboard focus goes when the form appears: the first empty field. */
  focusTarget() {
    return this.email.value ? this.password : this.email;
  }

  #setError(text) {
    this.error.textContent = text;
    const invalid = Boolean(text);
    for (const input of [this.email, this.password]) {
      if (invalid) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  async #submit(event) {
    event.preventDefault();
    if (this.#busy) return;
    const email = this.email.value.trim();
    const password = this.password.value;
    if (!email || !password) {
      this.#setError("Enter your email and your password.");
      (email ? this.password : this.email).focus();
      return;
    }
    this.#setBusy(true);
    this.#setError("");
    try {
      // Success emits "change" on the session; main.js then shows the page asked for.
      await this.#session.signIn(email, password);
      this.password.value = "";
      this.setReason("");
    } catch (error) {
      this.password.value = "";
      this.#setError(error.message);
      this.password.focus();
    } finally {
      this.#setBusy(false);
    }
  }

  #setBusy(busy) {
    this.#busy = busy;
    this.button.disabled = busy;
    this.button.textContent = busy ? "Signing in…" : "Sign in";
    this.form.setAttribute("aria-busy", String(busy));
  }
}

/**
 * The header's "Signed in as … / Sign out" area, kept in step with the session.
 * `onSignOut` returns a promise: the button says "Signing out…" until it settles
 * (sign-out first asks Cognito to revoke the session, for a few seconds at most).
 */
export function renderSessionArea(container, session, onSignOut) {
  if (!session.signedIn) {
    replaceChildren(container);
    return;
  }
  const button = h("button", { type: "button", class: "button button--header", dataset: { signOut: "" }, text: "Sign out" });
  button.addEventListener("click", () => {
    button.disabled = true;
    button.textContent = "Signing out…";
    onSignOut();
  });
  replaceChildren(
    container,
    h(
      "span",
      { class: "session__who" },
      "Signed in as ",
      // The email stays one hover away: two agents may share a name.
      h("strong", { dataset: { sessionUser: "" }, title: session.username || null, text: session.displayName || "an agent" }),
    ),
    button,
  );
}
