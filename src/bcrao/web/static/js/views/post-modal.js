// Post detail in an accessible modal: full text, metadata, the success score's breakdown as
// bars (positive contributions and penalties), a link to Reddit, and the collected comments.

import { api } from "../api.js";
import { h, icon, marked } from "../dom.js";
import { ARCHETYPE_LABEL, dateTime, humanize, num, score, sub } from "../format.js";
import { openModal } from "../modal.js";
import { toast } from "../toast.js";
import { threadSection } from "./thread.js";

// Largest possible contribution of each known component (see DESIGN.md "score"); anything
// unknown is drawn against the 0-10 scale.
const COMPONENT_MAX = {
  upvotes_percentile: 3, comments_percentile: 2.5, discussion_depth: 1.5, upvote_ratio: 1.5,
  personal_voice: 1.5, jargon_penalty: 2, link_penalty: 2,
};

// Relevance signals (bcrao.collection.prefilter.WEIGHTS): the most each can give, and what
// it means in a founder's words.
const RELEVANCE_SIGNALS = {
  keywords_title: [3, "Your keywords in the title"],
  keywords_text: [2.25, "Your keywords in the text"],
  context: [1.75, "Words of your product description"],
  personal_voice: [0.6, "Written in the first person"],
  question: [0.4, "Asks a question"],
  emotion: [0.35, "Says how it feels"],
  specifics: [0.6, "Gives specifics (numbers, money, time)"],
  story: [0.35, "Tells what happened"],
  length: [0.35, "Length"],
  engagement: [0.35, "Engagement on Reddit"],
};

// Below this the classifier was torn between archetypes (see docs/LABELS.md): say so.
export const LOW_CONFIDENCE = 0.6;

export function isLowConfidence(confidence) {
  return typeof confidence === "number" && confidence < LOW_CONFIDENCE;
}

export function archetypeBadge(archetype, confidence) {
  const low = isLowConfidence(confidence);
  return h("span", {
    class: ["badge arch-badge", `arch-${archetype}`, low && "is-unsure"],
    title: typeof confidence === "number" ? `Label confidence ${Math.round(confidence * 100)}%` : null,
  },
  h("span", { class: `badge-dot arch-bg-${archetype}`, "aria-hidden": "true" }), ARCHETYPE_LABEL[archetype] || archetype,
  low ? h("span", { class: "unsure-mark", dataset: { testid: "low-confidence" } }, " · unsure") : null);
}

const SOURCE_LABEL = { model: "Offline model", llm: "AI (LLM)", user: "You (corrected)" };

// "Teach it": correct the archetype, restore the machine's, or say the post is noise.
function correctionControls(campaignId, p, onChange) {
  const path = `/v1/campaigns/${campaignId}/posts/${p.id}`;
  const choose = h("select", { id: "label-fix", "aria-label": "Correct the archetype" },
    ...["Journey", "ProblemSolution", "Feedback"].map((a) => h("option", { value: a, selected: a === p.archetype }, ARCHETYPE_LABEL[a] || a)));
  const apply = h("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { testid: "label-save" } }, "Save label");
  const noise = h("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { testid: "mark-noise" } }, "Not useful: hide it");
  const act = (fn) => async () => {
    for (const b of [apply, noise, restore]) if (b) b.disabled = true;
    try { onChange(await fn()); } catch (err) { toast(err.message, "error"); }
    for (const b of [apply, noise, restore]) if (b) b.disabled = false;
  };
  apply.addEventListener("click", act(() => api.put(`${path}/label`, { archetype: choose.value })));
  noise.addEventListener("click", act(async () => { await api.put(`${path}/noise`); toast("Hidden from your results", "success"); return null; }));
  const restore = p.archetype_source === "user"
    ? h("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { testid: "label-restore" } }, "Restore the machine's label")
    : null;
  if (restore) restore.addEventListener("click", act(() => api.del(`${path}/label`)));
  return h("div", { class: "label-fix" }, h("label", { for: "label-fix", class: "control-label" }, "Right label?"), choose, apply, restore, noise);
}

function labelSection(p) {
  if (!p.archetype_source) return null;
  const pct = typeof p.archetype_confidence === "number" ? Math.round(p.archetype_confidence * 100) + "%" : "—";
  const reasons = p.archetype_reasons || [];
  return h("section", { class: "label-why", "aria-labelledby": "label-why-h", dataset: { testid: "label-why" } },
    h("h3", { id: "label-why-h" }, `Why “${ARCHETYPE_LABEL[p.archetype] || p.archetype}”`),
    h("p", { class: "muted small" },
      `Labelled by ${SOURCE_LABEL[p.archetype_source] || p.archetype_source}, confidence ${pct}`,
      isLowConfidence(p.archetype_confidence) ? " — a close call between archetypes." : "."),
    reasons.length ? h("ul", { class: "chip-list" }, ...reasons.map((r) => h("li", { class: "chip" }, r))) : null);
}

export function openPost(campaignId, postId, onCorrected) {
  const body = h("div", { class: "post-detail", "aria-busy": "true" }, h("p", { class: "loading" }, "Loading post…"));
  // A correction refreshes the results once the dialog closes, not under it.
  let corrected = false;
  const modal = openModal({ title: "Post", body, wide: true, onClose: () => { if (corrected) onCorrected?.(postId); } });
  modal.dialog.dataset.testid = "post-modal";
  api.get(`/v1/campaigns/${campaignId}/posts/${postId}`)
    .then((p) => {
      modal.dialog.querySelector(".modal-title").textContent = p.title;
      const thread = threadSection(campaignId, p); // loaded once; a correction does not change it
      const show = (post) => {
        if (post === null) { corrected = true; modal.close(); return; } // hidden as noise
        body.replaceChildren(...render(post), correctionControls(campaignId, post, (next) => { corrected = true; show(next); }), thread);
      };
      show(p);
      body.setAttribute("aria-busy", "false");
    })
    .catch((err) => body.replaceChildren(h("div", { class: "alert alert-error", role: "alert" }, err.message)));
  return modal;
}

function render(p) {
  const meta = h("div", { class: "post-meta" },
    archetypeBadge(p.archetype, p.archetype_confidence),
    h("span", { class: "meta-item" }, sub(p.subreddit)),
    h("span", { class: "meta-item" }, icon("user"), p.author ? "u/" + p.author : "[deleted]"),
    h("span", { class: "meta-item" }, icon("clock"), h("time", { datetime: p.reddit_created_at }, dateTime(p.reddit_created_at))));
  const facts = h("dl", { class: "post-facts" },
    fact("Success score", `${score(p.success_score)} / 10`, "fact-score"),
    fact("Upvotes", num(p.upvotes)),
    fact("Comments", num(p.comment_count)),
    fact("Upvote ratio", p.upvote_ratio === null || p.upvote_ratio === undefined ? "—" : Math.round(p.upvote_ratio * 100) + "%"),
    fact("Relevance", p.relevance_score === null || p.relevance_score === undefined ? "—" : `${score(p.relevance_score)} / 10`),
    fact("Labelled by", SOURCE_LABEL[p.archetype_source] || (p.classifier ? p.classifier : "—")),
    fact("Your keywords", (p.matched_keywords || []).length ? p.matched_keywords.join(", ") : "none mentioned"));
  const text = h("div", { class: "post-text" }, p.raw_text ? marked(p.raw_text, p.matched_keywords) : h("em", { class: "muted" }, "No text body."));
  const out = [meta, facts, text, labelSection(p), keptSection(p), breakdown(p.score_breakdown || {})].filter(Boolean);
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

function pointsRow(label, value, max) {
  const fill = h("span", { class: ["bd-fill", value < 0 && "is-negative"] });
  fill.style.width = Math.min(100, (Math.abs(value) / max) * 100) + "%";
  return h("li", { class: "bd-row" },
    h("span", { class: "bd-label" }, label),
    h("span", { class: "bd-bar", "aria-hidden": "true" }, fill),
    h("span", { class: ["bd-value", value < 0 && "is-negative"] }, (value > 0 ? "+" : value < 0 ? "−" : "") + Math.abs(value).toFixed(2)));
}

// Why the post survived the noise filter and how much it is about the campaign: the
// relevance signals that gave points (they add up to the relevance), and the keywords.
function keptSection(p) {
  const signals = Object.entries(p.relevance_breakdown || {})
    .filter(([, v]) => typeof v === "number" && v > 0)
    .sort((a, b) => b[1] - a[1]);
  const keywords = p.matched_keywords || [];
  return h("section", { class: "breakdown kept-why", "aria-labelledby": "kept-why-h", dataset: { testid: "kept-why" } },
    h("h3", { id: "kept-why-h" }, "Why it was kept",
      typeof p.relevance_score === "number" ? h("span", { class: "bd-total" }, ` relevance ${score(p.relevance_score)} / 10`) : null),
    h("p", { class: "muted small" }, "It passed every noise check (removed, stickied, promotional, off-topic meta threads, too short, not English, duplicate)",
      keywords.length ? ` and mentions your keywords: ${keywords.join(", ")}.` : ", though it mentions none of your keywords."),
    signals.length
      ? h("ul", { class: "bd-list" }, ...signals.map(([key, value]) => {
        const [max, label] = RELEVANCE_SIGNALS[key] || [10, humanize(key)];
        return pointsRow(label, value, max);
      }))
      : h("p", { class: "muted small" }, "Collected before relevance was explained: no signals stored."));
}

function breakdown(b) {
  const entries = Object.entries(b).filter(([k, v]) => k !== "total" && typeof v === "number");
  if (!entries.length) return h("p", { class: "muted" }, "No score breakdown stored for this post.");
  const rows = entries.map(([key, value]) => pointsRow(humanize(key), value, COMPONENT_MAX[key] || 10));
  return h("section", { class: "breakdown", "aria-labelledby": "bd-title", dataset: { testid: "score-why" } },
    h("h3", { id: "bd-title" }, "Why this score",
      typeof b.total === "number" ? h("span", { class: "bd-total" }, ` = ${score(b.total)}`) : null),
    h("ul", { class: "bd-list" }, ...rows));
}
