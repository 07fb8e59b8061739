// The agents' unsent replies and internal notes, one per ticket, kept in localStorage so
// an expired session, a trip to another page, Back/Forward, a reload or a closed tab
// does not lose them. The key names the ticket and the mode
// ("support-desk.composer.<id>.note"): restoring a note as a reply would email the
// customer what was meant for agents, so the mode comes back with the text. The box
// holds one text at a time; when the agent switches mode, the text moves to the new
// mode's key. A draft is removed when it is sent, when the box is emptied and when the
// agent signs out (localStorage outlives the tab on a shared PC); it is ignored once
// older than MAX_AGE_MS.

const PREFIX = "support-desk.composer.";
const MODES = ["reply", "note"];
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

function keyFor(ticketId, mode) {
  return `${PREFIX}${ticketId}.${mode}`;
}

function read(key) {
  try {
    const saved = JSON.parse(window.localStorage.getItem(key) || "null");
    return saved && typeof saved.body === "string" && typeof saved.savedAt === "number" ? saved : null;
  } catch {
    return null;
  }
}

function remove(key) {
  try {
    window.localStorage.removeItem(key);
  } catch {
    // Storage disabled: nothing was kept.
  }
}

/** The ticket's draft, `{mode, body, savedAt: Date}` (the newer mode's), or null. */
export function loadComposerDraft(ticketId, now = Date.now()) {
  let found = null;
  for (const mode of MODES) {
    const saved = read(keyFor(ticketId, mode));
    if (!saved) continue;
    if (now - saved.savedAt > MAX_AGE_MS || !saved.body.trim()) {
      remove(keyFor(ticketId, mode));
      continue;
    }
    if (!found || saved.savedAt > found.savedAt.getTime()) found = { mode, body: saved.body, savedAt: new Date(saved.savedAt) };
  }
  return found;
}

/** Keep `body` as the ticket's draft in `mode` (the other mode's draft is dropped). */
export function saveComposerDraft(ticketId, mode, body) {
  for (const other of MODES) if (other !== mode) remove(keyFor(ticketId, other));
  if (!body.trim()) {
    remove(keyFor(ticketId, mode));
    return;
  }
  try {
    window.localStorage.setItem(keyFor(ticketId, mode), JSON.stringify({ body, savedAt: Date.now() }));
  } catch {
    // Storage full or disabled: the box still works, only without a draft.
  }
}

/** Forget the ticket's draft (it was sent). */
export function clearComposerDraft(ticketId) {
  for (const mode of MODES) remove(keyFor(ticketId, mode));
}

/** Forget every ticket's draft (the agent signed out). */
export function clearAllComposerDrafts() {
  try {
    const keys = [];
    for (let index = 0; index < window.localStorage.length; index += 1) {
      const key = window.localStorage.key(index);
      if (key && key.startsWith(PREFIX)) keys.push(key);
    }
    for (const key of keys) remove(key);
  } catch {
    // Storage disabled: nothing was kept.
  }
}
