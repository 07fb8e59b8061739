// The tickets queue's query (no DOM): what the address bar may ask for, the views
// every agent has, and the views an agent saves in this browser.
//
// A bare "#/tickets" is the default view, "Unsolved, by priority". Any other address
// says exactly what it shows (no filter means every status, no sort means newest),
// so a link, a reload or Back shows the same list.

import { CATEGORIES, PRIORITIES, STATUSES, label, truncate } from "./format.js";
import { EMPTY_QUERY } from "./store.js";

export const LIST_STATUSES = ["unsolved", ...STATUSES];
export const SORTS = ["newest", "oldest", "priority"];
/** The API's limit (a longer search is a 400). */
export const MAX_SEARCH_LENGTH = 200;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HAS_WORD = /[\p{L}\p{N}]/u;

export const DEFAULT_VIEW = Object.freeze({ ...EMPTY_QUERY, status: "unsolved", sort: "priority" });

/** The views every agent has; "Mine" is `assignee=me`. */
export const BUILT_IN_VIEWS = Object.freeze([
  { id: "unsolved", name: "Unsolved, by priority", query: DEFAULT_VIEW },
  { id: "mine", name: "Mine", query: { ...DEFAULT_VIEW, assignee: "me" } },
  { id: "unassigned", name: "Unassigned", query: { ...DEFAULT_VIEW, assignee: "none" } },
  { id: "all", name: "All, newest first", query: { ...EMPTY_QUERY, sort: "newest" } },
]);

const QUERY_LABELS = {
  unsolved: "Unsolved",
  newest: "Newest first",
  oldest: "Oldest first",
  priority: "Priority (critical first, then oldest)",
};

/** Label of a list status or sort value ("Unsolved", "Newest first"), else the enum label. */
export function queryLabel(value) {
  return QUERY_LABELS[value] ?? label(value);
}

/** A query with exactly the list's fields, in their order (so queries compare as JSON). */
export function normalQuery(values = {}) {
  const query = {};
  for (const name of Object.keys(EMPTY_QUERY)) query[name] = typeof values[name] === "string" ? values[name] : "";
  return query;
}

export function sameQuery(a, b) {
  return JSON.stringify(normalQuery(a)) === JSON.stringify(normalQuery(b));
}

/** Why a search cannot be sent ("" when it can): the API's own rules, said for people. */
export function searchProblem(text) {
  if (!text) return "";
  if (text.length > MAX_SEARCH_LENGTH) {
    return `a search can be at most ${MAX_SEARCH_LENGTH} characters (this one has ${text.length})`;
  }
  if (!HAS_WORD.test(text)) return "a search needs at least one letter or digit";
  return "";
}

/**
 * The list query an address asks for: `{query, problems}`. A value the API would
 * refuse is reset (to "any", or no search) and explained in `problems`
 * (`[{field, message}]`), so a bad link shows a sentence, never a raw API error.
 */
export function readListQuery(raw) {
  const given = Object.keys(EMPTY_QUERY).filter((name) => typeof raw[name] === "string" && raw[name] !== "");
  if (given.length === 0) return { query: { ...DEFAULT_VIEW }, problems: [], isDefault: true };
  const query = normalQuery(raw);
  query.search = query.search.trim();
  const problems = [];
  const reject = (field, message) => {
    query[field] = "";
    problems.push({ field, message });
  };
  const shown = (value) => `“${truncate(value, 40)}”`;
  if (query.status && !LIST_STATUSES.includes(query.status)) {
    reject("status", `The address asked for the status ${shown(query.status)}, which does not exist: showing every status.`);
  }
  if (query.category && !CATEGORIES.includes(query.category)) {
    reject("category", `The address asked for the category ${shown(query.category)}, which does not exist: showing every category.`);
  }
  if (query.priority && !PRIORITIES.includes(query.priority)) {
    reject("priority", `The address asked for the priority ${shown(query.priority)}, which does not exist: showing every priority.`);
  }
  if (query.sort && !SORTS.includes(query.sort)) {
    reject("sort", `The address asked to sort by ${shown(query.sort)}, which is not a sort order: showing the newest first.`);
  }
  if (query.assignee && !["me", "none"].includes(query.assignee) && !(EMAIL.test(query.assignee) && query.assignee.length <= 254)) {
    reject("assignee", `The address asked for tickets assigned to ${shown(query.assignee)}, which is not an agent's email: showing everyone's tickets.`);
  }
  const problem = searchProblem(query.search);
  if (problem) reject("search", `The search in the address could not be used (${problem}), so it was cleared.`);
  return { query, problems, isDefault: false };
}

/** A person's sentence for a list field the API refused (a 400 naming it), and the reset. */
export function refusedFieldMessage(field, value) {
  const shown = `“${truncate(value, 40)}”`;
  if (field === "assignee") return `${shown} is not an agent of this desk: showing everyone's tickets.`;
  if (field === "search") return `The search ${shown} could not be used, so it was cleared.`;
  if (field === "cursor") return "The list had to start again from the first page.";
  return `${label(field)} ${shown} is not a choice the desk knows: showing every ${label(field).toLowerCase()}.`;
}

/** "Unsolved · Billing · assigned to me · by priority" for headings and file names. */
export function describeQuery(query) {
  const parts = [];
  if (query.status) parts.push(queryLabel(query.status));
  if (query.category) parts.push(label(query.category));
  if (query.priority) parts.push(`${label(query.priority)} priority`);
  if (query.assignee === "me") parts.push("assigned to me");
  else if (query.assignee === "none") parts.push("unassigned");
  else if (query.assignee) parts.push(`assigned to ${query.assignee}`);
  if (query.search) parts.push(`matching “${truncate(query.search, 40)}”`);
  return parts.length ? parts.join(" · ") : "All tickets";
}

/** "critical first, then oldest" */
export function describeSort(sort) {
  if (sort === "priority") return "critical first, then oldest first";
  if (sort === "oldest") return "oldest first";
  return "newest first";
}

// ---- Saved views: a name and a query, in this browser's localStorage ----

const STORAGE_KEY = "support-desk.saved-views";
const MAX_VIEWS = 30;
const MAX_NAME = 60;

/**
 * The views an agent named. Kept in localStorage (not sessionStorage: a view is worth
 * keeping across tabs and restarts, and it holds no secret, only filters).
 * Events: "change".
 */
export class SavedViews extends EventTarget {
  #storage;

  constructor(storage = window.localStorage) {
    super();
    this.#storage = storage;
  }

  /** `[{name, query}]`, in the order saved; whatever is unreadable is skipped. */
  list() {
    let stored;
    try {
      stored = JSON.parse(this.#storage.getItem(STORAGE_KEY) ?? "[]");
    } catch {
      return [];
    }
    if (!Array.isArray(stored)) return [];
    return stored
      .filter((view) => view && typeof view.name === "string" && view.name.trim() && view.query && typeof view.query === "object")
      .map((view) => ({ name: view.name.trim().slice(0, MAX_NAME), query: readListQuery(view.query).query }));
  }

  /** Save (or replace, by name) a view; throws an Error with a sentence when it cannot. */
  save(name, query) {
    const clean = String(name ?? "").trim();
    if (!clean) throw new Error("Give the view a name.");
    if (clean.length > MAX_NAME) throw new Error(`A view's name can be at most ${MAX_NAME} characters.`);
    const views = this.list().filter((view) => view.name.toLowerCase() !== clean.toLowerCase());
    if (views.length >= MAX_VIEWS) throw new Error(`You can keep at most ${MAX_VIEWS} views; delete one first.`);
    views.push({ name: clean, query: normalQuery(query) });
    this.#write(views);
    return clean;
  }

  remove(name) {
    this.#write(this.list().filter((view) => view.name !== name));
  }

  #write(views) {
    try {
      this.#storage.setItem(STORAGE_KEY, JSON.stringify(views));
    } catch {
      throw new Error("This browser does not let the site keep views (storage is full or disabled).");
    }
    this.dispatchEvent(new CustomEvent("change"));
  }
}
