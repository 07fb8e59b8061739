// Keyboard shortcuts of the tickets list (no DOM building). They never fire while the
// person is typing in a field, nor with Ctrl, Alt or Meta held (those belong to the
// browser and to assistive technology), nor while a dialog is open.

/** The shortcuts, in the order the help dialog lists them. */
export const SHORTCUTS = Object.freeze([
  ["j", "Next ticket"],
  ["k", "Previous ticket"],
  ["Enter", "Open the current ticket"],
  ["x", "Select or unselect the current ticket"],
  ["/", "Search"],
  ["u", "Undo your last change (while its Undo is shown)"],
  ["?", "Show these shortcuts"],
]);
const KEYS = new Set(SHORTCUTS.map(([key]) => key));
const NOT_TYPING = new Set(["checkbox", "radio", "button", "submit", "reset", "image", "file", "color", "range"]);
const ACTIVATES_ITSELF = "a[href], button, input, select, textarea, summary, [contenteditable]";

/** True while `target` takes typed characters: text inputs, textareas, selects, contenteditable. */
export function isTypingTarget(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !NOT_TYPING.has(target.type);
  return false;
}

/** The shortcut a keydown is, or null. */
export function shortcutFor(event) {
  if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return null;
  if (isTypingTarget(event.target)) return null;
  if (document.querySelector("dialog[open]")) return null;
  // "?" is typed with Shift on most layouts; every other shortcut is a plain key.
  if (event.shiftKey && event.key !== "?") return null;
  if (!KEYS.has(event.key)) return null;
  // Enter on a link, button or checkbox does what that control does.
  if (event.key === "Enter" && event.target instanceof Element && event.target.closest(ACTIVATES_ITSELF)) return null;
  return event.key;
}
