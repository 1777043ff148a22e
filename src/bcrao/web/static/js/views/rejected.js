// Review what a run threw away: its filter reasons with counts, the kept samples of one
// reason a page at a time (title linked to Reddit, text preview), and "Should have been
// kept", which stores the sample as a post (a correction the user's model learns from).

import { api } from "../api.js";
import { h, icon } from "../dom.js";
import { dateTime, FILTER_REASON_LABEL, humanize, num, plural, sub } from "../format.js";
import { toast } from "../toast.js";

export const SAMPLES_PER_PAGE = 10;

const reasonLabel = (r) => FILTER_REASON_LABEL[r] || humanize(r);

/**
 * @param {object} o
 * @param {string} o.taskId        the run whose samples are shown
 * @param {(post: object) => void} o.onKept   a sample was stored as a post
 * @param {(post: object) => void} o.onOpen   show a kept post
 * @param {() => void} o.onClose
 */
export function rejectedReview({ taskId, onKept, onOpen, onClose }) {
  const kept = new Map(); // reddit_post_id -> post, so paging back still says "Kept"
  let reason = null;
  let page = 1;
  const reasons = h("div", { class: "seg seg-wrap", role: "group", "aria-label": "Filter reason", dataset: { testid: "rejected-reasons" } });
  const note = h("p", { class: "muted small", "aria-live": "polite", dataset: { testid: "rejected-note" } });
  const list = h("ul", { class: "rejected-list", dataset: { testid: "rejected-list" } });
  const pager = h("nav", { class: "pager", "aria-label": "Sample pages" });
  const meta = h("p", { class: "muted small" }, "Loading the run…");
  const close = h("button", { type: "button", class: "btn btn-ghost btn-sm" }, icon("close"), "Close");
  close.addEventListener("click", () => onClose());
  const el = h("section", { class: "card rejected-section", id: "rejected", tabindex: "-1", "aria-labelledby": "rejected-h",
    dataset: { testid: "rejected-review", taskId } },
  h("div", { class: "section-head" },
    h("div", {}, h("h2", { id: "rejected-h" }, "What the filter threw away"), meta), close),
  reasons, note, list, pager);

  async function start() {
    try {
      const run = await api.get(`/v1/collection/${taskId}`);
      const rows = Object.entries(run.filter_reasons || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
      meta.textContent = `Run of ${dateTime(run.created_at)}: ${plural(run.scraped - run.filtered, "post")} filtered out of ${num(run.scraped)}. `
        + "Pick a reason to read what it threw away; keep anything the filter got wrong.";
      if (!rows.length) {
        reasons.replaceChildren();
        note.textContent = "This run filtered nothing out.";
        return;
      }
      reasons.replaceChildren(...rows.map(([r, n]) => {
        const b = h("button", { type: "button", class: "seg-btn", dataset: { reason: r }, "aria-pressed": "false" },
          reasonLabel(r), h("span", { class: "seg-count" }, num(n)));
        b.addEventListener("click", () => choose(r));
        return b;
      }));
      await choose(rows[0][0]);
    } catch (err) {
      meta.textContent = "";
      note.textContent = err.message;
    }
  }

  async function choose(r, p = 1) {
    reason = r;
    page = p;
    for (const b of reasons.querySelectorAll(".seg-btn")) {
      const on = b.dataset.reason === r;
      b.classList.toggle("is-active", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    }
    list.setAttribute("aria-busy", "true");
    try {
      const res = await api.get(`/v1/collection/${taskId}/rejected`, { reason: r, page: p, per_page: SAMPLES_PER_PAGE });
      if (reason !== r || page !== p) return; // a newer choice won
      render(res);
    } catch (err) {
      toast(err.message, "error");
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function render(res) {
    const first = (res.page - 1) * res.per_page + 1;
    const last = first + res.rejected.length - 1;
    const rejected = reasons.querySelector(`[data-reason="${reason}"] .seg-count`)?.textContent;
    note.textContent = res.total
      ? `${reasonLabel(reason)}: samples ${num(first)}–${num(last)} of ${plural(res.total, "kept sample")}`
        + (rejected && rejected !== num(res.total) ? ` (of ${rejected} filtered out; a run keeps up to 50 per reason).` : ".")
      : `${reasonLabel(reason)}: no samples were kept.`;
    list.replaceChildren(...res.rejected.map(sampleItem));
    const pages = Math.max(1, Math.ceil(res.total / res.per_page));
    pager.replaceChildren();
    if (pages > 1) {
      const prev = h("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: res.page <= 1 }, icon("back"), "Previous");
      const next = h("button", { type: "button", class: "btn btn-secondary btn-sm", disabled: res.page >= pages }, "Next", icon("chevron"));
      prev.addEventListener("click", () => choose(reason, res.page - 1));
      next.addEventListener("click", () => choose(reason, res.page + 1));
      pager.append(prev, h("span", { class: "pager-label", dataset: { testid: "rejected-page" } }, `Page ${res.page} of ${pages}`), next);
    }
  }

  function sampleItem(r) {
    const action = h("div", { class: "rejected-actions" });
    const showKept = (post) => {
      const open = h("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { testid: "open-kept" } }, "Open post");
      open.addEventListener("click", () => onOpen(post));
      action.replaceChildren(h("span", { class: "badge badge-kept", dataset: { testid: "kept" } }, "Kept"), open);
    };
    if (kept.has(r.reddit_post_id)) {
      showKept(kept.get(r.reddit_post_id));
    } else {
      const keep = h("button", { type: "button", class: "btn btn-secondary btn-sm", dataset: { testid: "keep" } }, "Should have been kept");
      keep.addEventListener("click", async () => {
        keep.disabled = true;
        try {
          const post = await api.put(`/v1/collection/${taskId}/rejected/${r.reddit_post_id}/keep`);
          kept.set(r.reddit_post_id, post);
          showKept(post);
          toast("Kept: it is now among your posts", "success");
          onKept(post);
        } catch (err) {
          keep.disabled = false;
          toast(err.message, "error");
        }
      });
      action.append(keep);
    }
    const title = r.title || "(no title)";
    return h("li", { class: "card rejected-item", dataset: { testid: "rejected-sample", redditPostId: r.reddit_post_id } },
      h("div", { class: "rejected-top" },
        r.reddit_url
          ? h("a", { class: "sample-title", href: r.reddit_url, target: "_blank", rel: "noopener noreferrer" }, title, icon("external"))
          : h("span", { class: "sample-title" }, title),
        h("span", { class: "muted small" }, sub(r.subreddit))),
      r.text_preview ? h("p", { class: "sample-preview muted small" }, r.text_preview) : h("p", { class: "muted small" }, "No text."),
      action);
  }

  start();
  return { el, taskId };
}
