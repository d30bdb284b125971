// One job: its summary, steps, outputs (presigned links), timeline and webhook deliveries, and the
// controls the API allows for its state (retry a failed job, cancel an unfinished one).

import { call, jobPath, report } from "./api.js";
import { byId, clear, el, say, show, sourceOf, stateBadge, when } from "./dom.js";

const TRANSCRIBING = new Set(["transcribe", "transcribe_upload"]);
const FINAL = new Set(["succeeded", "failed"]);
const REFRESH_MS = 3000; // an unfinished job is shown live

export class JobPage {
  constructor(onAuthFailure) {
    this.onAuthFailure = onAuthFailure;
    this.jobId = null;
    this.generation = 0; // bumped by every load and stop: an answer for an older one is dropped
    this.timer = 0;
    byId("job-retry").addEventListener("click", () => this.control("retry", "Retried: the job runs again from its failed step."));
    byId("job-cancel").addEventListener("click", () => this.control("cancel", "Cancelled."));
    byId("job-reload").addEventListener("click", () => this.load(this.jobId));
  }

  stop() {
    this.generation += 1;
    clearTimeout(this.timer);
  }

  async load(jobId) {
    this.stop();
    const generation = this.generation;
    if (jobId !== this.jobId) this.clear(); // never show another job's details under this id
    this.jobId = jobId;
    byId("job-id").textContent = jobId;
    let job, events, results;
    try {
      [job, events, results] = await Promise.all([
        call("GET", jobPath(jobId)),
        call("GET", jobPath(jobId, "/events")),
        call("GET", jobPath(jobId, "/results")),
      ]);
    } catch (error) {
      if (generation !== this.generation) return;
      report(error, byId("job-error"), this.onAuthFailure);
      return;
    }
    if (generation !== this.generation) return;
    say(byId("job-error"), "");
    this.render(job, events.events, results);
    if (!FINAL.has(job.state) && !document.hidden) {
      this.timer = setTimeout(() => this.load(jobId), REFRESH_MS);
    }
  }

  clear() {
    byId("job-state").replaceChildren();
    say(byId("job-message"), "");
    for (const id of ["job-summary", "job-outputs", "job-timeline", "job-webhook-list"]) clear(byId(id));
    clear(byId("job-steps").querySelector("tbody"));
    for (const id of ["job-retry", "job-cancel", "job-transcript", "job-webhooks"]) show(byId(id), false);
  }

  async control(action, done) {
    const message = byId("job-message");
    say(message, "");
    for (const id of ["job-retry", "job-cancel"]) byId(id).disabled = true;
    try {
      await call("POST", jobPath(this.jobId, `/${action}`));
      say(message, done);
    } catch (error) {
      if (error.status === 401) return this.onAuthFailure(error);
      report(error, message, this.onAuthFailure, `${action} refused: `);
    }
    await this.load(this.jobId);
  }

  render(job, events, results) {
    byId("job-state").replaceChildren(stateBadge(job.state));
    const summary = clear(byId("job-summary"));
    const rows = [
      ["Type", job.type],
      ["Source", sourceOf(job)],
      ["Created", when(job.created_at)],
      ["Updated", when(job.updated_at)],
    ];
    if (job.error) rows.push(["Error", `${job.error.code}: ${job.error.message}`]);
    for (const [name, value] of rows) summary.append(el("dt", {}, name), el("dd", { class: name === "Error" ? "error" : "" }, value));

    const cancelled = job.error && job.error.code === "JobCancelled";
    for (const id of ["job-retry", "job-cancel"]) byId(id).disabled = false;
    show(byId("job-retry"), job.state === "failed" && !cancelled);
    show(byId("job-cancel"), !FINAL.has(job.state));
    const transcript = byId("job-transcript");
    transcript.href = `#/jobs/${encodeURIComponent(job.id)}/transcript`;
    show(transcript, TRANSCRIBING.has(job.type) && job.state === "succeeded");

    this.renderSteps(job.steps || []);
    this.renderOutputs(results);
    this.renderTimeline(events);
    this.renderWebhooks(job.webhook_attempts || []);
  }

  renderSteps(steps) {
    const body = clear(byId("job-steps").querySelector("tbody"));
    for (const step of steps) {
      const task = [step.service, step.task_id].filter(Boolean).join(" · ");
      const error = step.error ? `${step.error.code}: ${step.error.message}` : "";
      body.append(
        el(
          "tr",
          { dataset: { step: step.name, state: step.state } },
          el("td", {}, step.index + 1),
          el("td", {}, step.name),
          el("td", {}, stateBadge(step.state)),
          el("td", {}, step.attempt),
          el("td", { class: "key" }, task),
          el("td", {}, when(step.started_at)),
          el("td", {}, when(step.finished_at)),
          el("td", { class: "error" }, error),
        ),
      );
    }
  }

  renderOutputs(results) {
    const list = clear(byId("job-outputs"));
    const links = Object.entries(results.outputs || {});
    if (results.source_audio) links.push(["recognised audio", results.source_audio]);
    for (const [name, link] of links) {
      list.append(
        el("li", {}, el("span", { class: "output-name" }, name), " ", el("a", { href: link.url, rel: "noreferrer", target: "_blank" }, link.key),
          el("span", { class: "muted small" }, ` (link valid until ${when(link.expires_at)})`)),
      );
    }
    if (links.length === 0) list.append(el("li", { class: "muted" }, results.ready ? "No outputs." : "None yet."));
  }

  renderTimeline(events) {
    const list = clear(byId("job-timeline"));
    for (const event of events) {
      const detail = [];
      if (event.service) detail.push(event.service);
      if (event.task_id) detail.push(`task ${event.task_id}`);
      list.append(
        el(
          "li",
          { class: `event event-${event.kind}`, dataset: { kind: event.kind } },
          el("time", { datetime: event.at }, when(event.at)),
          " ",
          el("strong", {}, `${event.step} #${event.attempt} ${event.kind}`),
          detail.length ? el("span", { class: "muted" }, ` (${detail.join(", ")})`) : null,
          event.error ? el("div", { class: "error" }, `${event.error.code}: ${event.error.message}`) : null,
        ),
      );
    }
    if (events.length === 0) list.append(el("li", { class: "muted" }, "Nothing has happened yet."));
  }

  renderWebhooks(attempts) {
    show(byId("job-webhooks"), attempts.length > 0);
    const list = clear(byId("job-webhook-list"));
    for (const attempt of attempts) {
      const status = attempt.status ? ` HTTP ${attempt.status}` : "";
      const next = attempt.next_attempt_at ? `, next attempt ${when(attempt.next_attempt_at)}` : "";
      list.append(
        el(
          "li",
          { dataset: { outcome: attempt.outcome } },
          el("time", { datetime: attempt.at }, when(attempt.at)),
          " ",
          el("strong", {}, `${attempt.state} delivery #${attempt.attempt} ${attempt.outcome}${status}`),
          el("span", { class: "muted" }, ` (${attempt.delivery_id}${next})`),
          attempt.error ? el("div", { class: "error" }, attempt.error) : null,
        ),
      );
    }
  }
}
