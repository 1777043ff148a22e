// Campaign list: each card shows what was collected and how the last run went, with
// quick actions (open, edit, archive/restore, delete).

import { api } from "../api.js";
import { h, icon } from "../dom.js";
import { num, plural, relative, STATUS_LABEL, sub } from "../format.js";
import { navigate } from "../router.js";
import { confirmDialog } from "../modal.js";
import { toast } from "../toast.js";

const PER_PAGE = 12;

export const campaignsView = {
  mount(root, ctx) {
    document.title = "Campaigns · BC-RAO Collector";
    const statusSelect = h("select", { id: "status-filter", class: "select-sm" },
      h("option", { value: "" }, "All statuses"),
      ...["active", "paused", "archived"].map((s) => h("option", { value: s }, STATUS_LABEL[s])));
    const list = h("div", { class: "campaign-grid", "aria-busy": "true" });
    const pager = h("nav", { class: "pager", "aria-label": "Campaign pages" });
    root.append(h("section", { class: "page" },
      h("header", { class: "page-head" },
        h("div", {}, h("h1", {}, "Campaigns"),
          h("p", { class: "muted" }, "Each campaign collects from its own subreddits with its own keywords.")),
        h("div", { class: "page-actions" },
          h("label", { class: "visually-hidden", for: "status-filter" }, "Filter by status"), statusSelect,
          h("a", { class: "btn btn-primary", href: "#/campaigns/new" }, icon("plus"), "New campaign"))),
      list, pager));

    statusSelect.addEventListener("change", () => navigate("/campaigns", { status: statusSelect.value }));

    let token = 0;
    async function load(query) {
      const mine = ++token;
      const status = query.get("status") || "";
      const page = Math.max(1, Number(query.get("page")) || 1);
      statusSelect.value = status;
      list.setAttribute("aria-busy", "true");
      try {
        const res = await api.get("/v1/campaigns", { status, page, per_page: PER_PAGE });
        if (mine !== token) return;
        render(res, status, page);
      } catch (err) {
        if (mine === token) list.replaceChildren(h("div", { class: "alert alert-error", role: "alert" }, err.message));
      } finally {
        list.setAttribute("aria-busy", "false");
      }
    }

    function render(res, status, page) {
      if (!res.campaigns.length) {
        list.replaceChildren(h("div", { class: "empty card" },
          h("img", { src: "/static/img/logo.svg", alt: "", width: 48, height: 48 }),
          h("h2", {}, status ? `No ${STATUS_LABEL[status].toLowerCase()} campaigns` : "No campaigns yet"),
          h("p", { class: "muted" }, "Create a campaign, pick a few subreddits and start your first collection."),
          h("a", { class: "btn btn-primary", href: "#/campaigns/new" }, icon("plus"), "Create a campaign")));
      } else {
        list.replaceChildren(...res.campaigns.map((c) => card(c, () => load(ctxQuery()))));
      }
      const pages = Math.max(1, Math.ceil(res.total / res.per_page));
      pager.replaceChildren();
      if (pages > 1) {
        const q = (p) => ({ status, page: p });
        pager.append(
          h("a", { class: "btn btn-secondary btn-sm", href: `#/campaigns?${new URLSearchParams(q(page - 1))}`,
            "aria-disabled": page <= 1 ? "true" : undefined, tabindex: page <= 1 ? "-1" : undefined }, "Previous"),
          h("span", { class: "pager-label" }, `Page ${page} of ${pages}`),
          h("a", { class: "btn btn-secondary btn-sm", href: `#/campaigns?${new URLSearchParams(q(page + 1))}`,
            "aria-disabled": page >= pages ? "true" : undefined, tabindex: page >= pages ? "-1" : undefined }, "Next"));
      }
    }

    let current = ctx.query;
    const ctxQuery = () => current;
    load(current);
    return { update(next) { current = next.query; load(current); } };
  },
};

function card(c, reload) {
  const last = c.stats.last_run;
  const open = `#/campaigns/${c.id}`;
  const archiveBtn = h("button", { type: "button", class: "btn btn-ghost btn-sm" },
    c.status === "archived" ? "Restore" : "Archive");
  const deleteBtn = h("button", { type: "button", class: "btn btn-ghost btn-sm btn-danger-text" }, "Delete");

  archiveBtn.addEventListener("click", async () => {
    const next = c.status === "archived" ? "active" : "archived";
    try {
      await api.patch(`/v1/campaigns/${c.id}`, { status: next });
      toast(next === "archived" ? `Archived “${c.name}”` : `Restored “${c.name}”`, "success");
      reload();
    } catch (err) { toast(err.message, "error"); }
  });
  deleteBtn.addEventListener("click", async () => {
    const ok = await confirmDialog({
      title: "Delete campaign?",
      message: `“${c.name}” and its ${plural(c.stats.posts_collected, "collected post")} and ${plural(c.stats.runs, "run")} will be deleted. This cannot be undone.`,
      confirmLabel: "Delete campaign",
      danger: true,
    });
    if (!ok) return;
    try {
      await api.del(`/v1/campaigns/${c.id}`);
      toast(`Deleted “${c.name}”`, "success");
      reload();
    } catch (err) { toast(err.message, "error"); }
  });

  const shown = c.target_subreddits.slice(0, 4);
  return h("article", { class: ["card", "campaign-card", c.status === "archived" && "is-archived"], dataset: { id: c.id } },
    h("div", { class: "campaign-card-head" },
      h("h2", { class: "campaign-card-title" }, h("a", { href: open, class: "stretched" }, c.name)),
      h("span", { class: ["pill", "pill-" + c.status] }, STATUS_LABEL[c.status])),
    c.product_context ? h("p", { class: "campaign-card-context" }, c.product_context) : null,
    h("ul", { class: "tag-list", "aria-label": "Target subreddits" },
      ...shown.map((s) => h("li", { class: "tag" }, sub(s))),
      c.target_subreddits.length > shown.length ? h("li", { class: "tag tag-more" }, `+${c.target_subreddits.length - shown.length}`) : null),
    h("dl", { class: "mini-stats" },
      h("div", {}, h("dt", {}, "Posts"), h("dd", { dataset: { stat: "posts" } }, num(c.stats.posts_collected))),
      h("div", {}, h("dt", {}, "Runs"), h("dd", { dataset: { stat: "runs" } }, num(c.stats.runs))),
      h("div", {}, h("dt", {}, "Last run"), h("dd", {},
        last ? h("span", { class: ["pill", "pill-sm", "pill-" + last.status] }, STATUS_LABEL[last.status] || last.status) : "Never",
        last ? h("span", { class: "muted small" }, " " + relative(last.finished_at || last.created_at)) : null))),
    h("div", { class: "campaign-card-actions" },
      h("a", { class: "btn btn-secondary btn-sm", href: open }, "Open"),
      h("a", { class: "btn btn-ghost btn-sm", href: `#/campaigns/${c.id}/edit` }, "Edit"),
      archiveBtn, deleteBtn));
}
