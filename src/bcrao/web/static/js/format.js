// Formatting helpers shared by the views.

const nf = new Intl.NumberFormat();

export const num = (n) => (n === null || n === undefined ? "—" : nf.format(n));

export function score(n) {
  return n === null || n === undefined ? "—" : Number(n).toFixed(1);
}

export function pct(part, whole) {
  if (!whole) return "0%";
  return `${Math.round((part / whole) * 100)}%`;
}

export function date(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function dateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

/** "1 run", "2 runs", "1,204 posts". */
export function plural(n, word, many = word + "s") {
  return `${num(n)} ${n === 1 ? word : many}`;
}

export function relative(iso) {
  if (!iso) return "never";
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [7, "day"], [4.35, "week"], [12, "month"]];
  let value = -seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return rtf.format(Math.round(value), unit);
    value /= size;
  }
  return rtf.format(Math.round(value), "year");
}

export function duration(startIso, endIso) {
  if (!startIso || !endIso) return "—";
  const s = Math.max(0, (new Date(endIso) - new Date(startIso)) / 1000);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export const ARCHETYPES = ["Journey", "ProblemSolution", "Feedback", "Unclassified"];

export const ARCHETYPE_LABEL = {
  Journey: "Journey",
  ProblemSolution: "Problem / Solution",
  Feedback: "Feedback",
  Unclassified: "Unclassified",
};

export const ARCHETYPE_HINT = {
  Journey: "Personal stories",
  ProblemSolution: "Asks for or offers a fix",
  Feedback: "Opinions and reviews",
  Unclassified: "Stored, not labelled",
};

// What each archetype means, shown next to the chart legend and the filter (from the
// labelling guide the model was trained on: shared/corpus/LABELLING.md, docs/LABELS.md).
export const ARCHETYPE_DEFINITION = {
  Journey: "A personal story or experience told by the author: “I launched…”, “How we got our first 100 customers”, “My first year freelancing”.",
  ProblemSolution: "Asks for or offers a fix to a concrete problem: “How do I…?”, “What tool should I use for…?”, a how-to or tips.",
  Feedback: "Asks for or gives opinions, reviews or critiques: “Roast my landing page”, “What do you think of…?”, a rant about a practice.",
  Unclassified: "Stored before every kept post was labelled: no archetype yet.",
};

export const FILTER_REASON_LABEL = {
  removed_or_deleted: "Removed or deleted",
  stickied: "Stickied / mod posts",
  nsfw: "NSFW",
  meta_thread: "Recurring / meta thread",
  link_only: "Link, title says little",
  too_short: "Too short, title says little",
  promotional: "Self-promotion",
  non_english: "Not in English",
  duplicate_text: "Duplicate text",
};

export const STATUS_LABEL = {
  queued: "Queued",
  running: "Running",
  complete: "Complete",
  partial: "Partial",
  failed: "Failed",
  cancelled: "Cancelled",
  active: "Active",
  paused: "Paused",
  archived: "Archived",
};

export const sub = (name) => `r/${name}`;

// A subreddit's source status (run.source_status) in words; errors carry their own message,
// these say what a status means when there is none (an empty subreddit is no error).
export const SOURCE_STATUS_TEXT = {
  empty: "no posts found: the subreddit is empty, or nothing is new since the last collection",
  blocked: "Reddit refused access: your app is not approved for this API or its credentials were rejected",
  not_found: "not found, private or banned",
  rate_limited: "Reddit's rate limit ran out before this subreddit was read; try again later",
  error: "could not be read",
};

/** "r/SaaS: <words>" for every subreddit whose status is not ok, the errors' own words first. */
export function sourceStatusLines(run) {
  const messages = new Map((run.errors || []).filter((e) => e.subreddit).map((e) => [e.subreddit, e.message]));
  return Object.entries(run.source_status || {})
    .filter(([, status]) => status !== "ok")
    .map(([name, status]) => ({ name, status, text: messages.get(name) || SOURCE_STATUS_TEXT[status] || status }));
}

export const humanize = (key) => key.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
