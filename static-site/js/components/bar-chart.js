// A horizontal bar chart with the count and percentage written beside every bar.
// Bar widths are set through the CSSOM (allowed by the CSP, unlike style attributes).

import { h } from "../dom.js";
import { label as enumLabel, percent } from "../format.js";

/**
 * @param {string} title
 * @param {Record<string, number>} counts
 * @param {string[]} order  the keys, in the order to show them
 * @param {string} key      a data-* hook name, e.g. "priority"
 * @param {{period?: string, hrefFor?: (value: string) => string, linkTitle?: string,
 *          labelFor?: (value: string) => string, note?: string|Node, headingLevel?: string}} [options]
 *   period: what the figures cover ("now", "all time"), shown beside the title;
 *   hrefFor: makes each row's label a link to the list behind it (linkTitle explains it);
 *   labelFor: the row labels (enum labels by default); note: a line under the title;
 *   headingLevel: "h3" by default
 */
export function barChart(title, counts, order, key, options = {}) {
  const { period, note, headingLevel = "h3" } = options;
  const headingId = `chart-${key}`;
  return h(
    "section",
    { class: "chart card", attrs: { "aria-labelledby": headingId }, dataset: { chart: key } },
    h("div", { class: "card-head" }, h(headingLevel, { id: headingId, text: title }), period ? periodTag(period) : null),
    note ? h("p", { class: "chart__note" }, note) : null,
    barRows(counts, order, options),
  );
}

/** The rows of a bar chart (a list), for use inside another card. Options as barChart's. */
export function barRows(counts, order, { hrefFor, linkTitle, labelFor = enumLabel } = {}) {
  const total = order.reduce((sum, value) => sum + (Number(counts?.[value]) || 0), 0);
  return h(
    "ul",
    { class: "chart__rows" },
    order.map((value) => {
      const count = Number(counts?.[value]) || 0;
      const share = percent(count, total);
      const fill = h("span", { class: `chart__fill chart__fill--${value}` });
      fill.style.width = `${share}%`;
      const text = labelFor(value);
      return h(
        "li",
        { class: "chart__row", dataset: { chartRow: value } },
        hrefFor
          ? h("a", { class: "chart__label", href: hrefFor(value), title: linkTitle, dataset: { chartLink: value }, text })
          : h("span", { class: "chart__label", text }),
        h("span", { class: "chart__track", attrs: { "aria-hidden": "true" } }, fill),
        h("span", {
          class: "chart__value",
          dataset: { count: String(count) },
          text: `${count} (${share}%)`,
        }),
      );
    }),
  );
}

/** "now", "today (UTC)", "last 30 days", "all time": what a figure covers. */
export function periodTag(period) {
  return h("span", { class: "period", dataset: { period }, text: period });
}
