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

/**
 * One sentence for a field's problem: `name` and the API's (or the form's) fragment,
 * ending with exactly one full stop. The API's fragments look like "must not be blank",
 * "must be at most 200 characters (got 205)" or "is not a valid email address (The part
 * after the @-sign is not valid. It should have a period.)"; a bracketed sentence becomes
 * a sentence of its own, so the page never prints ".).".
 */
export function fieldSentence(name, fragment) {
  let text = `${name} ${String(fragment ?? "").trim()}`.trim();
  const aside = text.match(/^(.*\S)\s*\(([A-Z][^()]*)\)$/);
  if (aside) text = `${aside[1].replace(/[.:;,]$/, "")}. ${aside[2].trim()}`;
  return /[.!?]["')\]]?$/.test(text) ? text : `${text}.`;
}

/**
 * What is wrong with an email address, as a fragment after "Email", or null. The common
 * mistakes the API (email-validator) refuses but a browser's `type=email` accepts or
 * words vaguely, so the form can report them with the other fields in one round; the
 * API still decides (it also refuses reserved domains such as `example.invalid`).
 */
export function emailProblem(value) {
  const address = String(value ?? "").trim();
  const example = "like name@example.com";
  if (!address) return "is required, so that we can answer you";
  if (/\s/.test(address)) return "must not contain spaces";
  const parts = address.split("@");
  if (parts.length === 1) return `needs an @, ${example}`;
  if (parts.length > 2) return `must contain only one @, ${example}`;
  const [local, domain] = parts;
  if (!local) return `needs your name or address before the @, ${example}`;
  if (!domain) return `needs a domain after the @, ${example}`;
  if (!domain.includes(".")) return `needs a dot in the part after the @, ${example}`;
  if (address.includes("..")) return "must not have two dots in a row";
  if (/^\.|\.$/.test(local) || /^\.|\.$/.test(domain)) return "must not have a dot right before or after the @, or at either end";
  if (address.length > 254) return "must be at most 254 characters";
  return null;
}
