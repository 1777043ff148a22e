// Create / edit a campaign. Validation is the API's: a 422's details.fields are placed next
// to the input or the exact chip they name ("target_subreddits.2"); chips and the URL are
// also checked before submit, in plain words.

import { api, ApiError } from "../api.js";
import { h, icon } from "../dom.js";
import { STATUS_LABEL } from "../format.js";
import { toast } from "../toast.js";
import { chipsInput, normalizeSubreddit, subredditProblem } from "./chips.js";
import { cleanMessage, field, formAlert } from "./form.js";

// The placeholder is an example the API accepts (schemas.py: an http(s) URL with a host),
// on the domain reserved for examples (RFC 2606).
const URL_EXAMPLE = "https://example.com";

/** The API's product_url rule, said in plain words before submit (null: fine). */
function urlProblem(value) {
  if (!value) return null;
  let u = null;
  try { u = new URL(value); } catch { /* not a URL at all */ }
  if (!u || !/^https?:$/.test(u.protocol) || !u.hostname || /\s/.test(value)) {
    return `Enter the full address, with http or https in front, like ${URL_EXAMPLE}`;
  }
  return null;
}

export const campaignFormView = {
  mount(root, ctx) {
    const editingId = ctx.params[0] || null;
    document.title = (editingId ? "Edit campaign" : "New campaign") + " · BC-RAO Collector";
    const page = h("section", { class: "page narrow" });
    root.append(page);
    if (!editingId) {
      build(page, null);
      return {};
    }
    page.append(h("p", { class: "loading" }, "Loading campaign…"));
    api.get(`/v1/campaigns/${editingId}`)
      .then((c) => { page.replaceChildren(); build(page, c); })
      .catch((err) => page.replaceChildren(h("div", { class: "alert alert-error", role: "alert" }, err.message)));
    return {};
  },
};

function build(page, campaign) {
  const editing = Boolean(campaign);
  const c = campaign || { name: "", product_context: "", product_url: "", keywords: [], target_subreddits: [], status: "active" };
  const name = field({ label: "Campaign name", name: "name", value: c.name, required: true,
    attrs: { maxlength: 100, placeholder: "e.g. Churn & pricing research" } });
  const context = field({ label: "Product context", name: "product_context", type: "textarea", value: c.product_context,
    hint: "What you sell and to whom. Helps you remember why you are collecting.",
    attrs: { rows: 3, maxlength: 5000 } });
  const url = field({ label: "Product URL", name: "product_url", type: "url", value: c.product_url || "",
    hint: "Your product's website: the full address, as in the example.", attrs: { placeholder: URL_EXAMPLE, inputmode: "url" } });
  const keywords = chipsInput({ name: "keywords", label: "Keywords", values: c.keywords,
    hint: "1-15 words or phrases. Press Enter or comma to add.", placeholder: "churn, pricing…", max: 15,
    noun: "keywords" });
  const checker = subredditChecker((byValue) => subs.setStatuses(byValue));
  const subs = chipsInput({ name: "target_subreddits", label: "Target subreddits", values: c.target_subreddits,
    normalize: normalizeSubreddit, display: (v) => "r/" + v, validate: subredditProblem,
    onChange: (names) => checker.check(names),
    hint: "1-10 subreddits, typed as r/name or name.", placeholder: "r/SaaS", max: 10, noun: "subreddits" });
  checker.check(subs.values());
  api.get("/v1/subreddits/sample").then((sample) => {
    if (sample.in_use && sample.subreddits.length) {
      subs.setOptions(sample.subreddits,
        `This server collects from the offline sample corpus: ${sample.subreddits.map((n) => "r/" + n).join(", ")}.`);
    }
  }).catch(() => { /* only a convenience */ });
  const statusSelect = h("select", { name: "status" },
    ...["active", "paused", "archived"].map((s) => h("option", { value: s, selected: s === c.status }, STATUS_LABEL[s])));
  const status = editing ? field({ label: "Status", name: "status", control: statusSelect,
    hint: "Paused campaigns can still be collected by hand; archived ones cannot." }) : null;
  const alert = formAlert();
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, editing ? "Save changes" : "Create campaign");
  const cancelHref = editing ? `#/campaigns/${c.id}` : "#/campaigns";

  const form = h("form", { class: "card form-card", novalidate: true },
    alert.el, name.wrap, context.wrap, url.wrap, keywords.wrap, subs.wrap, status && status.wrap,
    h("div", { class: "form-actions" }, h("a", { class: "btn btn-secondary", href: cancelHref }, "Cancel"), submit));

  page.append(
    h("a", { class: "back-link", href: cancelHref }, icon("back"), editing ? "Back to campaign" : "All campaigns"),
    h("header", { class: "page-head" },
      h("div", {}, h("h1", {}, editing ? "Edit campaign" : "New campaign"),
        h("p", { class: "muted" }, "Tell the collector what to look for and where."))),
    form);
  name.input.focus();

  const simple = { name, product_context: context, product_url: url, status };

  function clearErrors() {
    alert.hide();
    for (const f of Object.values(simple)) if (f) f.setError(null);
    keywords.setErrors({}, null);
    subs.setErrors({}, null);
  }

  function showErrors(err) {
    const items = { keywords: {}, target_subreddits: {} };
    const lists = { keywords: null, target_subreddits: null };
    const unplaced = [];
    for (const { field: path, message } of err.details.fields || []) {
      const [head, index] = path.split(".");
      const msg = cleanMessage(message);
      if (head in items) {
        if (index !== undefined && /^\d+$/.test(index)) items[head][index] = msg;
        else lists[head] = msg;
      } else if (simple[head]) {
        simple[head].setError(msg);
      } else {
        unplaced.push(msg);
      }
    }
    keywords.setErrors(items.keywords, lists.keywords);
    subs.setErrors(items.target_subreddits, lists.target_subreddits);
    alert.show(unplaced.length ? unplaced.join(" ") : "Please fix the highlighted fields.");
    const first = form.querySelector("[aria-invalid=true]");
    if (first) first.focus();
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    keywords.commit();
    subs.commit();
    clearErrors();
    const badUrl = urlProblem(url.input.value.trim());
    if (badUrl) {
      url.setError(badUrl);
      url.input.focus();
      return;
    }
    const body = {
      name: name.input.value,
      product_context: context.input.value,
      product_url: url.input.value.trim() || null,
      keywords: keywords.values(),
      target_subreddits: subs.values(),
    };
    if (editing) body.status = statusSelect.value;
    submit.disabled = true;
    try {
      const saved = editing
        ? await api.patch(`/v1/campaigns/${c.id}`, body)
        : await api.post("/v1/campaigns", body);
      toast(editing ? "Campaign saved" : "Campaign created", "success");
      location.hash = `#/campaigns/${saved.id}`;
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) showErrors(err);
      else alert.show(err.message);
    } finally {
      submit.disabled = false;
    }
  });
}

// Asks the API whether each subreddit exists and can be read, a moment after the list stops
// changing; answers are kept per name, so a name is asked about once per form.
const CHECK_DELAY_MS = 400;

function subredditChecker(show) {
  const known = new Map();
  let timer = null;
  let latest = [];

  function publish() {
    const byValue = {};
    for (const name of latest) {
      const answer = known.get(name.toLowerCase());
      if (answer) byValue[name.toLowerCase()] = answer;
    }
    show(byValue);
  }

  async function run() {
    const ask = latest.filter((n) => !known.has(n.toLowerCase()));
    if (ask.length) {
      try {
        const { results } = await api.post("/v1/subreddits/check", { names: ask.slice(0, 10) });
        for (const r of results) known.set(r.name.toLowerCase(), r);
      } catch {
        return; // advice only: a failed check shows nothing and blocks nothing
      }
    }
    publish();
  }

  return {
    check(names) {
      latest = names.slice();
      publish();
      clearTimeout(timer);
      if (latest.some((n) => !known.has(n.toLowerCase()))) timer = setTimeout(run, CHECK_DELAY_MS);
    },
  };
}
