// A horizontal bar chart with the count and percentage written beside every bar.
// Bar widths are set through the CSSOM (allowed by the CSP, unlike style attributes).

import { h } from "../dom.js";
import { label, percent } from "../format.js";

/**
 * @param {string} title
 * @param {Record<string, number>} counts
 * @param {string[]} order  the enum values, in the order to show them
 * @param {string} key      a data-* hook name, e.g. "priority"
 */
export function barChart(title, counts, order, key) {
  const total = order.reduce((sum, value) => sum + (Number(counts?.[value]) || 0), 0);
  const headingId = `chart-${key}`;
  return h(
    "section",
    { class: "chart card", attrs: { "aria-labelledby": headingId }, dataset: { chart: key } },
    h("h3", { id: headingId, text: title }),
    h(
      "ul",
      { class: "chart__rows" },
      order.map((value) => {
        const count = Number(counts?.[value]) || 0;
        const share = percent(count, total);
        const fill = h("span", { class: `chart__fill chart__fill--${value}` });
        fill.style.width = `${share}%`;
        return h(
          "li",
          { class: "chart__row", dataset: { chartRow: value } },
          h("span", { class: "chart__label", text: label(value) }),
          h("span", { class: "chart__track", attrs: { "aria-hidden": "true" } }, fill),
          h("span", {
            class: "chart__value",
            dataset: { count: String(count) },
            text: `${count} (${share}%)`,
          }),
        );
      }),
    ),
  );
}
