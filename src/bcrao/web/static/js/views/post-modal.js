// Post detail in an accessible modal: full text, metadata, and the success score's breakdown
// as bars (positive contributions and penalties), with a link to the thread on Reddit.

import { api } from "../api.js";
import { h, icon } from "../dom.js";
import { ARCHETYPE_LABEL, dateTime, humanize, num, score, sub } from "../format.js";
import { openModal } from "../modal.js";

// Largest possible contribution of each known component (see DESIGN.md "score"); anything
// unknown is drawn against the 0-10 scale.
const COMPONENT_MAX = {
  upvotes_percentile: 3, comments_percentile: 2.5, discussion_depth: 1.5, upvote_ratio: 1.5,
  personal_voice: 1.5, jargon_penalty: 2, link_penalty: 2,
};

export function archetypeBadge(archetype) {
  return h("span", { class: `badge arch-badge arch-${archetype}` },
    h("span", { class: `badge-dot arch-bg-${archetype}`, "aria-hidden": "true" }), ARCHETYPE_LABEL[archetype] || archetype);
}

export function openPost(campaignId, postId) {
  const body = h("div", { class: "post-detail", "aria-busy": "true" }, h("p", { class: "loading" }, "Loading post…"));
  const modal = openModal({ title: "Post", body, wide: true });
  modal.dialog.dataset.testid = "post-modal";
  api.get(`/v1/campaigns/${campaignId}/posts/${postId}`)
    .then((p) => {
      modal.dialog.querySelector(".modal-title").textContent = p.title;
      body.replaceChildren(...render(p));
      body.setAttribute("aria-busy", "false");
    })
    .catch((err) => body.replaceChildren(h("div", { class: "alert alert-error", role: "alert" }, err.message)));
  return modal;
}

function render(p) {
  const meta = h("div", { class: "post-meta" },
    archetypeBadge(p.archetype),
    h("span", { class: "meta-item" }, sub(p.subreddit)),
    h("span", { class: "meta-item" }, icon("user"), p.author ? "u/" + p.author : "[deleted]"),
    h("span", { class: "meta-item" }, icon("clock"), h("time", { datetime: p.reddit_created_at }, dateTime(p.reddit_created_at))));
  const facts = h("dl", { class: "post-facts" },
    fact("Success score", `${score(p.success_score)} / 10`, "fact-score"),
    fact("Upvotes", num(p.upvotes)),
    fact("Comments", num(p.comment_count)),
    fact("Upvote ratio", p.upvote_ratio === null || p.upvote_ratio === undefined ? "—" : Math.round(p.upvote_ratio * 100) + "%"),
    fact("Relevance", p.relevance_score === null || p.relevance_score === undefined ? "—" : `${score(p.relevance_score)} / 10`),
    fact("Labelled by", p.classifier ? (p.is_ai_processed ? "AI (" + p.classifier + ")" : "Rules") : "—"));
  const text = h("div", { class: "post-text" }, p.raw_text ? p.raw_text : h("em", { class: "muted" }, "No text body."));
  const out = [meta, facts, text, breakdown(p.score_breakdown || {})];
  if (p.reddit_url) {
    out.push(h("p", { class: "post-link" }, h("a", {
      class: "btn btn-secondary", href: p.reddit_url, target: "_blank", rel: "noopener noreferrer",
    }, "Open on Reddit", icon("external"))));
  }
  return out;
}

function fact(label, value, cls) {
  return h("div", { class: ["fact", cls] }, h("dt", {}, label), h("dd", {}, value));
}

function breakdown(b) {
  const entries = Object.entries(b).filter(([k, v]) => k !== "total" && typeof v === "number");
  if (!entries.length) return h("p", { class: "muted" }, "No score breakdown stored for this post.");
  const rows = entries.map(([key, value]) => {
    const max = COMPONENT_MAX[key] || 10;
    const fill = h("span", { class: ["bd-fill", value < 0 && "is-negative"] });
    fill.style.width = Math.min(100, (Math.abs(value) / max) * 100) + "%";
    return h("li", { class: "bd-row" },
      h("span", { class: "bd-label" }, humanize(key)),
      h("span", { class: "bd-bar", "aria-hidden": "true" }, fill),
      h("span", { class: ["bd-value", value < 0 && "is-negative"] }, (value > 0 ? "+" : value < 0 ? "−" : "") + Math.abs(value).toFixed(2)));
  });
  return h("section", { class: "breakdown", "aria-labelledby": "bd-title" },
    h("h3", { id: "bd-title" }, "Why this score",
      typeof b.total === "number" ? h("span", { class: "bd-total" }, ` = ${score(b.total)}`) : null),
    h("ul", { class: "bd-list" }, ...rows));
}
