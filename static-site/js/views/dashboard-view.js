// "Dashboard": the queue now (unsolved by priority and age, new today, unassigned, the
// oldest waiting ticket), trends (tickets per day, AI agreement, first reply, Claude
// budget) and the all-time breakdowns. Every figure says what period it covers, and
// every figure the tickets list can show links to that list (docs/frontend.md).
// Refreshes when shown, after every ticket created or changed in this browser, and
// every 30 s while the page is visible.

import { h, replaceChildren } from "../dom.js";
import { CATEGORIES, PRIORITIES, STATUSES, dateTime, label, percent } from "../format.js";
import { hashFor } from "../router.js";
import { barChart, barRows, periodTag } from "../components/bar-chart.js";
import { dayChart } from "../components/day-chart.js";
import { errorNotice } from "../components/notice.js";

const REFRESH_MS = 30000;
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** What each figure covers, written beside it. */
export const PERIODS = Object.freeze({ now: "now", today: "today (UTC)", month: "last 30 days", ever: "all time" });

/** The priorities as the queue is worked: most urgent first. */
const URGENCY = [...PRIORITIES].reverse();
const AGE_BUCKETS = ["today", "1_to_2_days", "3_to_6_days", "7_days_or_more"];
const AGE_LABELS = { today: "Today", "1_to_2_days": "1–2 days", "3_to_6_days": "3–6 days", "7_days_or_more": "7 days or more" };
const AGE_LINK_TITLE = "Opens every unsolved ticket, oldest first: the list cannot filter by age.";
const REPLY_BUCKETS = ["fr_15m", "fr_1h", "fr_4h", "fr_8h", "fr_1d", "fr_2d", "fr_7d", "fr_more"];
const REPLY_LABELS = {
  fr_15m: "15 min or less",
  fr_1h: "15–60 min",
  fr_4h: "1–4 hours",
  fr_8h: "4–8 hours",
  fr_1d: "8–24 hours",
  fr_2d: "1–2 days",
  fr_7d: "2–7 days",
  fr_more: "Over 7 days",
};

/** The list behind a figure: `#/tickets?status=unsolved&priority=critical&sort=priority`. */
export function listLink(query) {
  return hashFor("/tickets", query);
}

export class DashboardView {
  #store;
  #active = false;
  #timer = null;

  constructor(store) {
    this.#store = store;
    this.updated = h("p", { class: "muted", attrs: { "aria-live": "off" }, dataset: { statsUpdated: "" } });
    this.refreshButton = h("button", { type: "button", class: "button button--quiet", dataset: { refreshStats: "" }, text: "Refresh now", on: { click: () => this.#refresh() } });
    this.body = h("div", { class: "dashboard", dataset: { dashboard: "" } });
    this.element = h(
      "section",
      { class: "view view--dashboard", dataset: { view: "dashboard" } },
      h("div", { class: "view-head" }, h("h2", { tabIndex: -1, text: "Dashboard" }), h("div", { class: "view-head__actions" }, this.updated, this.refreshButton)),
      this.body,
    );
    store.addEventListener("stats", () => this.#active && this.#render());
    store.addEventListener("saved", () => this.#active && this.#refresh());
    document.addEventListener("visibilitychange", () => {
      if (!this.#active) return;
      if (document.visibilityState === "visible") {
        this.#refresh();
        this.#schedule();
      } else {
        this.#stopTimer();
      }
    });
  }

  show() {
    this.#active = true;
    document.title = "Dashboard · Support desk";
    this.#render();
    this.#refresh();
    this.#schedule();
  }

  hide() {
    this.#active = false;
    this.#stopTimer();
  }

  #schedule() {
    this.#stopTimer();
    this.#timer = setInterval(() => {
      if (document.visibilityState === "visible") this.#refresh();
    }, REFRESH_MS);
  }

  #stopTimer() {
    clearInterval(this.#timer);
    this.#timer = null;
  }

  #refresh() {
    this.#store.loadStats();
  }

  #render() {
    const { data, loading, error, updatedAt } = this.#store.stats;
    this.refreshButton.disabled = loading;
    this.updated.textContent = loading
      ? "Refreshing…"
      : updatedAt
        ? `Updated ${clock.format(updatedAt)} · refreshes every 30 s`
        : "";
    const parts = [];
    if (error) {
      parts.push(errorNotice(data ? "Could not refresh the figures; showing the last ones loaded." : "Could not load the dashboard.", error, () => this.#refresh()));
    }
    if (data) {
      parts.push(nowSection(data), trendsSection(data), allTimeSection(data));
    } else if (!error) {
      parts.push(h("p", { class: "loading", attrs: { role: "status" }, text: "Loading the figures…" }));
    }
    replaceChildren(this.body, parts);
  }
}

// ---- The queue now ----

function nowSection(data) {
  const unsolved = { status: "unsolved", sort: "priority" };
  return section(
    "now",
    "The queue now",
    "Unsolved means open or in progress. Select a figure to see the tickets behind it.",
    h(
      "div",
      { class: "kpis kpis--now" },
      kpi({ key: "unsolved", label: "Unsolved", value: data.unsolved_tickets, period: PERIODS.now, href: listLink(unsolved), headline: true }),
      kpi({ key: "open", label: "Open", value: data.status_breakdown?.open, period: PERIODS.now, href: listLink({ status: "open", sort: "priority" }), hint: "not yet picked up" }),
      kpi({ key: "in_progress", label: "In progress", value: data.status_breakdown?.in_progress, period: PERIODS.now, href: listLink({ status: "in_progress", sort: "priority" }), hint: "being worked on" }),
      kpi({ key: "unassigned", label: "Unassigned", value: data.unassigned_unsolved, period: PERIODS.now, href: listLink({ status: "unsolved", assignee: "none", sort: "priority" }), hint: "unsolved, nobody assigned" }),
      kpi({ key: "new-today", label: "New today", value: data.new_today, period: PERIODS.today, href: listLink({ sort: "newest" }), hint: "the list, newest first" }),
    ),
    h(
      "div",
      { class: "dashboard__grid" },
      oldestCard(data.oldest_unsolved, data.generated_at),
      barChart("Unsolved by priority", data.unsolved_by_priority, URGENCY, "unsolved-priority", {
        period: PERIODS.now,
        headingLevel: "h4",
        hrefFor: (priority) => listLink({ status: "unsolved", priority, sort: "priority" }),
      }),
      barChart("Unsolved by age", data.unsolved_by_age, AGE_BUCKETS, "unsolved-age", {
        period: PERIODS.now,
        headingLevel: "h4",
        note: "Days since the ticket was opened (UTC). Each row opens the unsolved list, oldest first: the list cannot filter by age.",
        labelFor: (bucket) => AGE_LABELS[bucket] ?? bucket,
        hrefFor: () => listLink({ status: "unsolved", sort: "oldest" }),
        linkTitle: AGE_LINK_TITLE,
      }),
    ),
  );
}

function oldestCard(oldest, generatedAt) {
  const parts = [];
  if (!oldest) {
    parts.push(h("p", { class: "figure-empty", dataset: { oldestNone: "" }, text: "Nothing is waiting: there are no unsolved tickets." }));
  } else {
    const reference = oldest.number ? `#${oldest.number}` : null;
    parts.push(
      h(
        "p",
        { class: "oldest__title" },
        h("a", { href: `#/tickets/${encodeURIComponent(oldest.id)}`, dataset: { oldestLink: "" } }, reference ? h("span", { class: "ticket-ref", text: `${reference} ` }) : null, oldest.title),
      ),
      h(
        "p",
        { class: "oldest__meta" },
        h("strong", { dataset: { oldestAge: "" }, text: `Waiting ${waited(oldest.created_at, generatedAt)}` }),
        " · ",
        h("span", { class: `badge badge--${oldest.priority}`, text: `${label(oldest.priority)} priority` }),
        " · opened ",
        h("time", { dateTime: oldest.created_at, text: dateTime(oldest.created_at) }),
      ),
    );
  }
  return h(
    "section",
    { class: "card oldest", attrs: { "aria-labelledby": "oldest-heading" }, dataset: { oldest: oldest ? oldest.id : "" } },
    h("div", { class: "card-head" }, h("h4", { id: "oldest-heading", text: "Oldest waiting ticket" }), periodTag(PERIODS.now)),
    ...parts,
    h("p", { class: "card-foot" }, h("a", { href: listLink({ status: "unsolved", sort: "oldest" }), text: "All unsolved, oldest first" })),
  );
}

// ---- Trends ----

function trendsSection(data) {
  return section(
    "trends",
    "Trends",
    "The AI agreement, reply times and the Claude budget have no list behind them: the tickets list cannot filter by them.",
    dayChart(data.created_per_day ?? [], {
      period: PERIODS.month,
      average: data.avg_tickets_per_day,
      listHref: listLink({ sort: "newest" }),
      headingLevel: "h4",
    }),
    h("div", { class: "dashboard__grid" }, aiCard(data.ai_agreement), firstReplyCard(data.first_reply), budgetCard(data.claude_budget)),
  );
}

function aiCard(agreement) {
  const rows = ["category", "priority"].map((field) => {
    const kept = Number(agreement?.[field]?.kept) || 0;
    const overridden = Number(agreement?.[field]?.overridden) || 0;
    const total = kept + overridden;
    const keptShare = percent(kept, total);
    const overShare = total ? 100 - keptShare : 0;
    const keptFill = h("span", { class: "split__kept" });
    keptFill.style.width = `${keptShare}%`;
    const overFill = h("span", { class: "split__over" });
    overFill.style.width = `${overShare}%`;
    return h(
      "div",
      { class: "ai-row", dataset: { ai: field, kept: String(kept), overridden: String(overridden) } },
      h("p", { class: "ai-row__head" }, h("strong", { text: label(field) }), total ? `: ${keptShare}% kept` : ": no suggestions yet"),
      total ? h("span", { class: "split", attrs: { "aria-hidden": "true" } }, keptFill, overFill) : null,
      h(
        "p",
        { class: "ai-row__counts" },
        h("span", { dataset: { aiKept: "" }, text: `${number.format(kept)} kept (${keptShare}%)` }),
        " · ",
        h("span", { dataset: { aiOverridden: "" }, text: `${number.format(overridden)} overridden (${overShare}%)` }),
      ),
    );
  });
  return h(
    "section",
    { class: "card", attrs: { "aria-labelledby": "ai-heading" }, dataset: { aiAgreement: "" } },
    h("div", { class: "card-head" }, h("h4", { id: "ai-heading", text: "AI suggestions kept" }), periodTag(PERIODS.ever)),
    h("p", { class: "chart__note", text: "Tickets whose final value is the one suggested when they were created (kept), or another one (overridden)." }),
    ...rows,
  );
}

function firstReplyCard(firstReply) {
  const count = Number(firstReply?.count) || 0;
  const median = firstReply?.median_minutes;
  const histogram = firstReply?.histogram ?? {};
  const buckets = [...REPLY_BUCKETS, ...Object.keys(histogram).filter((name) => !REPLY_BUCKETS.includes(name))];
  return h(
    "section",
    { class: "card", attrs: { "aria-labelledby": "reply-heading" }, dataset: { firstReply: "", count: String(count) } },
    h("div", { class: "card-head" }, h("h4", { id: "reply-heading", text: "Time to first agent reply" }), periodTag(PERIODS.ever)),
    count > 0 && typeof median === "number"
      ? h(
          "p",
          { class: "figure" },
          h("span", { class: "figure__value", dataset: { firstReplyMedian: String(median) }, text: duration(median) }),
          h("span", { class: "figure__label", dataset: { firstReplyCount: "" }, text: ` median, based on ${plural(count, "ticket")}` }),
        )
      : h("p", { class: "figure-empty", dataset: { firstReplyNone: "" }, text: "Not enough data: no ticket has had an agent reply yet." }),
    count > 0 ? barRows(histogram, buckets, { labelFor: (name) => REPLY_LABELS[name] ?? name }) : null,
  );
}

function budgetCard(budget) {
  const used = Number(budget?.used) || 0;
  const limit = Number(budget?.limit) || 0;
  const share = limit > 0 ? Math.min(100, percent(used, limit)) : 0;
  const fill = h("span", { class: `budget__fill${share >= 90 ? " budget__fill--high" : ""}` });
  fill.style.width = `${share}%`;
  let status = null;
  if (limit <= 0) status = "Claude is switched off (a daily budget of 0): suggestions come from the offline classifier.";
  else if (used >= limit) status = "Spent: suggestions come from the offline classifier until midnight UTC.";
  return h(
    "section",
    { class: "card", attrs: { "aria-labelledby": "budget-heading" }, dataset: { budget: "", used: String(used), limit: String(limit) } },
    h("div", { class: "card-head" }, h("h4", { id: "budget-heading", text: "Claude calls" }), periodTag(PERIODS.today)),
    h(
      "p",
      { class: "figure" },
      h("span", { class: "figure__value", dataset: { budgetUsed: "" }, text: `${number.format(used)} / ${number.format(limit)}` }),
      h("span", { class: "figure__label", text: limit > 0 ? ` used of the daily budget (${share}%)` : " used" }),
    ),
    limit > 0 ? h("span", { class: "chart__track budget", attrs: { "aria-hidden": "true" } }, fill) : null,
    status ? h("p", { class: "chart__note", dataset: { budgetStatus: "" }, text: status }) : null,
  );
}

// ---- All time ----

function allTimeSection(data) {
  return section(
    "all-time",
    "All time",
    "Every ticket ever created, solved ones included.",
    h("div", { class: "kpis" }, kpi({ key: "total", label: "Total tickets", value: data.total_tickets, period: PERIODS.ever, href: listLink({ sort: "newest" }), hint: "the list, newest first" })),
    h(
      "div",
      { class: "charts" },
      barChart("By priority", data.priority_breakdown, URGENCY, "priority", { period: PERIODS.ever, headingLevel: "h4", hrefFor: (priority) => listLink({ priority }) }),
      barChart("By category", data.category_breakdown, CATEGORIES, "category", { period: PERIODS.ever, headingLevel: "h4", hrefFor: (category) => listLink({ category }) }),
      barChart("By status", data.status_breakdown, STATUSES, "status", { period: PERIODS.ever, headingLevel: "h4", hrefFor: (status) => listLink({ status }) }),
    ),
  );
}

// ---- Pieces ----

function section(key, title, lede, ...children) {
  const id = `dashboard-${key}`;
  return h("section", { class: "dashboard__section", attrs: { "aria-labelledby": id }, dataset: { section: key } }, h("h3", { id, text: title }), lede ? h("p", { class: "muted", text: lede }) : null, ...children);
}

/** A figure as a link to the list behind it: label, value, a hint and the period. */
function kpi({ key, label: title, value, period, href, hint, headline = false }) {
  return h(
    "a",
    { class: `kpi card${headline ? " kpi--headline" : ""}`, href, dataset: { kpi: key } },
    h("span", { class: "kpi__label", text: title }),
    h("span", { class: "kpi__value", dataset: { kpiValue: "", value: String(Number(value) || 0) }, text: number.format(Number(value) || 0) }),
    hint ? h("span", { class: "kpi__hint", text: hint }) : null,
    periodTag(period),
  );
}

function plural(count, one, many = `${one}s`) {
  return `${number.format(count)} ${count === 1 ? one : many}`;
}

/** "3 days", "5 hours", "12 minutes": how long since `iso`, measured at `nowIso` (the server's clock). */
export function waited(iso, nowIso) {
  const now = Date.parse(nowIso);
  const minutes = Math.max(0, ((Number.isNaN(now) ? Date.now() : now) - Date.parse(iso)) / 60000);
  if (Number.isNaN(minutes)) return "";
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return plural(Math.floor(minutes), "minute");
  if (minutes < 48 * 60) return plural(Math.floor(minutes / 60), "hour");
  return plural(Math.floor(minutes / 1440), "day");
}

/** A number of minutes as a person reads it: "42 min", "3 h 30 min", "2.5 days". */
export function duration(minutes) {
  if (minutes < 60) return `${number.format(minutes)} min`;
  if (minutes < 24 * 60) {
    const whole = Math.round(minutes);
    const hours = Math.floor(whole / 60);
    const rest = whole % 60;
    return rest ? `${hours} h ${rest} min` : `${hours} h`;
  }
  return `${number.format(minutes / 1440)} days`;
}
