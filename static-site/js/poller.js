// Runs `check` every `intervalMs` while the page is visible: paused while the tab is
// hidden (no requests from a tab nobody looks at), and run at once on coming back if
// a check was due meanwhile. One check at a time; failures wait for the next turn.

export class Poller {
  #check;
  #intervalMs;
  #timer = null;
  #running = false;
  #busy = false;
  #lastRun = 0;
  #onVisibility = () => this.#visibilityChanged();

  constructor(check, intervalMs) {
    this.#check = check;
    this.#intervalMs = intervalMs;
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    this.#lastRun = Date.now();
    document.addEventListener("visibilitychange", this.#onVisibility);
    if (document.visibilityState === "visible") this.#schedule(this.#intervalMs);
  }

  stop() {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = null;
    document.removeEventListener("visibilitychange", this.#onVisibility);
  }

  #visibilityChanged() {
    clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#running || document.visibilityState !== "visible") return;
    this.#schedule(Math.max(0, this.#intervalMs - (Date.now() - this.#lastRun)));
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), delay);
  }

  async #run() {
    this.#timer = null;
    if (!this.#running || document.visibilityState !== "visible" || this.#busy) return;
    this.#busy = true;
    this.#lastRun = Date.now();
    try {
      await this.#check();
    } catch {
      // The next turn tries again; the views show load errors of their own.
    } finally {
      this.#busy = false;
    }
    if (this.#running && document.visibilityState === "visible") this.#schedule(this.#intervalMs);
  }
}
