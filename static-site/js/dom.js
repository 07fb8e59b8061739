// A tiny element builder. Text (from people or the model) only ever becomes a Text
// node or `textContent`: nothing here parses HTML, so nothing can inject markup.

/**
 * `h("p", {class: "x", dataset: {ticketId: id}, attrs: {"aria-live": "polite"}}, "text", child)`
 * Props: class, text, dataset, attrs, on ({click: fn}), and plain DOM properties
 * (value, type, disabled, href, htmlFor, id, ...). Children: nodes, strings, null.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === "class") element.className = value;
    else if (name === "text") element.textContent = String(value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "attrs") {
      for (const [attr, attrValue] of Object.entries(value)) {
        if (attrValue !== undefined && attrValue !== null && attrValue !== false) {
          element.setAttribute(attr, attrValue === true ? "" : String(attrValue));
        }
      }
    } else if (name === "on") {
      for (const [type, handler] of Object.entries(value)) element.addEventListener(type, handler);
    } else if (name.startsWith("on") || name === "innerHTML" || name === "outerHTML") {
      throw new Error(`h(): refusing to set ${name}; use "on" or "text"`);
    } else element[name] = value;
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `element`. */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** `<select>` options from `[value, label]` pairs, with `selected` chosen. */
export function options(pairs, selected) {
  return pairs.map(([value, label]) => h("option", { value, text: label, selected: value === selected }));
}
