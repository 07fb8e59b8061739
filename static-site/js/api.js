// Every call to the ticket API goes through this module, and every request through
// `request()`: one place for the base URL, headers, the agent's token, timeouts and
// error mapping.

import { MESSAGES, SessionError, session } from "./session.js";

const DEFAULT_TIMEOUT_MS = 15000;
// A create with an Idempotency-Key is safe to send again: if the first attempt reached
// the API and only its answer was lost, the API answers the retry with that ticket.
const CREATE_ATTEMPTS = 3;
const MAX_RETRY_WAIT_MS = 5000;

/** A failed API call, with what a person needs to be told. */
export class ApiError extends Error {
  /**
   * @param {string} message  plain words, safe to show
   * @param {{status?: number, body?: any, kind?: string, retryAfter?: number|null}} details
   *   kind: "network" (API unreachable), "timeout", "http" (an error status), "config",
   *   "auth" (no usable sign-in: the session module has already said so);
   *   status 401 means an agent must sign in; retryAfter is the Retry-After in seconds
   */
  constructor(message, { status = 0, body = null, kind = "http", retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.kind = kind;
    this.retryAfter = retryAfter;
  }

  /** Field-level validation messages from a 400: `{title: "must not be blank"}`. */
  get fields() {
    const fields = this.body && typeof this.body === "object" ? this.body.fields : null;
    return fields && typeof fields === "object" ? fields : {};
  }

  get isConflict() {
    return this.status === 412;
  }

  /** With a 412: the ticket as the server holds it now (the API sends it along), or null. */
  get current() {
    const current = this.body && typeof this.body === "object" ? this.body.current : null;
    return current && typeof current === "object" && typeof current.id === "string" ? current : null;
  }
}

function readConfig() {
  const config = window.SUPPORT_DESK_CONFIG;
  if (!config || typeof config.apiBaseUrl !== "string" || !config.apiBaseUrl) {
    return null;
  }
  try {
    const url = new URL(config.apiBaseUrl, window.location.href);
    return { base: url.href.replace(/\/+$/, ""), origin: url.origin };
  } catch {
    return null;
  }
}

const config = readConfig();

/** The API origin (e.g. `http://127.0.0.1:8000`), or null when config.js is missing. */
export const apiOrigin = config ? config.origin : null;

/**
 * Headers for one request. The single place where credentials and idempotency
 * keys are added. `token` is the signed-in agent's ID token, only for agents' routes.
 */
function headersFor({ body, ifMatch, idempotencyKey, ticketKey, token }) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch) headers["If-Match"] = ifMatch;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  // The customer's private link secret: a header, so it never lands in a URL or a log.
  if (ticketKey) headers["X-Ticket-Key"] = ticketKey;
  return headers;
}

function urlFor(pathOrUrl, query) {
  if (!config) {
    throw new ApiError(
      "The site is not configured: config.js does not say where the API is. " +
        "Ask the administrator to redeploy the site.",
      { kind: "config" },
    );
  }
  // Operations name paths relative to the base URL ("tickets/"). The API's Link
  // header holds a path-absolute URL ("/api/tickets/?cursor=..."): resolve that
  // against the API origin, never the site's, and refuse to follow it elsewhere.
  const url = /^(\/|https?:)/.test(pathOrUrl)
    ? new URL(pathOrUrl, config.origin)
    : new URL(`${config.base}/${pathOrUrl}`);
  if (url.origin !== config.origin) {
    throw new ApiError("The API sent a link to another site; it was not followed.", { kind: "config" });
  }
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  return url;
}

function describeStatus(status, body) {
  // The API's 401 text is written for programmers ("send a ... Bearer token").
  if (status === 401) return MESSAGES.expired;
  const fromApi = body && typeof body.error === "string" ? body.error : "";
  if (fromApi) return fromApi;
  if (status === 429) return "Too many requests; please wait a moment and try again.";
  if (status >= 500) return `The support desk API had a problem (HTTP ${status}). Please try again.`;
  return `The request failed (HTTP ${status}).`;
}

/** A SessionError as the ApiError the callers expect. */
function authError(error) {
  if (!(error instanceof SessionError)) return error;
  if (error.kind === "expired" || error.kind === "signedOut") {
    return new ApiError(error.message, { status: 401, kind: "auth" });
  }
  return new ApiError(error.message, { kind: error.kind === "config" ? "config" : "network" });
}

/**
 * One HTTP request to the API. Resolves to `{data, headers, status}`;
 * rejects with ApiError (or the AbortError when the caller's signal aborted it).
 * `agent: true` sends the signed-in agent's ID token. When the API refuses it (401),
 * the token is refreshed once and the request sent once more; if that fails too,
 * the session ends ("expired") and the page shows the sign-in form.
 */
async function request(method, path, options = {}) {
  if (!options.agent) return send(method, path, options, null);
  let token;
  try {
    token = await session.idToken();
  } catch (error) {
    throw authError(error);
  }
  try {
    return await send(method, path, options, token);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
  }
  try {
    token = await session.tokenAfterRejection(token);
  } catch (error) {
    throw authError(error);
  }
  try {
    return await send(method, path, options, token);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      session.expire();
      throw new ApiError(MESSAGES.expired, { status: 401, kind: "auth" });
    }
    throw error;
  }
}

async function send(method, path, { query, body, ifMatch, idempotencyKey, ticketKey, signal, timeoutMs } = {}, token) {
  const url = urlFor(path, query);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const onCallerAbort = () => timeout.abort(signal.reason);
  if (signal) {
    if (signal.aborted) timeout.abort(signal.reason);
    else signal.addEventListener("abort", onCallerAbort, { once: true });
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: headersFor({ body, ifMatch, idempotencyKey, ticketKey, token }),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: timeout.signal,
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    if (signal && signal.aborted) throw error; // the caller cancelled: not a failure
    if (timeout.signal.aborted) {
      throw new ApiError("The support desk API did not answer in time. Please try again.", {
        kind: "timeout",
      });
    }
    throw new ApiError(
      `Cannot reach the support desk API (${config.origin}). ` +
        "Check your connection; the service may be down. Please try again in a moment.",
      { kind: "network" },
    );
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener("abort", onCallerAbort);
  }
  let data = null;
  if (response.status !== 204) {
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
  }
  if (!response.ok) {
    const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    throw new ApiError(describeStatus(response.status, data), {
      status: response.status,
      body: data,
      retryAfter: Number.isFinite(retryAfter) ? retryAfter : null,
    });
  }
  return { data, headers: response.headers, status: response.status };
}

/** The URL of the next page from a `Link: <...>; rel="next"` header, or null. */
export function nextLink(linkHeader) {
  if (!linkHeader) return null;
  for (const part of linkHeader.split(",")) {
    const match = part.match(/<([^>]+)>\s*;\s*rel="?next"?/i);
    if (match) return match[1];
  }
  return null;
}

function versionTag(version) {
  return `"v${version}"`;
}

/** A fresh key per distinct submission (sent as Idempotency-Key). */
export function newIdempotencyKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- The API, one function per operation ----

/**
 * A page of tickets.
 * @param {{category?: string, priority?: string, status?: string, assignee?: string,
 *          search?: string, sort?: string, limit?: number}|string} queryOrNextUrl
 *   filters (status may be "unsolved"; assignee an email, "me" or "none"; sort "newest",
 *   "oldest" or "priority") for the first page, or the `next` URL of the previous page
 */
export async function listTickets(queryOrNextUrl, { signal } = {}) {
  const { data, headers } =
    typeof queryOrNextUrl === "string"
      ? await request("GET", queryOrNextUrl, { signal, agent: true })
      : await request("GET", "tickets/", { query: queryOrNextUrl, signal, agent: true });
  return {
    tickets: Array.isArray(data) ? data : [],
    next: nextLink(headers.get("Link")),
    examined: Number(headers.get("X-Search-Examined")) || null,
  };
}

export async function getTicket(id, { signal } = {}) {
  const { data } = await request("GET", `tickets/${encodeURIComponent(id)}/`, { signal, agent: true });
  return data;
}

/** The ticket with this number (`#1042`), or an ApiError with status 404. */
export async function getTicketByNumber(number, { signal } = {}) {
  const { data } = await request("GET", `tickets/by-number/${encodeURIComponent(number)}/`, { signal, agent: true });
  return data;
}

/** One page of a ticket's messages, oldest first: `{messages, next}`. */
export async function getMessages(idOrNextUrl, { signal } = {}) {
  const path = idOrNextUrl.startsWith("/") ? idOrNextUrl : `tickets/${encodeURIComponent(idOrNextUrl)}/messages/`;
  const { data, headers } = await request("GET", path, { signal, agent: true });
  return { messages: Array.isArray(data) ? data : [], next: nextLink(headers.get("Link")) };
}

/** Every message of a ticket (follows the pages). */
export async function getAllMessages(id, { signal } = {}) {
  const all = [];
  let next = id;
  while (next) {
    const page = await getMessages(next, { signal });
    all.push(...page.messages);
    next = page.next;
  }
  return all;
}

/**
 * A reply (emailed to the customer) or an internal note, optionally setting the status.
 * Resolves to `{message, version}`: the ticket's new version, for the next If-Match.
 */
export async function postMessage(id, { body, internal = false, status }) {
  const payload = { body, internal };
  if (status) payload.status = status;
  const { data, headers } = await request("POST", `tickets/${encodeURIComponent(id)}/messages/`, { body: payload, agent: true });
  const etag = headers.get("ETag");
  const version = etag ? Number.parseInt(etag.replace(/\D+/g, ""), 10) : null;
  return { message: data, version };
}

/** The emails sent to the customer about a ticket (and those not sent, with why). */
export async function getEmails(id, { signal } = {}) {
  const { data } = await request("GET", `tickets/${encodeURIComponent(id)}/emails/`, { signal, agent: true });
  return Array.isArray(data) ? data : [];
}

/** Email the customer a new private link (the old one stops working). */
export async function renewLink(id) {
  const { data } = await request("POST", `tickets/${encodeURIComponent(id)}/access-link/`, { agent: true });
  return data;
}

/** The agents of the desk (for the assignee controls). */
export async function listAgents({ signal } = {}) {
  const { data } = await request("GET", "agents/", { signal, agent: true });
  return Array.isArray(data) ? data : [];
}

/**
 * Change up to 100 tickets at once: `items` = [{id, version, changes}]. Resolves to
 * `[{id, status, ticket?, error?, current?}]`, one result per item, in order.
 * One write per item: it may take longer than a single change, hence its own timeout.
 */
export async function bulkUpdate(items) {
  const { data } = await request("POST", "tickets/bulk/", { body: { items }, agent: true, timeoutMs: 60000 });
  return data && Array.isArray(data.results) ? data.results : [];
}

/** The customer's view of a ticket through its private link (no sign-in). */
export async function getPublicTicket(id, key, { signal } = {}) {
  const { data } = await request("GET", `public/tickets/${encodeURIComponent(id)}/`, { signal, ticketKey: key });
  return data;
}

/** The customer's message on their ticket (reopens a resolved one). */
export async function postPublicMessage(id, key, body) {
  const { data } = await request("POST", `public/tickets/${encodeURIComponent(id)}/messages/`, { body: { body }, ticketKey: key });
  return data;
}

export async function getHistory(id, { signal } = {}) {
  const { data } = await request("GET", `tickets/${encodeURIComponent(id)}/history/`, { signal, agent: true });
  return Array.isArray(data) ? data : [];
}

/**
 * Create a ticket (public: no sign-in). With an `idempotencyKey`, a lost answer
 * (network failure, timeout) or a 409/503 with Retry-After is retried with the same
 * key, up to 3 attempts in all: the API returns the ticket the first attempt made
 * instead of making a second one.
 */
export async function createTicket(fields, { idempotencyKey } = {}) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { data } = await request("POST", "tickets/", { body: fields, idempotencyKey });
      return data;
    } catch (error) {
      const wait = idempotencyKey && attempt < CREATE_ATTEMPTS ? retryWait(error, attempt) : null;
      if (wait === null) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function retryWait(error, attempt) {
  if (!(error instanceof ApiError)) return null;
  if (error.kind === "network" || error.kind === "timeout") return 400 * attempt;
  if ((error.status === 409 || error.status === 503) && error.retryAfter !== null) {
    return Math.min(error.retryAfter * 1000, MAX_RETRY_WAIT_MS);
  }
  return null;
}

/**
 * PATCH with If-Match: a 412 (ApiError.isConflict) means someone else changed it first.
 * `changes` may hold title, description, category, priority, status and assignee (an
 * agent's email, or null to unassign).
 */
export async function updateTicket(id, changes, version) {
  const { data } = await request("PATCH", `tickets/${encodeURIComponent(id)}/`, {
    body: changes,
    ifMatch: versionTag(version),
    agent: true,
  });
  return data;
}

export async function getStats({ signal } = {}) {
  const { data } = await request("GET", "tickets/stats/", { signal, agent: true });
  return data;
}

/** `{suggested_category, suggested_priority, source, warning?}`; pass a signal to abort it. */
export async function classify({ title, description }, { signal } = {}) {
  const body = title ? { title, description } : { description };
  const { data } = await request("POST", "tickets/classify/", { body, signal, timeoutMs: 12000 });
  return data;
}
