// A post's comments in the post dialog: the thread as Reddit shows it (best first, replies
// under their comment, each branch collapsible), or flat by votes or time, paged by "Show
// more". Deleted comments keep their place, without author or text.

import { api } from "../api.js";
import { h, icon } from "../dom.js";
import { dateTime, num } from "../format.js";

const PER_PAGE = 100;
const ORDERS = [["tree", "Thread"], ["top", "Most upvoted"], ["new", "Newest"]];

export function threadSection(campaignId, post) {
  const list = h("ol", { class: "thread", dataset: { testid: "thread" } });
  const status = h("p", { class: "muted small", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "btn btn-ghost btn-sm", hidden: true, dataset: { testid: "thread-more" } }, "Show more comments");
  const order = h("select", { id: "thread-order", "aria-label": "Order comments" }, ...ORDERS.map(([v, l]) => h("option", { value: v }, l)));
  const section = h("section", { class: "thread-section", "aria-labelledby": "thread-h" },
    h("div", { class: "thread-head" },
      h("h3", { id: "thread-h" }, "Comments"), order),
    status, list, more);

  let page = 0;
  let total = 0;
  // Where each comment's replies go, by fullname, for the tree order.
  let containers = new Map();

  async function load(reset) {
    if (reset) {
      page = 0;
      list.replaceChildren();
      containers = new Map();
    }
    more.disabled = true;
    status.textContent = page === 0 ? "Loading comments…" : "";
    try {
      const body = await api.get(`/v1/campaigns/${campaignId}/posts/${post.id}/comments`, { order: order.value, page: page + 1, per_page: PER_PAGE });
      page += 1;
      total = body.total;
      for (const c of body.comments) place(c);
      const shown = list.querySelectorAll(".comment").length;
      status.textContent = total === 0
        ? (post.comment_count ? "No comments were collected for this post." : "Nobody has commented yet.")
        : `${num(total)} comment${total === 1 ? "" : "s"} collected${post.comment_count > total ? ` of ${num(post.comment_count)} on Reddit` : ""}`;
      more.hidden = shown >= total;
    } catch (err) {
      status.textContent = "Comments could not be loaded: " + err.message;
    } finally {
      more.disabled = false;
    }
  }

  function place(c) {
    const item = commentItem(c);
    const parent = order.value === "tree" ? containers.get(c.parent_id) : null;
    (parent || list).append(item.el);
    containers.set(`t1_${c.reddit_comment_id}`, item.replies);
  }

  order.addEventListener("change", () => load(true));
  more.addEventListener("click", () => load(false));
  load(true);
  return section;
}

function commentItem(c) {
  const replies = h("ol", { class: "thread-replies" });
  const toggle = h("button", { type: "button", class: "btn-link thread-toggle", "aria-expanded": "true", title: "Hide the replies" }, "−");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    replies.hidden = open;
    toggle.setAttribute("aria-expanded", open ? "false" : "true");
    toggle.textContent = open ? `+ ${replies.querySelectorAll(".comment").length}` : "−";
    toggle.title = open ? "Show the replies" : "Hide the replies";
  });
  const head = h("div", { class: "comment-head" },
    toggle,
    h("span", { class: "comment-author" }, c.is_deleted ? "[deleted]" : `u/${c.author || "[deleted]"}`),
    h("span", { class: "meta-item", title: "Upvotes" }, icon("up"), num(c.upvotes)),
    h("time", { class: "meta-item muted", datetime: c.reddit_created_at }, dateTime(c.reddit_created_at)),
    h("a", { class: "comment-link", href: c.reddit_url, target: "_blank", rel: "noopener noreferrer", title: "Open this comment on Reddit" }, "Reddit", icon("external")));
  const body = c.is_deleted
    ? h("p", { class: "comment-body muted" }, h("em", {}, "This comment was deleted or removed on Reddit."))
    : h("p", { class: "comment-body" }, c.body);
  const el = h("li", { class: ["comment", c.is_deleted && "is-deleted"], dataset: { testid: "comment", commentId: c.reddit_comment_id } }, head, body, replies);
  // The toggle only makes sense once replies arrive.
  toggle.hidden = true;
  new MutationObserver(() => { toggle.hidden = !replies.firstChild; }).observe(replies, { childList: true });
  return { el, replies };
}
