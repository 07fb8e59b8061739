// Plain text people wrote (descriptions, replies, notes), shown a little richer and
// never as HTML: nothing here parses markup. The text is cut into three kinds of
// pieces, each made with h() / Text nodes:
//
// - fenced code blocks: a line starting with ``` opens one and the next such line
//   closes it (an unclosed fence runs to the end); shown in <pre><code>, monospaced,
//   line breaks and spaces kept, never linkified;
// - web addresses: http:// or https:// up to the next space, without trailing
//   punctuation (and without a closing bracket that has no opening one in the
//   address); only what `new URL()` parses as http/https becomes a link, with
//   rel="noopener noreferrer" and target=_blank; a host with non-ASCII letters is
//   shown in punycode (xn--…), so a look-alike host cannot pass for another;
// - everything else: Text nodes in a container whose CSS keeps line breaks.

import { h } from "../dom.js";

const FENCE = /^\s*```/;
const ONE_LINE_BLOCK = /^\s*```(.*\S.*?)```\s*$/;
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'"*_~]+$/;
const PAIRS = { ")": "(", "]": "[", "}": "{" };

/**
 * `[{kind: "text"|"code", text}]`: the text cut at fenced code blocks.
 * The fence lines themselves (``` and an optional language word) are dropped.
 */
export function splitFences(text) {
  const source = String(text ?? "");
  const lines = source.split(/\r?\n/);
  // Text without a fence is returned exactly as it is (line endings included).
  if (!lines.some((line) => FENCE.test(line))) return source ? [{ kind: "text", text: source }] : [];
  const parts = [];
  let buffer = [];
  let inCode = false;
  const flush = (kind) => {
    // Prose beside a code block loses the blank lines that touch the fence.
    const joined = kind === "code" ? buffer.join("\n") : buffer.join("\n").replace(/^\n+|\n+$/g, "");
    if (kind === "code" ? buffer.length > 0 : joined !== "") parts.push({ kind, text: joined });
    buffer = [];
  };
  for (const line of lines) {
    const oneLine = inCode ? null : line.match(ONE_LINE_BLOCK);
    if (oneLine) {
      flush("text");
      parts.push({ kind: "code", text: oneLine[1] });
      continue;
    }
    if (FENCE.test(line)) {
      flush(inCode ? "code" : "text");
      inCode = !inCode;
      continue;
    }
    buffer.push(line);
  }
  flush(inCode ? "code" : "text");
  return parts;
}

/** The end of a matched address that belongs to it (not the sentence around it). */
function trimAddress(candidate) {
  let address = candidate;
  for (;;) {
    const before = address;
    address = address.replace(TRAILING_PUNCTUATION, "");
    const last = address.at(-1);
    if (last in PAIRS) {
      const opens = address.split(PAIRS[last]).length - 1;
      const closes = address.split(last).length - 1;
      if (closes > opens) address = address.slice(0, -1);
    }
    if (address === before) return address;
  }
}

/** An http(s) URL object for `address`, or null (anything else stays text). */
export function safeUrl(address) {
  try {
    const url = new URL(address);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

/**
 * The address as written, except a host with non-ASCII letters, which is shown as the
 * browser will resolve it (punycode, `xn--…`): a look-alike such as `аpple.com` (with
 * a Cyrillic а) cannot pass for the real one.
 */
export function shownAddress(address, url) {
  const authority = address.match(/^(https?:\/\/)([^/?#]*)(.*)$/is);
  if (!authority || /^[\x21-\x7e]*$/.test(authority[2])) return address;
  const [, scheme, written, rest] = authority;
  const at = written.lastIndexOf("@");
  const userinfo = at >= 0 ? written.slice(0, at + 1) : "";
  return `${scheme}${userinfo}${url.host}${rest}`;
}

/** Text nodes and links for one stretch of prose. */
export function linkify(text) {
  const nodes = [];
  let last = 0;
  for (const match of String(text).matchAll(URL_PATTERN)) {
    const address = trimAddress(match[0]);
    const url = safeUrl(address);
    if (!url || address.length <= "https://".length) continue;
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    nodes.push(
      h("a", {
        href: url.href,
        text: shownAddress(address, url),
        class: "rich-text__link",
        attrs: { rel: "noopener noreferrer", target: "_blank" },
      }),
    );
    last = match.index + address.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

/**
 * A `<div class="rich-text">` showing `text`: line breaks kept, links made from
 * web addresses, fenced code blocks monospaced. `props` go to the container
 * (e.g. `{dataset: {ticketDescription: ""}}`).
 */
export function richText(text, props = {}) {
  const container = h("div", { ...props, class: ["rich-text", props.class].filter(Boolean).join(" ") });
  fillRichText(container, text);
  return container;
}

/** The text each container last rendered, so a refresh that changes nothing leaves it be. */
const rendered = new WeakMap();

/**
 * Replace the contents of an existing container with `text`, rendered as richText does.
 * The same text again leaves the container untouched, so a periodic refresh keeps the
 * reader's selection, and elements found in it stay in the page.
 */
export function fillRichText(container, text) {
  if (rendered.has(container) && rendered.get(container) === text) return;
  container.replaceChildren(
    ...splitFences(text).map((part) =>
      part.kind === "code"
        ? h("pre", { class: "rich-text__code" }, h("code", { text: part.text }))
        : h("span", { class: "rich-text__prose" }, linkify(part.text)),
    ),
  );
  rendered.set(container, text);
}
