// What customers read when something goes wrong, in one place for the customers' pages
// (the form and the private page). api.js's messages are written for agents: they name
// the API's address and the HTTP status, which an agent can report. A customer can do
// nothing with "HTTP 502" or "http://127.0.0.1:8000", so these pages show plain words,
// and never the API's programmer-facing text.

import { ApiError } from "./api.js";

/**
 * A plain sentence (or two) for a failed request on a customer's page.
 * @param {unknown} error  what the api.js call threw
 * @param {{textKept?: boolean}} options  textKept: what the person typed is still on the page
 */
export function customerErrorText(error, { textKept = false } = {}) {
  const kept = textKept ? "Your text is kept; please" : "Please";
  if (error instanceof ApiError && error.kind === "config") {
    return `This page cannot reach our service: it is not set up correctly. ${kept} try again later.`;
  }
  if (error instanceof ApiError && error.status === 429) {
    return `We are receiving a lot of requests right now. ${kept} try again in a minute.`;
  }
  const unreachable = error instanceof ApiError && (error.kind === "network" || error.kind === "timeout" || error.status >= 500);
  if (unreachable) return `We can't reach our service right now. ${kept} try again in a few minutes.`;
  // Another refusal the page did not expect, or a bug: nothing the customer can fix either.
  return `Something went wrong on our side. ${kept} try again in a few minutes.`;
}
