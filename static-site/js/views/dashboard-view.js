// "Dashboard": totals and breakdowns. Refreshes when shown, after every ticket created
// or changed in this browser, and every 30 s while the page is visible.

import { h, replaceChildren } from "../dom.js";
import { CATEGORIES, PRIORITIES, STATUSES } from "../format.js";
import { barChart } from "../components/bar-chart.js";
import { errorNotice } from "../components/notice.js";

const REFRESH_MS = 30000;
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

export class DashboardView {
  #store;
  #active = false;
  #timer = null;

  constructor(store) {
    this.#store = store;
    this.updated = h("p", { class: "muted", attrs: { "aria-live": "off" }, dataset: { statsUpdated: "" } });
    this.refreshButton = h("button", { type: "button", class: "button button--quiet", dataset: { refreshStats: "" }, text: "Refresh now", on: { click: () => this.#refresh() } });
    this.body = h("div", { dataset: { dashboard: "" } });
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
      parts.push(
        h(
          "div",
          { class: "kpis" },
          kpi("Total tickets", number.format(data.total_tickets), "total"),
          kpi("Open tickets", number.format(data.open_tickets), "open"),
          kpi("Average per day", number.format(data.avg_tickets_per_day), "per-day"),
        ),
        h(
          "div",
          { class: "charts" },
          barChart("By priority", data.priority_breakdown, PRIORITIES, "priority"),
          barChart("By category", data.category_breakdown, CATEGORIES, "category"),
          barChart("By status", data.status_breakdown, STATUSES, "status"),
        ),
      );
    } else if (!error) {
      parts.push(h("p", { class: "loading", attrs: { role: "status" }, text: "Loading the figures…" }));
    }
    replaceChildren(this.body, parts);
  }
}

function kpi(title, value, key) {
  return h("div", { class: "kpi card", dataset: { kpi: key } }, h("p", { class: "kpi__label", text: title }), h("p", { class: "kpi__value", dataset: { kpiValue: "" }, text: value }));
}
