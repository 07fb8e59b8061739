// Tickets created per day: a column chart drawn with plain elements (heights set
// through the CSSOM, which the CSP allows), a sentence that says what it shows, and
// the same numbers as a data table. The columns are decoration (aria-hidden): the
// sentence and the table carry the data for everyone.

import { h } from "../dom.js";
import { periodTag } from "./bar-chart.js";

const dayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
const longDayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** "12 May" for "2026-05-12" (a UTC day). */
function day(date, format = dayFormat) {
  const parsed = new Date(`${date}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) ? String(date) : format.format(parsed);
}

function plural(count, one, many = `${one}s`) {
  return `${number.format(count)} ${count === 1 ? one : many}`;
}

/**
 * @param {{date: string, count: number}[]} points  oldest first; the last one is today (UTC)
 * @param {{period: string, average?: number, listHref?: string, headingLevel?: string}} options
 */
export function dayChart(points, { period, average, listHref, headingLevel = "h3" }) {
  const counts = points.map((point) => Number(point.count) || 0);
  const total = counts.reduce((sum, count) => sum + count, 0);
  const max = Math.max(0, ...counts);
  const busiest = points[counts.indexOf(max)];
  const today = points.length ? points[points.length - 1] : null;

  const parts = [`${plural(total, "ticket")} created in the last ${points.length} days`];
  if (average !== undefined) parts.push(`${number.format(average)} a day on average`);
  if (max > 0) parts.push(`the busiest day was ${day(busiest.date)} with ${number.format(max)}`);
  if (today) parts.push(`today so far: ${number.format(Number(today.count) || 0)}`);
  const summary = `${parts.join("; ")}.`;

  const bars = points.map((point, index) => {
    const count = Number(point.count) || 0;
    const fill = h("span", { class: "day-chart__fill" });
    fill.style.height = max > 0 ? `${(count / max) * 100}%` : "0%";
    const isToday = index === points.length - 1;
    return h(
      "li",
      {
        class: `day-chart__bar${isToday ? " day-chart__bar--today" : ""}${count === 0 ? " day-chart__bar--zero" : ""}`,
        title: `${day(point.date)}${isToday ? " (today)" : ""}: ${plural(count, "ticket")}`,
        dataset: { date: point.date, count: String(count) },
      },
      fill,
    );
  });
  const middle = points[Math.floor((points.length - 1) / 2)];
  const plot = h(
    "div",
    { class: "day-chart__plot", attrs: { "aria-hidden": "true" } },
    h("div", { class: "day-chart__scale" }, h("span", { text: number.format(max) }), h("span", { text: "0" })),
    h("ol", { class: "day-chart__bars" }, bars),
    h(
      "div",
      { class: "day-chart__dates" },
      points.length ? h("span", { text: day(points[0].date) }) : null,
      middle && points.length > 2 ? h("span", { text: day(middle.date) }) : null,
      today ? h("span", { text: "Today" }) : null,
    ),
  );

  const rows = points.map((point, index) =>
    h(
      "tr",
      { dataset: { date: point.date } },
      h("th", { attrs: { scope: "row" } }, h("time", { dateTime: point.date, text: day(point.date, longDayFormat) }), index === points.length - 1 ? " (today)" : ""),
      h("td", { dataset: { count: String(Number(point.count) || 0) }, text: number.format(Number(point.count) || 0) }),
    ),
  );
  const table = h(
    "details",
    { class: "day-chart__table", dataset: { trendTable: "" } },
    h("summary", { text: "Show the numbers as a table" }),
    h(
      "table",
      { class: "data-table" },
      h("caption", { text: `Tickets created per day, ${period}` }),
      h("thead", {}, h("tr", {}, h("th", { attrs: { scope: "col" }, text: "Day (UTC)" }), h("th", { attrs: { scope: "col" }, text: "Tickets created" }))),
      h("tbody", {}, rows),
    ),
  );

  return h(
    "section",
    { class: "day-chart card", attrs: { "aria-labelledby": "chart-created-per-day" }, dataset: { chart: "created-per-day" } },
    h("div", { class: "card-head" }, h(headingLevel, { id: "chart-created-per-day", text: "Tickets created per day" }), periodTag(period)),
    h("p", { class: "day-chart__summary", dataset: { trendSummary: "" }, text: summary }),
    plot,
    table,
    listHref ? h("p", { class: "card-foot" }, h("a", { href: listHref, text: "See the newest tickets" })) : null,
  );
}
