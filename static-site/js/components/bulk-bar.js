// Bulk changes of the selected tickets: the bar (how many are selected, the new
// status, priority, category and assignee, Apply, Clear selection) and the report
// (a progress bar while it runs, then every ticket's outcome, failures first, with
// "Retry the failed ones").

import { h, options, replaceChildren } from "../dom.js";
import { CATEGORIES, PRIORITIES, STATUSES, choices } from "../format.js";
import { outcome } from "../bulk-change.js";

const KEEP = "";
const UNASSIGN = "__none__";

export class BulkBar {
  /** @param {{onApply: (changes: object) => void, onClear: () => void}} actions */
  constructor({ onApply, onClear }) {
    this.count = h("p", { class: "bulk-bar__count", attrs: { "aria-live": "polite" }, dataset: { selectedCount: "" } });
    this.selects = {
      status: h("select", { id: "bulk-status", dataset: { bulkField: "status" } }, options([[KEEP, "Keep"], ...choices(STATUSES)], KEEP)),
      priority: h("select", { id: "bulk-priority", dataset: { bulkField: "priority" } }, options([[KEEP, "Keep"], ...choices(PRIORITIES)], KEEP)),
      category: h("select", { id: "bulk-category", dataset: { bulkField: "category" } }, options([[KEEP, "Keep"], ...choices(CATEGORIES)], KEEP)),
      assignee: h("select", { id: "bulk-assignee", dataset: { bulkField: "assignee" } }, options([[KEEP, "Keep"], [UNASSIGN, "Nobody (unassign)"]], KEEP)),
    };
    this.applyButton = h("button", { type: "submit", class: "button button--small button--primary", text: "Apply to selected", dataset: { bulkApply: "" } });
    this.problem = h("p", { class: "bulk-bar__problem", attrs: { role: "alert" }, dataset: { bulkProblem: "" } });
    this.element = h(
      "form",
      {
        class: "bulk-bar bulk-bar--empty",
        inert: true,
        dataset: { bulkBar: "" },
        attrs: { "aria-labelledby": "bulk-heading" },
        on: {
          submit: (event) => {
            event.preventDefault();
            const changes = this.changes();
            if (Object.keys(changes).length === 0) {
              this.problem.textContent = "Choose at least one new value (status, priority, category or assignee).";
              return;
            }
            this.problem.textContent = "";
            onApply(changes);
          },
        },
      },
      h("h3", { id: "bulk-heading", class: "visually-hidden", text: "Change the selected tickets" }),
      this.count,
      ...Object.entries(this.selects).map(([field, select]) =>
        h("div", { class: "bulk-bar__field" }, h("label", { htmlFor: select.id, text: `Set ${field}` }), select),
      ),
      h(
        "div",
        { class: "bulk-bar__actions" },
        this.applyButton,
        h("button", { type: "button", class: "button button--small button--quiet", text: "Clear selection", dataset: { clearSelection: "" }, on: { click: onClear } }),
      ),
      this.problem,
    );
  }

  /** The agents to offer for "Set assignee". */
  setAgents(agents) {
    const chosen = this.selects.assignee.value;
    replaceChildren(
      this.selects.assignee,
      options([[KEEP, "Keep"], [UNASSIGN, "Nobody (unassign)"], ...agents.map((agent) => [agent.email, agent.display_name || agent.email])], chosen),
    );
  }

  render(selectedCount, busy) {
    // With nothing selected the bar keeps its place, invisible (desktop: nothing below
    // it moves when the first box is ticked); on phones it floats over the bottom of
    // the screen instead (css/console.css).
    const empty = selectedCount === 0;
    this.element.classList.toggle("bulk-bar--empty", empty);
    this.element.inert = empty;
    this.count.textContent = `${selectedCount} selected`;
    this.applyButton.disabled = busy;
    this.applyButton.textContent = busy ? "Applying…" : `Apply to ${selectedCount} selected`;
  }

  /** `{status: "resolved", assignee: null}`: only the fields given a new value. */
  changes() {
    const changes = {};
    for (const [field, select] of Object.entries(this.selects)) {
      if (select.value === KEEP) continue;
      changes[field] = select.value === UNASSIGN ? null : select.value;
    }
    return changes;
  }

  reset() {
    for (const select of Object.values(this.selects)) select.value = KEEP;
    this.problem.textContent = "";
  }
}

/** Progress and outcome of a bulk change. */
export class BulkReport {
  /** @param {{onRetry: () => void, onDismiss: () => void}} actions */
  constructor({ onRetry, onDismiss }) {
    this.heading = h("h3", { id: "bulk-report-heading", tabIndex: -1, dataset: { bulkReportHeading: "" } });
    this.fill = h("span", { class: "progress__fill" });
    this.progress = h(
      "div",
      {
        class: "progress",
        attrs: { role: "progressbar", "aria-labelledby": "bulk-report-heading", "aria-valuemin": "0" },
        dataset: { bulkProgress: "" },
      },
      this.fill,
    );
    this.progressText = h("p", { class: "bulk-report__progress", attrs: { role: "status" }, dataset: { bulkProgressText: "" } });
    this.failures = h("ul", { class: "bulk-report__list", dataset: { bulkFailures: "" } });
    this.successes = h("ul", { class: "bulk-report__list", dataset: { bulkSuccesses: "" } });
    this.successSummary = h("summary");
    this.successDetails = h("details", { class: "bulk-report__changed" }, this.successSummary, this.successes);
    this.retryButton = h("button", { type: "button", class: "button button--small button--primary", text: "Retry the failed ones", dataset: { bulkRetry: "" }, on: { click: onRetry } });
    this.dismissButton = h("button", { type: "button", class: "button button--small button--quiet", text: "Close", dataset: { bulkDismiss: "" }, on: { click: onDismiss } });
    this.element = h(
      "section",
      { class: "bulk-report card", hidden: true, dataset: { bulkReport: "" }, attrs: { "aria-labelledby": "bulk-report-heading" } },
      this.heading,
      this.progress,
      this.progressText,
      this.failures,
      this.successDetails,
      h("div", { class: "bulk-report__actions" }, this.retryButton, this.dismissButton),
    );
  }

  /** Show `run` (a BulkChange) as it is now; `describe(item)` is "#1042 Title". */
  render(run, describe) {
    this.element.hidden = false;
    const { done, total } = run;
    this.progress.setAttribute("aria-valuemax", String(total));
    this.progress.setAttribute("aria-valuenow", String(done));
    this.progress.setAttribute("aria-valuetext", `${done} of ${total}`);
    this.fill.style.width = `${total ? Math.round((done / total) * 100) : 0}%`;
    const { changed, failed } = run.counts;
    if (run.running) {
      this.heading.textContent = `Changing ${total} ticket${total === 1 ? "" : "s"}…`;
      this.progressText.textContent = `${done} of ${total} done`;
    } else {
      this.heading.textContent = `${changed} of ${total} changed${failed ? `, ${failed} not changed` : ""}`;
      this.progressText.textContent = `${done} of ${total} done: ${changed} changed${failed ? `, ${failed} not changed` : ""}.`;
    }
    const failedItems = [];
    const changedItems = [];
    for (const { item, result } of run.results.values()) {
      const what = outcome(result);
      const entry = h(
        "li",
        { class: `bulk-outcome bulk-outcome--${what.ok ? "ok" : "failed"}`, dataset: { bulkOutcome: what.ok ? "changed" : "failed", ticketId: item.id, status: String(result.status) } },
        h("a", { href: `#/tickets/${item.id}`, text: describe(item) }),
        `: ${what.text}`,
      );
      (what.ok ? changedItems : failedItems).push(entry);
    }
    replaceChildren(this.failures, failedItems);
    this.failures.hidden = failedItems.length === 0;
    replaceChildren(this.successes, changedItems);
    this.successDetails.hidden = changedItems.length === 0;
    this.successSummary.textContent = `Changed (${changedItems.length})`;
    this.retryButton.hidden = run.running || run.retryItems().length === 0;
    this.dismissButton.hidden = run.running;
  }

  hide() {
    this.element.hidden = true;
  }
}
