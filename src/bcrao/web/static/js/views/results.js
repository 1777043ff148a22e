// Results of a campaign: summary numbers, funnel with filter reasons, archetype and score
// charts, the filterable post grid (filters live in the URL), export, and run history.

import { api } from "../api.js";
import { clear, h, icon, marked } from "../dom.js";
import {
  ARCHETYPE_DEFINITION, ARCHETYPE_HINT, ARCHETYPE_LABEL, ARCHETYPES, FILTER_REASON_LABEL, date, dateTime, duration, humanize, num, plural, score, STATUS_LABEL, sub,
  sourceStatusLines,
} from "../format.js";
import { toast } from "../toast.js";
import { archetypeChart, funnel, scoreHistogram, subredditChart } from "./charts.js";
import { archetypeBadge, openPost } from "./post-modal.js";
import { rejectedReview } from "./rejected.js";

export const PER_PAGE = 12;
export const SORTS = [
  ["-success_score", "Highest score"],
  ["success_score", "Lowest score"],
  ["-reddit_created_at", "Newest"],
  ["-upvotes", "Most upvoted"],
  ["-comment_count", "Most discussed"],
  ["-relevance_score", "Most relevant"],
];
// Label confidence choices (the classifier's probability for the archetype it chose).
export const CONFIDENCES = [["", "Any confidence"], ["0.6", "Confident (≥ 60%)"], ["0.8", "Very confident (≥ 80%)"]];
export const MENTIONS = [["", "Any post"], ["true", "Mentions my keywords"], ["false", "Does not mention them"]];
export const SEARCH_IN = [["posts", "Posts"], ["comments", "Comments"], ["all", "Posts and comments"]];
const FILTER_KEYS = ["archetype", "subreddit", "min_score", "max_score", "min_confidence", "mentions_keywords", "q", "search_in", "theme", "sort", "page"];

/** The post filters in a URL query, cleaned (defaults dropped, so URLs stay short). */
export function readFilters(query) {
  const f = {};
  for (const k of FILTER_KEYS) {
    const v = query.get(k);
    if (v !== null && v !== "") f[k] = v;
  }
  if (f.sort === "-success_score") delete f.sort;
  if (f.page === "1") delete f.page;
  if (f.search_in === "posts") delete f.search_in;
  if (f.min_score === "0") delete f.min_score;
  if (f.max_score === "10") delete f.max_score;
  return f;
}

/**
 * @param {object} o
 * @param {object} o.campaign
 * @param {(changes: object) => void} o.onFilter  merge changes into the URL filters
 * @param {() => void} o.onChanged  posts were added (a kept sample): refresh counts and posts
 */
/**
 * When this browser last showed the campaign (null: never), and from now on "now": posts
 * collected after the previous visit are marked new. Kept per browser, like a read marker.
 */
export function previousVisit(campaignId) {
  const key = `bcrao.lastVisit.${campaignId}`;
  const before = localStorage.getItem(key);
  localStorage.setItem(key, new Date().toISOString());
  return before;
}

export function resultsSection({ campaign, onFilter, onChanged }) {
  const lastVisit = previousVisit(campaign.id);
  let filters = {};
  let stats = null;

  // ---- summary + charts (from collection-stats) ----
  const statRow = h("div", { class: "stat-row" });
  const funnelBody = h("div", { class: "chart-body" });
  const archBody = h("div", { class: "chart-body" });
  const histBody = h("div", { class: "chart-body" });
  const subBody = h("div", { class: "chart-body" });
  const charts = h("div", { class: "chart-grid" },
    h("section", { class: "card chart-card chart-funnel", "aria-labelledby": "funnel-h" },
      h("h2", { id: "funnel-h", class: "card-title" }, "Collection funnel"), funnelBody),
    h("section", { class: "card chart-card", "aria-labelledby": "arch-h" },
      h("h2", { id: "arch-h", class: "card-title" }, "Archetypes"), archBody),
    h("section", { class: "card chart-card", "aria-labelledby": "hist-h" },
      h("h2", { id: "hist-h", class: "card-title" }, "Success scores"), histBody),
    h("section", { class: "card chart-card", "aria-labelledby": "subs-h", dataset: { testid: "subreddit-chart" } },
      h("h2", { id: "subs-h", class: "card-title" }, "Subreddits"), subBody));

  // ---- filters ----
  const tabs = h("div", { class: "seg", role: "group", "aria-label": "Archetype" },
    ...["", ...ARCHETYPES].map((a) => {
      const b = h("button", { type: "button", class: "seg-btn", dataset: { archetype: a }, "aria-describedby": "arch-def" },
        a ? h("span", { class: `badge-dot arch-bg-${a}`, "aria-hidden": "true" }) : null, a ? ARCHETYPE_LABEL[a] : "All",
        a ? h("span", { class: "seg-hint" }, ARCHETYPE_HINT[a]) : null);
      b.addEventListener("click", () => onFilter({ archetype: a, page: "" }));
      return b;
    }));
  // What the chosen archetype means, in words under the tabs (not only in a tooltip).
  const archDef = h("p", { class: "arch-def muted small", id: "arch-def", "aria-live": "polite", dataset: { testid: "arch-definition" } });
  const search = h("input", { type: "search", id: "f-q", placeholder: "Search titles and text", autocomplete: "off" });
  const searchIn = h("select", { id: "f-in", "aria-label": "Search in", dataset: { testid: "search-in" } },
    ...SEARCH_IN.map(([v, l]) => h("option", { value: v }, l)));
  const subSelect = h("select", { id: "f-sub" }, h("option", { value: "" }, "All subreddits"),
    ...campaign.target_subreddits.map((s) => h("option", { value: s }, sub(s))));
  const minRange = h("input", { type: "range", id: "f-min", min: 0, max: 10, step: 0.5, value: 0, "aria-label": "Minimum success score" });
  const maxRange = h("input", { type: "range", id: "f-max", min: 0, max: 10, step: 0.5, value: 10, "aria-label": "Maximum success score" });
  const rangeOut = h("output", { class: "range-out", for: "f-min f-max" }, "0 – 10");
  const sortSelect = h("select", { id: "f-sort" }, ...SORTS.map(([v, l]) => h("option", { value: v }, l)));
  const confSelect = h("select", { id: "f-conf" }, ...CONFIDENCES.map(([v, l]) => h("option", { value: v }, l)));
  const kwSelect = h("select", { id: "f-kw" }, ...MENTIONS.map(([v, l]) => h("option", { value: v }, l)));
  const reset = h("button", { type: "button", class: "btn btn-ghost btn-sm" }, "Reset filters");
  const filterBar = h("div", { class: "filters card" },
    h("div", { class: "filters-row" }, tabs, archDef),
    h("div", { class: "filters-row filters-grid" },
      h("div", { class: "control control-search" }, h("label", { for: "f-q", class: "control-label" }, "Search"),
        h("div", { class: "search-with-scope" }, h("div", { class: "input-icon" }, icon("search"), search), searchIn)),
      h("div", { class: "control" }, h("label", { for: "f-sub", class: "control-label" }, "Subreddit"), subSelect),
      h("div", { class: "control control-range" },
        h("span", { class: "control-label", id: "range-label" }, "Success score ", rangeOut),
        h("div", { class: "dual-range", role: "group", "aria-labelledby": "range-label" },
          h("span", { class: "range-end", "aria-hidden": "true" }, "Min"), minRange,
          h("span", { class: "range-end", "aria-hidden": "true" }, "Max"), maxRange)),
      h("div", { class: "control" }, h("label", { for: "f-conf", class: "control-label" }, "Label confidence"), confSelect),
      h("div", { class: "control" }, h("label", { for: "f-kw", class: "control-label" }, "Keywords"), kwSelect),
      h("div", { class: "control" }, h("label", { for: "f-sort", class: "control-label" }, "Sort by"), sortSelect)),
    h("div", { class: "filters-foot" }, h("p", { class: "result-count", "aria-live": "polite", dataset: { testid: "result-count" } }), reset));

  search.addEventListener("input", debounce(() => onFilter({ q: search.value.trim(), page: "" }), 350));
  search.addEventListener("keydown", (e) => { if (e.key === "Enter") onFilter({ q: search.value.trim(), page: "" }); });
  searchIn.addEventListener("change", () => onFilter({ search_in: searchIn.value, page: "" }));
  subSelect.addEventListener("change", () => onFilter({ subreddit: subSelect.value, page: "" }));
  sortSelect.addEventListener("change", () => onFilter({ sort: sortSelect.value, page: "" }));
  confSelect.addEventListener("change", () => onFilter({ min_confidence: confSelect.value, page: "" }));
  kwSelect.addEventListener("change", () => onFilter({ mentions_keywords: kwSelect.value, page: "" }));
  // Slide freely (label follows), commit on release: one URL entry per choice, not per pixel.
  minRange.addEventListener("input", () => {
    if (Number(minRange.value) > Number(maxRange.value)) maxRange.value = minRange.value;
    showRange();
  });
  maxRange.addEventListener("input", () => {
    if (Number(maxRange.value) < Number(minRange.value)) minRange.value = maxRange.value;
    showRange();
  });
  const commitRange = () => onFilter({ min_score: minRange.value, max_score: maxRange.value, page: "" });
  minRange.addEventListener("change", commitRange);
  maxRange.addEventListener("change", commitRange);
  reset.addEventListener("click", () => onFilter(Object.fromEntries(FILTER_KEYS.map((k) => [k, ""]))));

  function showRange() { rangeOut.textContent = `${minRange.value} – ${maxRange.value}`; }

  // ---- posts ----
  const exportCsv = h("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { testid: "export-csv" } }, icon("download"), "CSV");
  const exportJsonl = h("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { testid: "export-jsonl" } }, icon("download"), "JSONL");
  const exportComments = h("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { testid: "export-comments" },
    title: "Every comment of the matching posts, thread by thread" }, icon("download"), "Comments CSV");
  const grid = h("div", { class: "post-grid", "aria-live": "off" });
  const pager = h("nav", { class: "pager", "aria-label": "Post pages" });
  const posts = h("section", { class: "posts-section", "aria-labelledby": "posts-h" },
    h("div", { class: "section-head" }, h("h2", { id: "posts-h" }, "Posts"),
      h("div", { class: "export", role: "group", "aria-label": "Export matching posts" },
        h("span", { class: "muted small" }, "Export"), exportCsv, exportJsonl, exportComments)),
    filterBar, grid, pager);

  for (const [btn, format, what] of [[exportCsv, "csv", "posts"], [exportJsonl, "jsonl", "posts"], [exportComments, "csv", "comments"]]) {
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const { page, theme, ...rest } = filters; // export is every matching post, not one page
        const path = what === "posts" ? "posts/export" : "comments/export";
        const name = await api.download(`/v1/campaigns/${campaign.id}/${path}`, { format, ...rest },
          `${slug(campaign.name)}-${what}.${format}`);
        toast(`Downloaded ${name}`, "success");
      } catch (err) {
        toast("Export failed: " + err.message, "error");
      } finally {
        btn.disabled = false;
      }
    });
  }

  // ---- run history ----
  const runsBody = h("div", { class: "table-wrap" });
  const runs = h("section", { class: "runs-section", "aria-labelledby": "runs-h" },
    h("div", { class: "section-head" }, h("h2", { id: "runs-h" }, "Run history")), h("div", { class: "card" }, runsBody));

  const onboarding = h("div", { class: "card onboarding" },
    h("img", { src: "/static/img/logo.svg", alt: "", width: 48, height: 48 }),
    h("h2", {}, "Ready for the first collection"),
    h("p", { class: "muted" }, `We will read ${campaign.target_subreddits.length} subreddit${campaign.target_subreddits.length > 1 ? "s" : ""}, `
      + "throw away the noise, label what is left as Journey, Problem / Solution or Feedback, and score it 0-10."),
    h("ol", { class: "onboarding-steps" },
      h("li", {}, h("strong", {}, "Collect"), h("span", { class: "muted" }, "Press Start collection above")),
      h("li", {}, h("strong", {}, "Watch"), h("span", { class: "muted" }, "Follow the funnel fill up live")),
      h("li", {}, h("strong", {}, "Browse"), h("span", { class: "muted" }, "Filter, read and export the posts"))));

  const reviewSlot = h("div", { class: "review-slot" });
  const el = h("div", { class: "results", id: "results", tabindex: "-1" }, onboarding, statRow, charts, reviewSlot, posts, runs);

  // ---- rendering ----
  function renderStats() {
    const s = stats;
    const left = s.runs_remaining_this_week;
    statRow.replaceChildren(
      statCard("Posts stored", num(s.total), "total"),
      statCard("Avg success score", s.avg_success_score === null ? "—" : score(s.avg_success_score), "avg", "/ 10"),
      statCard("Collection runs", num(s.runs), "runs"),
      statCard("Runs left this week", left === null ? "Unlimited" : num(left), "left"));
    const f = s.funnel || { scraped: 0, filtered: 0, classified: 0, stored: 0 };
    funnelBody.replaceChildren(...[funnel(f), funnelNote(f, s.total), reasons(s.filter_reasons || {}, f, s.last_run)].filter(Boolean));
    clear(archBody).append(s.total ? archetypeChart(s.by_archetype, { selected: filters.archetype, onSelect: (a) => onFilter({ archetype: a, page: "" }) })
      : h("p", { class: "muted chart-empty" }, "No posts yet."));
    clear(subBody).append(s.total
      ? subredditChart(s.by_subreddit || {}, { selected: filters.subreddit, onSelect: (name) => onFilter({ subreddit: name, page: "" }) })
      : h("p", { class: "muted chart-empty" }, "No posts yet."));
    clear(histBody).append(...(s.total
      ? [scoreHistogram(s.score_histogram || [], { min: Number(filters.min_score ?? 0), max: Number(filters.max_score ?? 10) }),
        h("p", { class: "chart-note muted small" }, "Relative to each subreddit: engagement, discussion depth, personal voice.")]
      : [h("p", { class: "muted chart-empty" }, "Scores appear after the first collection.")]));
    // Before anything was ever collected, a single call to action beats empty charts.
    el.classList.toggle("is-empty", !s.total && !s.runs);
  }

  // The funnel adds up every run; the archetype chart counts the posts there are now, once
  // each. When the two differ, say why rather than leave two numbers that disagree.
  function funnelNote(f, total) {
    if (f.classified === total) return null;
    const dupes = f.filtered - f.stored;
    const parts = [`${num(f.classified)} classified, ${num(total)} in the archetype chart: the funnel adds up every run,`];
    parts.push(dupes > 0 ? `so the ${plural(dupes, "post")} collected again (duplicates) count once per run;` : "");
    parts.push("the chart counts each post you have now once.");
    if (f.classified - dupes !== total) parts.push("Posts you hid as noise or kept from the filtered-out ones, and posts removed from Reddit, also change it.");
    return h("p", { class: "chart-note muted small", dataset: { testid: "funnel-note" } }, parts.filter(Boolean).join(" "));
  }

  function reasons(byReason, f, lastRun) {
    const rows = Object.entries(byReason).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    const rejected = f.scraped - f.filtered;
    if (!rows.length && !rejected) return h("p", { class: "muted small" }, "Nothing filtered out yet.");
    const top = Math.max(1, ...rows.map(([, n]) => n));
    const list = h("ul", { class: "reasons" }, ...rows.map(([reason, n]) => {
      const fill = h("span", { class: "reason-fill" });
      fill.style.width = (n / top) * 100 + "%";
      return h("li", { class: "reason", dataset: { reason } },
        h("span", { class: "reason-label" }, FILTER_REASON_LABEL[reason] || humanize(reason)),
        h("span", { class: "reason-bar", "aria-hidden": "true" }, fill),
        h("span", { class: "reason-num" }, num(n)));
    }));
    const details = h("details", { class: "reasons-details" },
      h("summary", {}, `Why ${plural(rejected, "post was", "posts were")} filtered out`), list);
    if (lastRun) {
      const btn = h("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { testid: "review-rejected" } },
        "Review what the last run filtered out");
      btn.addEventListener("click", () => openReview(lastRun.task_id));
      details.append(btn);
    }
    return details;
  }

  // The rejected samples of a run, reviewed in a section of their own under the charts.
  let review = null;
  function openReview(taskId) {
    if (!review || review.taskId !== taskId) {
      review = rejectedReview({
        taskId,
        onKept: () => onChanged(),
        onOpen: (post) => openPost(campaign.id, post.id, () => loadPosts()),
        onClose: () => { reviewSlot.replaceChildren(); review = null; },
      });
      reviewSlot.replaceChildren(review.el);
    }
    review.el.scrollIntoView({ behavior: "smooth", block: "start" });
    review.el.focus({ preventScroll: true });
  }

  let postsToken = 0;
  async function loadPosts() {
    const mine = ++postsToken;
    grid.setAttribute("aria-busy", "true");
    grid.classList.add("is-loading");
    const page = Number(filters.page || 1);
    try {
      // A theme chosen in Insights narrows the list to its posts; the other filters still apply.
      const { theme, ...rest } = filters;
      const path = theme ? `/v1/campaigns/${campaign.id}/themes/${theme}/posts` : `/v1/campaigns/${campaign.id}/posts`;
      const res = await api.get(path, { ...rest, per_page: PER_PAGE });
      if (mine !== postsToken) return; // a newer filter change won
      renderPosts(res, page);
    } catch (err) {
      if (mine !== postsToken) return;
      grid.replaceChildren(h("div", { class: "alert alert-error", role: "alert" }, err.message));
      pager.replaceChildren();
    } finally {
      if (mine === postsToken) { grid.setAttribute("aria-busy", "false"); grid.classList.remove("is-loading"); }
    }
  }

  function renderPosts(res, page) {
    const count = filterBar.querySelector(".result-count");
    count.textContent = `${plural(res.total, "post matches", "posts match")}${filters.theme ? " in the chosen theme" : ""}`;
    if (!res.posts.length) {
      const any = Object.keys(filters).some((k) => k !== "sort" && k !== "page");
      grid.replaceChildren(h("div", { class: "empty card" },
        h("h3", {}, any ? "No posts match these filters" : "No posts yet"),
        h("p", { class: "muted" }, any ? "Try a wider score range or another archetype." : "Start a collection to fill this page.")));
    } else {
      grid.replaceChildren(...res.posts.map(postCard));
    }
    const pages = Math.max(1, Math.ceil(res.total / res.per_page));
    pager.replaceChildren();
    if (pages > 1) {
      const prev = h("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: page <= 1 }, icon("back"), "Previous");
      const next = h("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: page >= pages }, "Next", icon("chevron"));
      prev.addEventListener("click", () => { onFilter({ page: page - 1 > 1 ? String(page - 1) : "" }); el.querySelector("#posts-h").scrollIntoView({ block: "start" }); });
      next.addEventListener("click", () => { onFilter({ page: String(page + 1) }); el.querySelector("#posts-h").scrollIntoView({ block: "start" }); });
      pager.append(prev, h("span", { class: "pager-label", dataset: { testid: "page-label" } }, `Page ${page} of ${pages}`), next);
    }
  }

  function postCard(p) {
    const open = h("button", { type: "button", class: "post-open stretched", dataset: { postId: p.id } }, marked(p.title, p.matched_keywords));
    open.addEventListener("click", () => openPost(campaign.id, p.id, async (postId) => {
      await loadPosts();
      grid.querySelector(`.post-open[data-post-id="${postId}"]`)?.focus(); // back where the reader was
    }));
    const snippet = (p.raw_text || "").slice(0, 300);
    const sc = h("span", { class: "score", title: "Success score (0-10)" },
      h("span", { class: "score-num", dataset: { score: p.success_score } }, score(p.success_score)),
      h("span", { class: "score-of" }, "/10"));
    const meter = h("span", { class: "score-meter", "aria-hidden": "true" }, h("span", { class: "score-meter-fill" }));
    meter.firstChild.style.width = (Number(p.success_score) || 0) * 10 + "%";
    const isNew = lastVisit !== null && p.collected_at > lastVisit;
    return h("article", { class: ["card post-card", isNew && "is-new"], dataset: { postId: p.id, archetype: p.archetype } },
      h("div", { class: "post-card-top" }, archetypeBadge(p.archetype, p.archetype_confidence),
        isNew ? h("span", { class: "badge badge-new", title: "Collected since your last visit", dataset: { testid: "new-since" } }, "New") : null,
        h("div", { class: "score-wrap" }, sc, meter)),
      h("h3", { class: "post-title" }, open),
      snippet ? h("p", { class: "post-snippet" }, marked(snippet, p.matched_keywords)) : null,
      h("div", { class: "post-card-foot" },
        h("span", { class: "sub-name" }, sub(p.subreddit)),
        h("span", { class: "meta-item", title: "Upvotes" }, icon("up"), num(p.upvotes), h("span", { class: "visually-hidden" }, " upvotes")),
        h("span", { class: "meta-item", title: "Comments" }, icon("comment"), num(p.comment_count), h("span", { class: "visually-hidden" }, " comments")),
        h("span", { class: "meta-item muted" }, date(p.reddit_created_at)),
        (p.matched_keywords || []).length
          ? h("span", { class: "meta-item kw-mentions", title: "Your keywords in this post", dataset: { testid: "mentions" } }, icon("search"), p.matched_keywords.join(", "))
          : null));
  }

  function syncControls() {
    for (const b of tabs.querySelectorAll(".seg-btn")) {
      const on = (filters.archetype || "") === b.dataset.archetype;
      b.classList.toggle("is-active", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    }
    const a = filters.archetype;
    archDef.replaceChildren(...(ARCHETYPE_DEFINITION[a]
      ? [h("strong", {}, ARCHETYPE_LABEL[a] + ": "), ARCHETYPE_DEFINITION[a]]
      : ["Each post gets one archetype: what its author most wants from readers. Pick one to see only those posts."]));
    if (document.activeElement !== search) search.value = filters.q || "";
    searchIn.value = filters.search_in || "posts";
    subSelect.value = filters.subreddit || "";
    if (subSelect.value !== (filters.subreddit || "")) {
      // A subreddit in the URL that is no longer a target: still show it as chosen.
      subSelect.append(h("option", { value: filters.subreddit }, sub(filters.subreddit)));
      subSelect.value = filters.subreddit;
    }
    minRange.value = filters.min_score ?? 0;
    maxRange.value = filters.max_score ?? 10;
    showRange();
    sortSelect.value = filters.sort || "-success_score";
    kwSelect.value = filters.mentions_keywords || "";
    confSelect.value = filters.min_confidence || "";
    if (confSelect.value !== (filters.min_confidence || "")) {
      confSelect.append(h("option", { value: filters.min_confidence }, `≥ ${Math.round(Number(filters.min_confidence) * 100)}%`));
      confSelect.value = filters.min_confidence;
    }
  }

  return {
    el,
    setQuery(query) {
      filters = readFilters(query);
      syncControls();
      if (stats) renderStats(); // the charts highlight the current archetype / score range
      return loadPosts();
    },
    setStats(s) {
      stats = s;
      renderStats();
    },
    setRuns(list) {
      runsBody.replaceChildren(runsTable(list));
    },
    reloadPosts: () => loadPosts(),
  };
}

function statCard(label, value, key, suffix) {
  return h("div", { class: "card stat" }, h("span", { class: "stat-label" }, label),
    h("span", { class: "stat-value", dataset: { stat: key } }, value, suffix ? h("span", { class: "stat-suffix" }, " " + suffix) : null));
}

function runsTable(runs) {
  if (!runs.length) return h("p", { class: "muted pad" }, "No collections yet.");
  const cols = ["Started", "Status", "Scraped", "Passed filter", "Classified", "Stored", "Duplicates", "Duration"];
  return h("table", { class: "table", dataset: { testid: "runs" } },
    h("thead", {}, h("tr", {}, ...cols.map((c, i) => h("th", { scope: "col", class: i > 1 ? "num" : undefined }, c)))),
    h("tbody", {}, ...runs.map((r) => h("tr", { dataset: { taskId: r.task_id } },
      h("td", {}, dateTime(r.created_at)),
      h("td", {}, h("span", { class: ["pill", "pill-sm", "pill-" + r.status] }, STATUS_LABEL[r.status] || r.status),
        sourceNote(r)),
      h("td", { class: "num" }, num(r.scraped)),
      h("td", { class: "num" }, num(r.filtered)),
      h("td", { class: "num" }, num(r.classified)),
      h("td", { class: "num" }, num(r.stored)),
      h("td", { class: "num" }, num(r.duplicates)),
      h("td", { class: "num" }, duration(r.started_at || r.created_at, r.finished_at))))));
}

// "2 errors" with each subreddit's status in words (blocked, not found, empty...) on hover and
// for screen readers; nothing when every subreddit was read.
function sourceNote(r) {
  const lines = sourceStatusLines(r);
  const general = (r.errors || []).filter((e) => !e.subreddit).map((e) => ({ name: "", text: e.message }));
  const all = [...lines, ...general];
  if (!all.length) return null;
  const errors = (r.errors || []).length;
  const label = errors ? ` ${errors} error${errors > 1 ? "s" : ""}` : ` ${all.length} empty`;
  const words = all.map((l) => (l.name ? `${sub(l.name)}: ${l.text}` : l.text)).join("\n");
  return h("span", { class: "muted small", title: words, "aria-label": words, dataset: { testid: "source-status" } }, label);
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "campaign";
}

function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}
