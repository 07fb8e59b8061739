// The single entry point: create the store and the views, route on the hash, and
// put the sign-in form in front of the agents' views while nobody is signed in.

import { apiOrigin } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { hashFor, parseRoute } from "./router.js";
import { MESSAGES, session } from "./session.js";
import { DeskStore } from "./store.js";
import { clearAllComposerDrafts } from "./composer-drafts.js";
import { errorNotice } from "./components/notice.js";
import { JumpBox } from "./components/jump-box.js";
import { DashboardView } from "./views/dashboard-view.js";
import { MyTicketView } from "./views/my-ticket-view.js";
import { SignInView, renderSessionArea } from "./views/signin-view.js";
import { SubmitView } from "./views/submit-view.js";
import { TicketView } from "./views/ticket-view.js";
import { TicketsView } from "./views/tickets-view.js";

const outlet = document.querySelector("[data-outlet]");
const announcer = document.querySelector("[data-announcer]");
const sessionArea = document.querySelector("[data-session]");
const jumpArea = document.querySelector("[data-jump]");
const store = new DeskStore();
const signInView = new SignInView(session);
/** Routes only a signed-in agent may see; the customers' form is open to everyone. */
const AGENT_ROUTES = new Set(["tickets", "ticket", "dashboard"]);

const views = {
  new: new SubmitView(store),
  tickets: new TicketsView(store),
  ticket: new TicketView(store),
  dashboard: new DashboardView(store),
  "my-ticket": new MyTicketView(store),
};
const checkingView = {
  element: h("p", { class: "loading", attrs: { role: "status" }, dataset: { checkingSession: "" }, text: "Checking your sign-in…" }),
  show() {},
  hide() {},
};
const NAV_FOR_ROUTE = { new: "new", tickets: "tickets", ticket: "tickets", dashboard: "dashboard" };

let current = null;

// The header's Tickets link goes back to the list as the agent last had it.
const ticketsLink = document.querySelector('[data-nav="tickets"]');
store.addEventListener("list", () => {
  ticketsLink.href = hashFor("/tickets", store.list.query);
});
const jumpBox = new JumpBox(store);
jumpArea?.append(jumpBox.element);

store.addEventListener("announce", (event) => {
  // Clear first so the same sentence twice is announced twice.
  announcer.textContent = "";
  window.setTimeout(() => {
    announcer.textContent = event.detail.text;
  }, 50);
});

function announce(text) {
  store.announce(text);
}

function signOut() {
  return session.signOut();
}

session.addEventListener("change", (event) => {
  const { reason, revoked, elsewhere } = event.detail;
  renderSessionArea(sessionArea, session, signOut);
  if (jumpArea) jumpArea.hidden = !session.signedIn;
  if (reason === "refreshed") return;
  if (reason === "signed-in") {
    announce(`Signed in as ${session.displayName}.`);
  } else if (reason === "expired") {
    signInView.setReason(MESSAGES.expired);
    announce(MESSAGES.expired);
  } else if (reason === "signed-out") {
    // Nothing an agent loaded stays in the page after they sign out (nor their unsent
    // replies and notes in this browser's storage; an expired session keeps them).
    store.reset();
    clearAllComposerDrafts();
    ticketsLink.href = "#/tickets";
    const text = elsewhere ? MESSAGES.signedOutElsewhere : revoked ? MESSAGES.signedOutHere : MESSAGES.notRevoked;
    signInView.setReason(text);
    announce(text);
    // Back to the sign-in form, wherever the agent was (another tab's sign-out leaves
    // a customer's form as it is, with what was typed in it).
    if (!elsewhere && !AGENT_ROUTES.has(parseRoute(window.location.hash).name)) {
      window.location.hash = "#/tickets";
      return; // hashchange routes
    }
  }
  route();
});

function route() {
  const hash = window.location.hash;
  if (hash && !hash.startsWith("#/")) return; // an in-page anchor, not a route
  const next = parseRoute(hash);
  const gated = AGENT_ROUTES.has(next.name) && !session.signedIn;
  // A new tab asks the other tabs for their session first (session.js): no form meanwhile.
  const view = gated ? (session.pending ? checkingView : signInView) : views[next.name];
  if (current && current !== view) current.hide();
  // Customers' pages get a header with the brand and "Submit a ticket" only (css/customer.css):
  // the private page always, the form unless an agent is signed in in this tab.
  document.body.dataset.audience =
    next.name === "my-ticket" || (next.name === "new" && !session.signedIn) ? "customer" : "agent";
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === NAV_FOR_ROUTE[next.name]) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!view) {
    current = null;
    document.title = "Page not found · Support desk";
    replaceChildren(
      outlet,
      h("section", { class: "view" }, h("h2", { tabIndex: -1, text: "Page not found" }), h("p", {}, "There is nothing at this address. ", h("a", { href: "#/new", text: "Submit a ticket" }), " or ", h("a", { href: "#/tickets", text: "see all tickets" }), ".")),
    );
    return;
  }
  const changed = current !== view;
  if (changed) replaceChildren(outlet, view.element);
  current = view;
  // A view that put the focus back where the agent was (the list) returns true.
  const focusPlaced = view.show(next) === true;
  // Moving between views: put keyboard and screen-reader focus on the new heading
  // (on the sign-in form, on its first empty field).
  if (view === signInView) {
    if (changed) signInView.focusTarget().focus();
  } else if (changed && !focusPlaced && document.readyState === "complete") {
    const heading = view.element.querySelector("h2[tabindex]");
    if (heading) heading.focus({ preventScroll: false });
  }
}

function start() {
  document.querySelector(".skip-link")?.addEventListener("click", (event) => {
    event.preventDefault();
    outlet.focus();
  });
  if (!apiOrigin) {
    replaceChildren(
      outlet,
      errorNotice(
        "The support desk is not configured.",
        new Error("config.js is missing or does not name the API (apiBaseUrl). Ask the administrator to redeploy the site."),
      ),
    );
    return;
  }
  renderSessionArea(sessionArea, session, signOut);
  if (jumpArea) jumpArea.hidden = !session.signedIn;
  window.addEventListener("hashchange", route);
  route();
}

start();
