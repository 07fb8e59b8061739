// The submit form's unsent draft, kept in localStorage so a reload, a closed tab or a
// crashed browser does not lose a half-written ticket (docs/frontend.md says why
// localStorage and not sessionStorage). It holds only what the person typed, never a
// ticket's private link; it is removed when the ticket is sent or the person discards
// it, and ignored once it is older than MAX_AGE_MS.

const STORAGE_KEY = "support-desk.draft";
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const FIELDS = ["title", "description", "customer_email", "customer_name", "category", "priority"];

/** `{fields: {...}, savedAt: Date}` or null (none, expired, unreadable, storage off). */
export function loadDraft(now = Date.now()) {
  let saved;
  try {
    saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
  } catch {
    return null;
  }
  if (!saved || typeof saved !== "object" || typeof saved.savedAt !== "number") return null;
  if (now - saved.savedAt > MAX_AGE_MS) {
    clearDraft();
    return null;
  }
  const fields = {};
  for (const name of FIELDS) fields[name] = typeof saved.fields?.[name] === "string" ? saved.fields[name] : "";
  if (!FIELDS.some((name) => fields[name])) return null;
  return { fields, savedAt: new Date(saved.savedAt) };
}

/** Keep `fields` (an empty form removes the draft). */
export function saveDraft(fields) {
  const kept = Object.fromEntries(FIELDS.map((name) => [name, String(fields[name] ?? "")]));
  if (!FIELDS.some((name) => kept[name])) {
    clearDraft();
    return;
  }
  try {
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ fields: kept, savedAt: Date.now() }));
  } catch {
    // Storage full or disabled: the form still works, only without a draft.
  }
}

export function clearDraft() {
  try {
    window.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing to clear.
  }
}
