// Campaign page: header + collect button, the live progress panel while a run is active,
// and the results. A reload with a queued/running run re-attaches to its progress stream.

import { api, ApiError } from "../api.js";
import { h, icon } from "../dom.js";
import { dateTime, num, plural, STATUS_LABEL, sub } from "../format.js";
import { navigate, parseHash } from "../router.js";
import { ProgressStream } from "../sse.js";
import { toast } from "../toast.js";
import { progressPanel } from "./progress.js";
import { insightsSection } from "./insights.js";
import { monitorSection } from "./monitor.js";
import { readFilters, resultsSection } from "./results.js";

const ACTIVE = ["queued", "running"];

export const campaignView = {
  mount(root, ctx) {
    const id = ctx.params[0];
    const page = h("section", { class: "page campaign-page" }, h("p", { class: "loading" }, "Loading campaign…"));
    root.append(page);

    let query = ctx.query;
    let campaign = null;
    let results = null;
    let insights = null;
    let stream = null;
    let panel = null;
    let active = false;
    let remaining; // runs_remaining_this_week; null = unlimited
    let limit = {}; // the plan's allowance and when a run frees up, once a 429 said so
    let unmounted = false;
    const collectBtn = h("button", { type: "button", class: "btn btn-primary", dataset: { testid: "collect" } }, icon("play"), "Start collection");
    const preview = h("p", { class: "muted collect-preview", dataset: { testid: "collect-preview" } });
    const limitNote = h("p", { class: "collect-limit", id: "collect-limit", hidden: true, dataset: { testid: "collect-limit" } });
    const importInput = h("input", {
      type: "file", accept: ".jsonl,.ndjson,.json,.csv,.zst,.gz", hidden: true, dataset: { testid: "import-file" },
    });
    const importBtn = h("button", { type: "button", class: "btn btn-secondary", dataset: { testid: "import" },
      title: "JSONL or CSV of Reddit posts and comments, Reddit's export, or an archive file (.zst)" }, "Import a file");
    const notice = h("div", { class: "notice-slot" });
    const progressSlot = h("div", { class: "progress-slot" });

    // Leaving the page mid-run does not stop the run, but the user would lose sight of it.
    const guard = (e) => {
      if (!active) return;
      e.preventDefault();
      e.returnValue = "A collection is in progress — leave this page?";
      return e.returnValue;
    };
    window.addEventListener("beforeunload", guard);

    function setCollectLabel() {
      const hasRuns = campaign && results && collectBtn.dataset.hasRuns === "true";
      const verb = hasRuns ? "Collect more" : "Start collection";
      const left = remaining === null || remaining === undefined ? "" : hasRuns ? ` (${remaining} left)` : ` (${remaining} left this week)`;
      const usedUp = remaining === 0 && !active;
      collectBtn.replaceChildren(icon("play"), active ? "Collecting…" : verb + left);
      collectBtn.disabled = active || usedUp || campaign.status === "archived";
      importBtn.disabled = collectBtn.disabled; // an import counts as a run too
      collectBtn.title = campaign.status === "archived" ? "Archived campaigns cannot be collected. Restore it first." : "";
      // A disabled button says why, in words next to it (a title alone is not read or seen on phones).
      limitNote.hidden = !usedUp;
      limitNote.textContent = usedUp
        ? `Weekly limit reached: your plan's ${limit.count ? plural(limit.count, "collection") : "collections"} for the last 7 days`
          + " are used (runs of every campaign count). "
          + (limit.resetsAt ? `The next one frees up on ${dateTime(limit.resetsAt)}.` : "Each frees up 7 days after it started.")
        : "";
      if (usedUp) collectBtn.setAttribute("aria-describedby", limitNote.id);
      else collectBtn.removeAttribute("aria-describedby");
    }

    function showNotice(kind, ...content) {
      notice.replaceChildren(h("div", { class: `alert alert-${kind}`, role: kind === "error" ? "alert" : "status" }, ...content));
    }

    // What the next collection would cost, shown before "Start": advice, so a failure is silent.
    async function loadPreview() {
      try {
        const p = await api.post(`/v1/campaigns/${id}/collect/preview`, {});
        if (unmounted) return;
        const parts = [];
        if (p.requests.total > 0) {
          parts.push(`≈ ${plural(p.requests.total, "Reddit request")} (${plural(p.requests.listings, "listing")}, ${plural(p.requests.comments, "comment")})`);
          parts.push(p.minutes < 1 ? "under a minute" : `≈ ${p.minutes} min`);
        } else if (p.source === "sample") {
          parts.push("Offline sample data: no Reddit requests");
        }
        if (p.llm.calls > 0) parts.push(`${plural(p.llm.calls, "LLM call")} ≈ $${p.llm.usd.toFixed(3)}`);
        if (p.apify.results > 0) parts.push(`${num(p.apify.results)} Apify results ≈ $${p.apify.usd.toFixed(2)}`);
        if (p.budget.remaining !== null) parts.push(`${num(p.budget.remaining)} requests left in this window`);
        preview.textContent = parts.join(" · ");
      } catch {
        preview.textContent = "";
      }
    }

    async function importFile(file) {
      notice.replaceChildren();
      importBtn.disabled = collectBtn.disabled = true;
      importBtn.textContent = "Importing…";
      const form = new FormData();
      form.append("file", file, file.name);
      try {
        const res = await api.upload(`/v1/campaigns/${id}/imports`, form);
        attach(res.task_id, res.progress_url, res.stream_token);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        // A bad line: the message names it (details.line) and says nothing was imported.
        showNotice(err.status === 422 ? "error" : "warning", err.message);
        setCollectLabel();
      } finally {
        importBtn.textContent = "Import a file";
        importBtn.disabled = active || campaign.status === "archived";
        importInput.value = "";
      }
    }

    async function refresh() {
      const [stats, runs] = await Promise.all([
        api.get(`/v1/campaigns/${id}/collection-stats`),
        api.get(`/v1/campaigns/${id}/runs`, { per_page: 10 }),
      ]);
      if (unmounted) return null;
      remaining = stats.runs_remaining_this_week;
      collectBtn.dataset.hasRuns = String(runs.total > 0);
      results.setStats(stats);
      results.setRuns(runs.runs);
      setCollectLabel();
      return { stats, runs };
    }

    async function startCollection() {
      notice.replaceChildren();
      collectBtn.disabled = true;
      try {
        const res = await api.post(`/v1/campaigns/${id}/collect`, {});
        attach(res.task_id, res.progress_url, res.stream_token);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.code === "COLLECTION_IN_PROGRESS" && err.details.task_id) {
          // Someone (another tab?) already started one: watch that run instead.
          try {
            const t = await api.post(`/v1/collection/${err.details.task_id}/stream-token`);
            showNotice("info", "A collection for this campaign was already running — showing its progress.");
            attach(err.details.task_id, null, t.stream_token);
          } catch (e2) { showNotice("error", e2.message); }
        } else if (err.code === "PLAN_LIMIT_REACHED") {
          // Runs started elsewhere (another campaign, the CLI) used the rest: the disabled
          // button now says why, and when the next run frees up.
          remaining = 0;
          limit = { count: err.details.limit ?? null, resetsAt: err.details.resets_at || null };
        } else if (err.status === 422) {
          showNotice("error", err.fields.status || err.message);
        } else {
          showNotice("error", err.message);
        }
        setCollectLabel();
      }
    }

    function attach(taskId, progressUrl, token) {
      if (stream) stream.close();
      active = true;
      results.el.classList.add("is-collecting"); // no "ready for the first collection" under a live run
      setCollectLabel();
      panel = progressPanel({
        taskId,
        onCancel: async () => {
          try {
            await api.post(`/v1/collection/${taskId}/cancel`);
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 409)) { toast(err.message, "error"); throw err; }
          }
        },
        onDismiss: () => { panel = null; },
      });
      progressSlot.replaceChildren(panel.el);
      const myPanel = panel;
      stream = new ProgressStream({
        taskId,
        progressUrl,
        streamToken: token,
        onProgress: (d) => {
          myPanel.update(d);
          myPanel.el.dataset.lastEventId = String(stream.lastId);
        },
        onConnection: (state) => {
          myPanel.connection(state);
          myPanel.el.dataset.opens = String(stream.opens);
          myPanel.el.dataset.refreshes = String(stream.refreshes);
        },
        onTerminal: (name, data) => finished(taskId, name, data, myPanel),
      }).start();
    }

    async function finished(taskId, name, data, myPanel) {
      myPanel.el.dataset.lastEventId = String(stream.lastId);
      myPanel.el.dataset.opens = String(stream.opens);
      myPanel.el.dataset.refreshes = String(stream.refreshes);
      myPanel.finish(name, data);
      let status = name;
      active = false;
      results.el.classList.remove("is-collecting");
      // The run object is final before the terminal event is sent: re-read it to be exact.
      try {
        const run = await api.get(`/v1/collection/${taskId}`);
        status = run.status;
        myPanel.finish(run.status, run);
        myPanel.el.dataset.final = "true";
        const msg = { complete: "Collection complete", partial: "Collection finished with errors",
          failed: "Collection failed", cancelled: "Collection cancelled" }[run.status];
        toast(`${msg}: ${plural(run.stored, "new post")}`, run.status === "complete" ? "success" : "info");
      } catch (err) {
        toast(err.message, "error");
      }
      if (unmounted) return;
      await refresh().catch(() => {});
      await results.reloadPosts();
      insights.reload(); // the run's posts are being themed now
      // Bring the user to what was found; a cancelled or failed run found nothing new, and
      // jumping away from the panel that says so (on a phone: a whole screen down) loses it.
      if (status === "complete" || status === "partial") {
        results.el.querySelector("#posts-h").scrollIntoView({ behavior: "smooth", block: "start" });
      }
      myPanel.el.dataset.settled = "true"; // counts, results and the page are all up to date
    }

    function onFilter(changes) {
      // Merge into the address bar as it is now, not into the last query this view was told
      // about: two quick choices (an archetype, then a score) arrive before the first
      // hashchange has been handled, and the second must not drop the first.
      const next = readFilters(parseHash().query);
      for (const [k, v] of Object.entries(changes)) {
        if (v === "" || v === null || v === undefined) delete next[k];
        else next[k] = String(v);
      }
      navigate(`/campaigns/${id}`, readFilters(new URLSearchParams(next)));
    }

    collectBtn.addEventListener("click", () => startCollection());
    // The estimate changes with every run (history): asked for at page load and again when
    // the user reaches for the button, not after each refresh.
    collectBtn.addEventListener("mouseenter", () => loadPreview());
    collectBtn.addEventListener("focus", () => loadPreview());
    importBtn.addEventListener("click", () => importInput.click());
    importInput.addEventListener("change", () => { if (importInput.files[0]) importFile(importInput.files[0]); });

    (async () => {
      try {
        campaign = await api.get(`/v1/campaigns/${id}`);
      } catch (err) {
        page.replaceChildren(h("div", { class: "alert alert-error", role: "alert" },
          err.status === 404 || err.status === 422 ? "This campaign does not exist (or is not yours)." : err.message),
        h("a", { href: "#/campaigns", class: "btn btn-secondary" }, "All campaigns"));
        return;
      }
      if (unmounted) return;
      document.title = `${campaign.name} · BC-RAO Collector`;
      results = resultsSection({
        campaign,
        onFilter,
        onChanged: async () => { await refresh().catch(() => {}); await results.reloadPosts(); },
      });
      insights = insightsSection({
        campaign,
        onTheme: (theme) => {
          onFilter({ theme: theme.id, page: "" });
          results.el.querySelector("#posts-h").scrollIntoView({ behavior: "smooth", block: "start" });
        },
      });
      page.replaceChildren(
        h("a", { class: "back-link", href: "#/campaigns" }, icon("back"), "All campaigns"),
        header(campaign, collectBtn, importBtn, importInput, preview, limitNote),
        notice, progressSlot, insights.el, results.el, monitorSection({ campaign }).el);
      setCollectLabel();
      results.setQuery(query);
      loadPreview();
      try {
        const data = await refresh();
        const latest = data && data.runs.runs[0];
        if (latest && ACTIVE.includes(latest.status)) {
          // A reload mid-run: get a fresh stream token and watch it again.
          const t = await api.post(`/v1/collection/${latest.task_id}/stream-token`);
          if (!unmounted) attach(latest.task_id, null, t.stream_token);
        }
      } catch (err) {
        showNotice("error", err.message);
      }
    })();

    return {
      update(next) {
        query = next.query;
        if (results) results.setQuery(query);
      },
      unmount() {
        unmounted = true;
        if (stream) stream.close();
        if (insights) insights.close();
        window.removeEventListener("beforeunload", guard);
      },
    };
  },
};

function header(c, collectBtn, importBtn, importInput, preview, limitNote) {
  return h("header", { class: "campaign-head card" },
    h("div", { class: "campaign-head-main" },
      h("div", { class: "campaign-title-row" },
        h("h1", {}, c.name), h("span", { class: ["pill", "pill-" + c.status] }, STATUS_LABEL[c.status])),
      c.product_context ? h("p", { class: "muted campaign-context" }, c.product_context) : null,
      h("div", { class: "campaign-meta" },
        h("div", { class: "meta-group" }, h("span", { class: "meta-label" }, "Subreddits"),
          h("ul", { class: "tag-list" }, ...c.target_subreddits.map((s) => h("li", { class: "tag" }, sub(s))))),
        h("div", { class: "meta-group" }, h("span", { class: "meta-label" }, "Keywords"),
          h("ul", { class: "tag-list" }, ...c.keywords.map((k) => h("li", { class: "tag tag-muted" }, k)))))),
    h("div", { class: "campaign-head-actions" },
      collectBtn,
      importBtn, importInput,
      h("a", { class: "btn btn-secondary", href: `#/campaigns/${c.id}/edit` }, "Edit"),
      limitNote, preview));
}
