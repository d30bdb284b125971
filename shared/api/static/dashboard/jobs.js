// The job list: filters (type, state, source key), newest first, paged with the API's cursor.

import { call, report } from "./api.js";
import { byId, clear, el, say, show, sourceOf, stateBadge, when } from "./dom.js";

const REFRESH_MS = 5000; // while the page shows unfinished jobs
const FINAL = new Set(["succeeded", "failed"]);

export class JobList {
  constructor(onAuthFailure) {
    this.onAuthFailure = onAuthFailure;
    this.filters = { type: "", state: "", source: "", limit: "20" };
    this.cursors = [null]; // cursors[i] fetches page i; the last page's next_cursor is pushed on "older"
    this.page = 0;
    this.generation = 0; // bumped by every load and stop: an answer for an older one is dropped
    this.timer = 0;
    this.form = byId("filters");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.applyFilters();
    });
    byId("refresh").addEventListener("click", () => this.load());
    byId("page-next").addEventListener("click", () => this.turn(1));
    byId("page-prev").addEventListener("click", () => this.turn(-1));
  }

  applyFilters() {
    const data = new FormData(this.form);
    this.filters = {
      type: data.get("type") || "",
      state: data.get("state") || "",
      source: String(data.get("source") || "").trim(),
      limit: data.get("limit") || "20",
    };
    this.cursors = [null];
    this.page = 0;
    return this.load();
  }

  turn(step) {
    const page = this.page + step;
    if (page < 0 || page >= this.cursors.length) return;
    this.page = page;
    this.load();
  }

  stop() {
    this.generation += 1;
    clearTimeout(this.timer);
  }

  async load() {
    this.stop();
    const generation = this.generation;
    const errorLine = byId("jobs-error");
    const query = { ...this.filters, cursor: this.cursors[this.page] };
    let answer;
    try {
      answer = await call("GET", "v1/jobs", { query });
    } catch (error) {
      if (generation !== this.generation) return;
      report(error, errorLine, this.onAuthFailure);
      return;
    }
    if (generation !== this.generation) return;
    say(errorLine, "");
    this.cursors.length = this.page + 1;
    if (answer.next_cursor) this.cursors.push(answer.next_cursor);
    this.render(answer.jobs);
    if (answer.jobs.some((job) => !FINAL.has(job.state)) && !document.hidden) {
      this.timer = setTimeout(() => this.load(), REFRESH_MS);
    }
  }

  render(jobs) {
    const body = clear(byId("job-table").querySelector("tbody"));
    for (const job of jobs) {
      const link = el("a", { href: `#/jobs/${encodeURIComponent(job.id)}` }, el("code", {}, job.id));
      const failed = job.error ? el("div", { class: "error small" }, job.error.code) : null;
      body.append(
        el(
          "tr",
          { dataset: { jobId: job.id, state: job.state } },
          el("td", {}, link),
          el("td", {}, job.type),
          el("td", {}, stateBadge(job.state), failed),
          el("td", { class: "key" }, sourceOf(job)),
          el("td", {}, when(job.created_at)),
          el("td", {}, when(job.updated_at)),
        ),
      );
    }
    show(byId("jobs-empty"), jobs.length === 0);
    byId("page-number").textContent = `Page ${this.page + 1}`;
    byId("page-prev").disabled = this.page === 0;
    byId("page-next").disabled = this.page + 1 >= this.cursors.length;
  }
}
