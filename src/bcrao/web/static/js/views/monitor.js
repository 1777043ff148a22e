// Monitoring on the campaign page: collect by itself on a schedule, and alert rules that
// send new posts to a webhook or an email address, each with its delivery log.

import { api } from "../api.js";
import { h } from "../dom.js";
import { ARCHETYPE_LABEL, dateTime, num } from "../format.js";
import { toast } from "../toast.js";

const EVERY = [["off", "Off"], ["1h", "Every hour"], ["6h", "Every 6 hours"], ["24h", "Every day"], ["7d", "Every week"]];
const DIGESTS = [["instant", "After each collection"], ["daily", "Daily digest"], ["weekly", "Weekly digest"]];
const LABELLED = ["Journey", "ProblemSolution", "Feedback"];

export function monitorSection({ campaign }) {
  const every = h("select", { id: "schedule-every", "aria-label": "Collect automatically" }, ...EVERY.map(([v, l]) => h("option", { value: v }, l)));
  const scheduleInfo = h("p", { class: "muted small", dataset: { testid: "schedule-info" }, "aria-live": "polite" });
  const list = h("ul", { class: "alert-list", dataset: { testid: "alerts" } });
  const compliance = h("p", { class: "muted small", dataset: { testid: "compliance" } });
  const form = alertForm(campaign, (created) => {
    if (created.secret) {
      secretBox.replaceChildren(h("div", { class: "alert alert-info", role: "status", dataset: { testid: "alert-secret" } },
        h("strong", {}, "Signing secret (shown once): "), h("code", {}, created.secret),
        " — check X-BCRAO-Signature (HMAC-SHA256 of the body) with it."));
    }
    loadAlerts();
  });
  const secretBox = h("div", {});
  const el = h("section", { class: "card monitor-section", "aria-labelledby": "monitor-h" },
    h("h2", { id: "monitor-h", class: "card-title" }, "Monitoring"),
    h("div", { class: "control" }, h("label", { for: "schedule-every", class: "control-label" }, "Collect automatically"), every),
    scheduleInfo,
    h("h3", { class: "monitor-sub" }, "Alerts"), list, secretBox, form,
    h("h3", { class: "monitor-sub" }, "Deleted on Reddit, deleted here"), compliance);

  function showSchedule(s) {
    every.value = s.every;
    const parts = [];
    if (s.every !== "off" && s.next_run_at) parts.push(`Next collection ${dateTime(s.next_run_at)}.`);
    if (s.last_scheduled_run_at) parts.push(`Last scheduled ${dateTime(s.last_scheduled_run_at)}.`);
    if (s.note) parts.push(s.note);
    scheduleInfo.textContent = parts.join(" ") || "Collections run only when you start them.";
  }

  every.addEventListener("change", async () => {
    every.disabled = true;
    try {
      const updated = await api.patch(`/v1/campaigns/${campaign.id}`, { schedule: { every: every.value } });
      showSchedule(updated.schedule);
      toast(every.value === "off" ? "Automatic collection stopped" : "Automatic collection scheduled", "success");
    } catch (err) {
      toast(err.message, "error");
    } finally {
      every.disabled = false;
    }
  });

  async function loadAlerts() {
    try {
      const body = await api.get(`/v1/campaigns/${campaign.id}/alerts`);
      list.replaceChildren(...(body.alerts.length ? body.alerts.map((a) => alertItem(campaign, a, loadAlerts))
        : [h("li", { class: "muted small" }, "No alerts yet: add one to hear about new posts without looking.")]));
    } catch (err) {
      list.replaceChildren(h("li", { class: "alert alert-error" }, err.message));
    }
  }

  async function loadCompliance() {
    try {
      const c = await api.get(`/v1/campaigns/${campaign.id}/compliance`);
      const parts = [c.checked ? `${num(c.checked)} checks of stored posts on Reddit` : "No post has been checked on Reddit yet"];
      parts.push(`${num(c.purged)} deleted or removed item${c.purged === 1 ? "" : "s"} purged`);
      if (c.last_checked_at) parts.push(`last check ${dateTime(c.last_checked_at)}`);
      if (c.next_check_at) parts.push(`next ${dateTime(c.next_check_at)}`);
      compliance.textContent = parts.join(" · ") + ".";
    } catch (err) {
      compliance.textContent = "The deletion checks could not be read: " + err.message;
    }
  }

  showSchedule(campaign.schedule || { every: "off" });
  loadAlerts();
  loadCompliance();
  return { el, refresh: loadAlerts };
}

function rulesText(a) {
  const parts = [];
  parts.push(a.archetypes.length ? a.archetypes.map((x) => ARCHETYPE_LABEL[x] || x).join(" or ") : "any archetype");
  if (a.min_success_score !== null) parts.push(`score ≥ ${a.min_success_score}`);
  if (a.min_relevance !== null) parts.push(`relevance ≥ ${a.min_relevance}`);
  if (a.keywords.length) parts.push(`mentions ${a.keywords.join(", ")}`);
  if (a.subreddits.length) parts.push(a.subreddits.map((s) => "r/" + s).join(", "));
  return parts.join(" · ");
}

function alertItem(campaign, a, reload) {
  const base = `/v1/campaigns/${campaign.id}/alerts/${a.id}`;
  const log = h("div", { class: "delivery-log", hidden: true, dataset: { testid: "delivery-log" } });
  const test = h("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { testid: "alert-test" } }, "Send a test");
  const show = h("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-expanded": "false", dataset: { testid: "alert-log" } }, "Delivery log");
  const remove = h("button", { type: "button", class: "btn btn-ghost btn-sm" }, "Delete");
  async function loadLog() {
    const body = await api.get(`${base}/deliveries`, { per_page: 10 });
    log.replaceChildren(body.deliveries.length
      ? h("table", { class: "table" },
        h("thead", {}, h("tr", {}, ...["When", "Kind", "Status", "Tries", "Posts", "Answer"].map((t) => h("th", {}, t)))),
        h("tbody", {}, ...body.deliveries.map((d) => h("tr", { dataset: { status: d.status } },
          h("td", {}, dateTime(d.created_at)), h("td", {}, d.kind), h("td", {}, h("span", { class: ["pill", `pill-${d.status}`] }, d.status)),
          h("td", {}, String(d.attempts)), h("td", {}, String(d.post_total)), h("td", { class: "small" }, d.response || "—")))))
      : h("p", { class: "muted small" }, "Nothing sent yet."));
  }
  show.addEventListener("click", async () => {
    const open = show.getAttribute("aria-expanded") === "true";
    show.setAttribute("aria-expanded", open ? "false" : "true");
    log.hidden = open;
    if (!open) await loadLog().catch((err) => toast(err.message, "error"));
  });
  test.addEventListener("click", async () => {
    test.disabled = true;
    try {
      await api.post(`${base}/test`);
      toast("Test sent: see the delivery log", "success");
      setTimeout(() => { if (!log.hidden) loadLog(); }, 1500);
    } catch (err) { toast(err.message, "error"); } finally { test.disabled = false; }
  });
  remove.addEventListener("click", async () => {
    try { await api.del(base); reload(); } catch (err) { toast(err.message, "error"); }
  });
  return h("li", { class: "alert-item", dataset: { alertId: a.id, testid: "alert" } },
    h("div", { class: "alert-head" },
      h("strong", {}, a.channel === "email" ? `Email ${a.target}` : `Webhook ${a.target}`),
      h("span", { class: ["pill", a.active ? "pill-active" : "pill-paused"] }, a.active ? (DIGESTS.find(([v]) => v === a.digest) || [])[1] : "Stopped")),
    h("p", { class: "muted small" }, rulesText(a)),
    h("div", { class: "alert-actions" }, test, show, remove), log);
}

function alertForm(campaign, onCreated) {
  const channel = h("select", { id: "alert-channel" }, h("option", { value: "webhook" }, "Webhook (Slack-compatible JSON)"), h("option", { value: "email" }, "Email"));
  const target = h("input", { id: "alert-target", type: "text", placeholder: "Your webhook URL, starting with https", autocomplete: "off", required: true });
  const digest = h("select", { id: "alert-digest" }, ...DIGESTS.map(([v, l]) => h("option", { value: v }, l)));
  const minScore = h("input", { id: "alert-min-score", type: "number", min: 0, max: 10, step: 0.5, placeholder: "any" });
  const boxes = LABELLED.map((a) => h("label", { class: "check" }, h("input", { type: "checkbox", value: a }), ARCHETYPE_LABEL[a] || a));
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-secondary btn-sm" }, "Add alert");
  channel.addEventListener("change", () => {
    target.placeholder = channel.value === "email" ? "founder@example.com" : "Your webhook URL, starting with https";
  });
  const form = h("form", { class: "alert-form", novalidate: true, dataset: { testid: "alert-form" } },
    h("div", { class: "control" }, h("label", { for: "alert-channel", class: "control-label" }, "Send to"), channel),
    h("div", { class: "control" }, h("label", { for: "alert-target", class: "control-label" }, "Address"), target),
    h("div", { class: "control" }, h("label", { for: "alert-digest", class: "control-label" }, "When"), digest),
    h("fieldset", { class: "control" }, h("legend", { class: "control-label" }, "Only these archetypes (none = all)"), ...boxes),
    h("div", { class: "control" }, h("label", { for: "alert-min-score", class: "control-label" }, "Lowest success score"), minScore),
    error, submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const body = {
      channel: channel.value, target: target.value.trim(), digest: digest.value,
      archetypes: boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
    };
    if (minScore.value !== "") body.min_success_score = Number(minScore.value);
    if (!body.target) { error.textContent = "Say where to send the alerts."; error.hidden = false; return; }
    submit.disabled = true;
    try {
      const created = await api.post(`/v1/campaigns/${campaign.id}/alerts`, body);
      target.value = "";
      onCreated(created);
    } catch (err) {
      const fields = err.fields || {};
      error.textContent = Object.values(fields)[0] || err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
