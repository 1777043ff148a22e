// Insights: the campaign's themes and pain points, each with its size, trend, archetype mix
// and quotes that link to the post or comment they were cut from. The themes are computed in
// the background after each run; while they are, the previous ones stay on screen.

import { api } from "../api.js";
import { h, icon, s } from "../dom.js";
import { ARCHETYPE_LABEL, dateTime, num, score } from "../format.js";
import { toast } from "../toast.js";

const SORTS = [["-size", "Biggest first"], ["-pain_score", "Most painful first"], ["-direction", "Rising first"]];
const ARCHETYPES = ["Journey", "ProblemSolution", "Feedback", "Unclassified"];
const DIRECTION = { rising: ["Rising", "↗"], steady: ["Steady", "→"], fading: ["Fading", "↘"] };
const STATUS_TEXT = {
  computing: "Finding themes in the latest posts…",
  stale: "New posts arrived since these themes were found; updating…",
  empty: "Not enough posts yet to find themes: collect some first.",
};
const POLL_MS = 2500;

export function insightsSection({ campaign, onTheme }) {
  const sort = h("select", { id: "themes-sort", "aria-label": "Order themes" }, ...SORTS.map(([v, l]) => h("option", { value: v }, l)));
  const brief = h("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { testid: "download-brief" } }, icon("download"), "Research brief");
  const status = h("p", { class: "muted small", "aria-live": "polite", dataset: { testid: "themes-status" } });
  const grid = h("div", { class: "theme-grid", dataset: { testid: "themes" } });
  const el = h("section", { class: "insights-section", "aria-labelledby": "insights-h" },
    h("div", { class: "section-head" }, h("h2", { id: "insights-h" }, "Insights: themes and pain points"),
      h("div", { class: "export" }, sort, brief)),
    status, grid);

  let timer = null;
  let closed = false;

  async function load() {
    clearTimeout(timer);
    try {
      const body = await api.get(`/v1/campaigns/${campaign.id}/themes`, { sort: sort.value });
      if (closed) return;
      el.dataset.status = body.status;
      render(body);
      if (body.status === "computing" || body.status === "stale") timer = setTimeout(load, POLL_MS);
    } catch (err) {
      status.textContent = "Themes could not be loaded: " + err.message;
    }
  }

  function render(body) {
    const when = body.computed_at ? ` Found ${dateTime(body.computed_at)}.` : "";
    status.textContent = body.status === "ready"
      ? `${body.themes.length} themes across ${num(body.total_posts)} posts (${num(body.unassigned)} in none).${when}`
      : STATUS_TEXT[body.status] || "";
    grid.replaceChildren(...body.themes.map((t) => themeCard(t, onTheme)));
  }

  sort.addEventListener("change", load);
  brief.addEventListener("click", async () => {
    brief.disabled = true;
    try {
      const name = await api.download(`/v1/campaigns/${campaign.id}/report`, { format: "md" }, "research-brief.md");
      toast(`Downloaded ${name}`, "success");
    } catch (err) {
      toast("The brief could not be downloaded: " + err.message, "error");
    } finally {
      brief.disabled = false;
    }
  });
  load();
  return { el, reload: load, close() { closed = true; clearTimeout(timer); } };
}

function themeCard(t, onTheme) {
  const [dirLabel, arrow] = DIRECTION[t.direction] || [t.direction, ""];
  const see = h("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { testid: "theme-posts" } }, `See the ${num(t.size)} posts`);
  see.addEventListener("click", () => onTheme(t));
  return h("article", { class: "card theme-card", dataset: { themeId: String(t.id), testid: "theme" } },
    h("div", { class: "theme-top" },
      h("h3", { class: "theme-label" }, t.label),
      h("span", { class: ["pill", `dir-${t.direction}`], title: "Last 4 weeks against the 4 before" }, `${arrow} ${dirLabel}`)),
    h("p", { class: "muted small" },
      `${num(t.size)} posts · ${Math.round(t.share * 100)}% · avg score ${score(t.avg_success_score)} · pain ${score(t.pain_score)}/10`),
    h("div", { class: "theme-visuals" }, sparkline(t.trend), mixBar(t.by_archetype, t.size)),
    h("ul", { class: "chip-list" }, ...t.terms.slice(0, 6).map((term) => h("li", { class: "chip" }, term))),
    h("ul", { class: "quotes" }, ...t.quotes.slice(0, 3).map(quoteItem)),
    see);
}

function quoteItem(q) {
  return h("li", { class: "quote", dataset: { testid: "quote" } },
    h("blockquote", {}, `“${q.text}”`),
    h("a", { href: q.reddit_url, target: "_blank", rel: "noopener noreferrer", class: "quote-link" },
      q.comment_id ? "comment on Reddit" : "post on Reddit", icon("external")),
    h("span", { class: "muted small" }, ` ↑${num(q.upvotes)}`));
}

function sparkline(trend) {
  const w = 120, ht = 28;
  const max = Math.max(1, ...trend.map((p) => p.count));
  const step = trend.length > 1 ? w / (trend.length - 1) : w;
  const points = trend.map((p, i) => `${(i * step).toFixed(1)},${(ht - 2 - (p.count / max) * (ht - 4)).toFixed(1)}`).join(" ");
  const label = `Posts per week: ${trend.map((p) => p.count).join(", ")}`;
  return s("svg", { class: "sparkline", viewBox: `0 0 ${w} ${ht}`, role: "img", "aria-label": label },
    s("title", {}, label), s("polyline", { points, fill: "none" }));
}

function mixBar(mix, size) {
  const bar = h("div", { class: "mix-bar", role: "img", "aria-label": ARCHETYPES.map((a) => `${ARCHETYPE_LABEL[a]} ${mix[a] || 0}`).join(", ") });
  for (const a of ARCHETYPES) {
    if (!mix[a]) continue;
    const seg = h("span", { class: `mix-seg arch-bg-${a}`, title: `${ARCHETYPE_LABEL[a]}: ${mix[a]}` });
    seg.style.width = `${(mix[a] / size) * 100}%`;
    bar.append(seg);
  }
  return bar;
}
