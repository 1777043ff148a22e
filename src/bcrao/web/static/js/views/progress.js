// The live collection panel: stage, "2 of 5: r/startups", a progress bar, the funnel counters
// (scraped → passed filter → classified → stored, duplicates), per-subreddit errors and
// warnings, rate-limit waits, and Cancel. It only renders; campaign.js feeds it events.

import { h, icon } from "../dom.js";
import { num, plural, SOURCE_STATUS_TEXT, STATUS_LABEL, sub } from "../format.js";

const STAGE_LABEL = {
  queued: "Queued — starting shortly",
  fetching: "Fetching posts",
  rate_limited: "Waiting for Reddit's rate limit",
  filtering: "Filtering out noise",
  classifying: "Labelling archetypes",
  scoring: "Scoring posts",
  storing: "Saving posts",
  done: "Finished",
};

// How far through one subreddit each stage is, so the bar moves smoothly within a step.
const STAGE_WEIGHT = {
  queued: 0, fetching: 0.1, rate_limited: 0.1, filtering: 0.45, classifying: 0.65,
  scoring: 0.8, storing: 0.92, done: 1,
};

const COUNTERS = [
  ["scraped", "Scraped", "posts fetched"],
  ["filtered", "Passed filter", "kept after noise filtering"],
  ["classified", "Classified", "given an archetype"],
  ["stored", "Stored", "new posts saved"],
];

const TERMINAL_TEXT = {
  complete: "Collection complete",
  partial: "Collection finished with some errors",
  failed: "Collection failed",
  cancelled: "Collection cancelled",
};

export function progressPanel({ taskId, onCancel, onDismiss }) {
  const title = h("h2", { class: "progress-title", id: "progress-title" }, "Collecting posts…");
  const statusPill = h("span", { class: "pill pill-running" }, "Running");
  const conn = h("span", { class: "conn conn-live", dataset: { testid: "connection" } }, "Live");
  const stage = h("p", { class: "progress-stage", dataset: { testid: "stage" } }, STAGE_LABEL.queued);
  const where = h("p", { class: "progress-where", dataset: { testid: "where" } });
  // Screen readers get one polite sentence per stage / subreddit change, not every counter tick.
  const live = h("p", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true" });
  const bar = h("div", { class: "progress-fill" });
  const track = h("div", {
    class: "progress-track is-indeterminate", role: "progressbar", "aria-labelledby": "progress-title",
    "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0,
  }, bar);
  const pctLabel = h("span", { class: "progress-pct" }, "0%");
  const values = {};
  const counters = h("ol", { class: "counters" }, ...COUNTERS.map(([key, label, hint], i) => {
    values[key] = h("span", { class: "counter-value", dataset: { counter: key } }, "0");
    return h("li", { class: "counter" },
      i > 0 ? h("span", { class: "counter-arrow", "aria-hidden": "true" }, icon("chevron")) : null,
      h("span", { class: "counter-label" }, label), values[key], h("span", { class: "counter-hint" }, hint));
  }));
  values.duplicates = h("span", { dataset: { counter: "duplicates" } }, "0");
  const dupes = h("p", { class: "counter-dupes muted small" }, values.duplicates, " already collected (duplicates)");
  const wait = h("div", { class: "notice notice-wait", hidden: true, role: "status" });
  const issues = h("ul", { class: "issues", "aria-label": "Errors and warnings" });
  const cancel = h("button", { type: "button", class: "btn btn-secondary", dataset: { testid: "cancel" } }, "Cancel collection");
  const dismiss = h("button", { type: "button", class: "btn btn-ghost", hidden: true }, "Dismiss");
  const footer = h("div", { class: "progress-actions" }, dismiss, cancel);

  const el = h("section", {
    class: "card progress-card", "aria-labelledby": "progress-title",
    dataset: { testid: "progress", state: "running", taskId },
  },
  h("div", { class: "progress-head" }, h("div", { class: "progress-head-main" }, title, statusPill), conn),
  h("div", { class: "progress-line" }, h("div", {}, stage, where), pctLabel),
  track, live, counters, dupes, wait, issues, footer);

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    try { await onCancel(); } catch { cancel.disabled = false; cancel.textContent = "Cancel collection"; }
  });
  dismiss.addEventListener("click", () => { el.remove(); if (onDismiss) onDismiss(); });

  let pct = 0;
  let lastSpoken = "";

  function setPct(p) {
    pct = Math.max(pct, Math.min(100, p)); // never move backwards
    bar.style.width = pct.toFixed(1) + "%"; // CSSOM, which the CSP allows (no style attribute)
    track.setAttribute("aria-valuenow", String(Math.round(pct)));
    pctLabel.textContent = Math.round(pct) + "%";
  }

  function setCounts(d) {
    for (const key of ["scraped", "filtered", "classified", "stored", "duplicates"]) {
      if (typeof d[key] === "number") values[key].textContent = num(d[key]);
    }
  }

  function setIssues(d) {
    const items = [];
    for (const e of d.errors || []) {
      items.push(h("li", { class: "issue issue-error" }, icon("alert"),
        h("span", {}, h("strong", {}, e.subreddit ? sub(e.subreddit) + ": " : "Error: "), e.message)));
    }
    // Subreddits that were read but had nothing (the errors above speak for the others).
    for (const [name, status] of Object.entries(d.source_status || {})) {
      if (status !== "empty") continue;
      items.push(h("li", { class: "issue issue-warning", dataset: { sourceStatus: status } }, icon("alert"),
        h("span", {}, h("strong", {}, sub(name) + ": "), SOURCE_STATUS_TEXT.empty)));
    }
    for (const w of d.warnings || []) {
      items.push(h("li", { class: "issue issue-warning" }, icon("alert"), h("span", {}, h("strong", {}, "Note: "), w)));
    }
    issues.replaceChildren(...items);
  }

  return {
    el,
    /** Apply one progress event. */
    update(d) {
      setCounts(d);
      setIssues(d);
      stage.textContent = STAGE_LABEL[d.stage] || d.stage;
      where.textContent = d.subreddit && d.total_steps
        ? `${d.step} of ${d.total_steps}: ${sub(d.subreddit)}`
        : d.total_steps ? `${d.total_steps} subreddits to go` : "";
      if (d.stage === "rate_limited" && d.wait_seconds) {
        wait.hidden = false;
        wait.replaceChildren(icon("clock"),
          h("span", {}, `Reddit asked us to slow down — resuming in about ${Math.ceil(d.wait_seconds)} s.`));
      } else {
        wait.hidden = true;
      }
      if (d.status === "running") { statusPill.textContent = "Running"; track.classList.remove("is-indeterminate"); }
      if (d.total_steps) setPct(((Math.max(1, d.step) - 1 + (STAGE_WEIGHT[d.stage] ?? 0)) / d.total_steps) * 100);
      const sentence = `${stage.textContent}${where.textContent ? ", " + where.textContent : ""}`;
      if (sentence !== lastSpoken) { live.textContent = sentence; lastSpoken = sentence; }
    },
    connection(state) {
      conn.className = "conn conn-" + state;
      conn.textContent = { live: "Live", reconnecting: "Reconnecting…", lost: "Connection lost" }[state] || state;
    },
    /** The run ended: show its final numbers (from the terminal event, then the re-read run). */
    finish(name, run) {
      setCounts(run);
      setIssues(run);
      el.dataset.state = name;
      el.classList.add("is-done", "is-" + name);
      track.classList.remove("is-indeterminate");
      if (name === "complete" || name === "partial") setPct(100);
      title.textContent = TERMINAL_TEXT[name] || "Collection finished";
      statusPill.className = "pill pill-" + name;
      statusPill.textContent = STATUS_LABEL[name] || name;
      stage.textContent = name === "complete" || name === "partial"
        ? `${plural(run.stored, "new post")} stored, ${num(run.duplicates)} already known.`
        : name === "cancelled" ? "Stopped on request. Posts stored so far are kept." : "Nothing more will be collected in this run.";
      where.textContent = "";
      wait.hidden = true;
      conn.hidden = true;
      cancel.hidden = true;
      dismiss.hidden = false;
      live.textContent = title.textContent + ". " + stage.textContent;
    },
  };
}
