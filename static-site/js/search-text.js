// What a search looks for, said the way the API reads it (no DOM apart from <mark>):
// ticket references, the words to highlight, and an excerpt around the first match.
//
// Highlighting builds Text nodes and <mark> elements through h(): the text of a
// ticket or of the query never becomes markup, whatever characters it holds.

import { h } from "./dom.js";

const WORD = /[\p{L}\p{N}]+/gu;
const NUMBER_REF = /^#?(\d{1,9})$/;
const SHORT_REF = /^#?([a-z2-7]{8})$/;
const TICKET_ID = /^#?([a-z2-7]{24})$/;
// The API matches the first 20 characters of a query word as a prefix.
const PREFIX_LENGTH = 20;

/**
 * A ticket reference: `{kind: "number"|"short"|"id", value, text}`, or null.
 * `strict` (the list's search box) only takes what cannot be a word search:
 * `#1042`, `#3ykzwkda` or a full id. Otherwise (the header's jump box) a bare
 * `1042` or `3ykzwkda` counts too.
 */
export function parseReference(input, { strict = false } = {}) {
  const text = String(input ?? "").trim().toLowerCase();
  const hashed = text.startsWith("#");
  let match = text.match(TICKET_ID);
  if (match) return { kind: "id", value: match[1], text: `#${match[1].slice(0, 8)}` };
  match = text.match(NUMBER_REF);
  if (match && (hashed || !strict)) {
    const number = String(Number.parseInt(match[1], 10));
    return { kind: "number", value: number, text: `#${number}` };
  }
  match = text.match(SHORT_REF);
  if (match && (hashed || !strict)) return { kind: "short", value: match[1], text: `#${match[1]}` };
  return null;
}

/** Case- and accent-insensitive form of a word ("Réfund" → "refund"). */
export function fold(text) {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The folded words of a query worth highlighting (references and emails are not). */
export function searchWords(query) {
  if (!query || parseReference(query, { strict: true })) return [];
  const words = new Set();
  for (const token of query.split(/\s+/)) {
    if (!token || token.includes("@")) continue;
    for (const [word] of token.matchAll(WORD)) words.add(fold(word).slice(0, PREFIX_LENGTH));
  }
  return [...words];
}

function matches(word, words) {
  const folded = fold(word);
  return words.some((query) => (query.length >= 2 ? folded.startsWith(query) : folded === query));
}

/** `text` as Text nodes and <mark>s around every word a query word matches. */
export function highlighted(text, words) {
  const source = String(text ?? "");
  if (!words.length) return [source];
  const parts = [];
  let last = 0;
  for (const match of source.matchAll(WORD)) {
    if (!matches(match[0], words)) continue;
    if (match.index > last) parts.push(source.slice(last, match.index));
    parts.push(h("mark", { text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return parts;
}

/** About `max` characters of `text` around the first matching word (whitespace flattened). */
export function excerpt(text, words, max = 160) {
  const flat = String(text ?? "").replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  let start = 0;
  for (const match of flat.matchAll(WORD)) {
    if (matches(match[0], words)) {
      start = Math.max(0, match.index - 40);
      break;
    }
  }
  if (start > 0) {
    const space = flat.indexOf(" ", start);
    if (space !== -1 && space < start + 20) start = space + 1;
  }
  const end = Math.min(flat.length, start + max);
  return `${start > 0 ? "…" : ""}${flat.slice(start, end)}${end < flat.length ? "…" : ""}`;
}
