// Labels for the API's enum values, and dates a person reads.

export const CATEGORIES = ["billing", "technical", "account", "general"];
export const PRIORITIES = ["low", "medium", "high", "critical"];
export const STATUSES = ["open", "in_progress", "resolved", "closed"];

const LABELS = {
  billing: "Billing",
  technical: "Technical",
  account: "Account",
  general: "General",
  low: "Low",
  medium: "Medium",
  high: "High",
  critical: "Critical",
  open: "Open",
  in_progress: "In progress",
  resolved: "Resolved",
  closed: "Closed",
  title: "Title",
  description: "Description",
  category: "Category",
  priority: "Priority",
  status: "Status",
};

/** The human label of an enum value or field name (falls back to the raw value). */
export function label(value) {
  if (value === null || value === undefined || value === "") return "—";
  return LABELS[value] ?? String(value);
}

/** `[value, label]` pairs for a select. */
export function choices(values) {
  return values.map((value) => [value, label(value)]);
}

export function sourceLabel(source) {
  if (source === "llm") return "AI";
  if (source === "fallback") return "offline classifier";
  return "no classifier";
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const STEPS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "5 minutes ago", "yesterday", "just now". */
export function age(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(seconds)) return "";
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of STEPS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds / 60), "minute");
}

const relativeShort = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

/** "5 min. ago", "yesterday": `age()` for narrow columns. */
export function shortAge(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(seconds)) return "";
  if (Math.abs(seconds) < 45) return "just now";
  const [unit, size] = STEPS.find(([, step]) => Math.abs(seconds) >= step) ?? ["minute", 60];
  return relativeShort.format(Math.round(seconds / size), unit);
}

/** "27 Nov 2026, 14:05" in the reader's locale and time zone. */
export function dateTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : absolute.format(date);
}

/** The first `max` characters on a word boundary, with an ellipsis. */
export function truncate(text, max = 140) {
  const flat = String(text ?? "").replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export function percent(part, total) {
  return total > 0 ? Math.round((part / total) * 100) : 0;
}
