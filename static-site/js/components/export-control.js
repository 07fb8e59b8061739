// "Export CSV": the current view (filters, search, sort) assembled page by page,
// with the count so far, a Cancel button, and the download at the end.

import { h, replaceChildren } from "../dom.js";
import { CsvExport } from "../csv-export.js";

export class ExportControl {
  #run = null;

  /** @param {{query: () => object, readPage: Function, announce: (text: string) => void}} deps */
  constructor({ query, readPage, announce }) {
    this.query = query;
    this.readPage = readPage;
    this.announce = announce;
    this.button = h("button", { type: "button", class: "button button--small", text: "Export CSV", dataset: { export: "" }, on: { click: () => this.start() } });
    this.status = h("p", { class: "export__status", attrs: { role: "status" }, dataset: { exportStatus: "" } });
    this.cancelButton = h("button", { type: "button", class: "button button--small button--quiet", text: "Cancel export", hidden: true, dataset: { exportCancel: "" }, on: { click: () => this.cancel() } });
    this.element = h("div", { class: "export" }, this.button, this.status, this.cancelButton);
  }

  get running() {
    return this.#run !== null;
  }

  async start() {
    if (this.#run) return;
    const run = new CsvExport({ query: this.query(), fetchPage: this.readPage });
    this.#run = run;
    this.button.disabled = true;
    this.cancelButton.hidden = false;
    this.status.textContent = "Exporting… 0 tickets so far.";
    run.addEventListener("progress", (event) => {
      const { count, pages } = event.detail;
      this.status.textContent = `Exporting… ${count.toLocaleString()} tickets so far (${pages} page${pages === 1 ? "" : "s"}).`;
    });
    try {
      const { blob, fileName, count } = await run.run();
      download(blob, fileName);
      this.status.textContent = `Exported ${count.toLocaleString()} ticket${count === 1 ? "" : "s"} to ${fileName}.`;
      this.announce(this.status.textContent);
    } catch (error) {
      if (run.cancelled) {
        this.status.textContent = `Export cancelled after ${run.count.toLocaleString()} tickets; nothing was downloaded.`;
      } else {
        this.status.textContent = `The export stopped after ${run.count.toLocaleString()} tickets and nothing was downloaded: ${error.message}`;
      }
      this.announce(this.status.textContent);
    } finally {
      this.#run = null;
      this.button.disabled = false;
      this.cancelButton.hidden = true;
    }
  }

  cancel() {
    this.#run?.cancel();
    this.button.focus();
  }

  /** Stop quietly (the list left, or the agent signed out). */
  stop() {
    this.#run?.cancel();
    replaceChildren(this.status);
  }
}

/** Save `blob` as `fileName` through a temporary object URL. */
function download(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL; give it a moment before letting it go.
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
