// Inline-SVG / CSS charts. Every chart carries text labels and numbers, so colour is never
// the only cue, and an aria-label summary for screen readers.

import { h, s } from "../dom.js";
import { ARCHETYPE_DEFINITION, ARCHETYPE_LABEL, ARCHETYPES, num, pct, sub } from "../format.js";

/** Donut of the archetype distribution plus a legend whose items filter the posts. */
export function archetypeChart(byArchetype, { selected, onSelect } = {}) {
  const counts = ARCHETYPES.map((a) => [a, byArchetype[a] || 0]);
  const total = counts.reduce((t, [, n]) => t + n, 0);
  const R = 42;
  const C = 2 * Math.PI * R;
  let offset = 0;
  const rings = [s("circle", { cx: 60, cy: 60, r: R, class: "donut-track" })];
  for (const [a, n] of counts) {
    if (!n) continue;
    const len = (n / total) * C;
    rings.push(s("circle", {
      cx: 60, cy: 60, r: R, class: `donut-seg arch-${a}`,
      "stroke-dasharray": `${len} ${C - len}`, "stroke-dashoffset": String(-offset),
      transform: "rotate(-90 60 60)",
    }, s("title", {}, `${ARCHETYPE_LABEL[a]}: ${n} (${pct(n, total)})`)));
    offset += len;
  }
  const summary = counts.map(([a, n]) => `${ARCHETYPE_LABEL[a]} ${n}`).join(", ");
  const svg = s("svg", { class: "donut", viewBox: "0 0 120 120", role: "img", "aria-label": `Archetypes: ${summary}` },
    ...rings,
    s("text", { x: 60, y: 58, class: "donut-total", "text-anchor": "middle" }, num(total)),
    s("text", { x: 60, y: 74, class: "donut-caption", "text-anchor": "middle" }, "posts"));
  // Unclassified only appears on posts stored before every kept post was labelled.
  const shown = counts.filter(([a, n]) => a !== "Unclassified" || n > 0);
  const legend = h("ul", { class: "legend" }, ...shown.map(([a, n]) => {
    const btn = h("button", {
      type: "button", class: ["legend-item", selected === a && "is-selected"], dataset: { archetype: a },
      "aria-pressed": selected === a ? "true" : "false",
      title: `Click to show only ${ARCHETYPE_LABEL[a]} posts`,
    },
    h("span", { class: `swatch arch-bg-${a}`, "aria-hidden": "true" }),
    h("span", { class: "legend-label" }, ARCHETYPE_LABEL[a]),
    h("span", { class: "legend-num" }, h("strong", {}, num(n))),
    h("span", { class: "legend-pct muted" }, pct(n, total)),
    h("span", { class: "legend-def", dataset: { testid: "arch-def" } }, ARCHETYPE_DEFINITION[a]));
    btn.addEventListener("click", () => onSelect && onSelect(selected === a ? "" : a));
    return h("li", {}, btn);
  }));
  return h("div", { class: "arch-chart" }, svg, legend);
}

/** Bar histogram of success scores (10 buckets); buckets outside the score filter are faded. */
export function scoreHistogram(buckets, { min = 0, max = 10 } = {}) {
  const W = 320;
  const H = 150;
  const top = 18;
  const bottom = 22;
  const gap = 4;
  const bw = W / buckets.length - gap;
  const peak = Math.max(1, ...buckets.map((b) => b.count));
  const bars = buckets.map((b, i) => {
    const bh = ((H - top - bottom) * b.count) / peak;
    const x = i * (bw + gap) + gap / 2;
    const y = H - bottom - bh;
    const inRange = (b.max > min && b.min <= max) || (min === 10 && b.max === 10);
    return s("g", { class: ["hist-bar", !inRange && "is-faded"] },
      s("rect", { x, y, width: bw, height: Math.max(bh, b.count ? 2 : 0), rx: 3 }),
      s("text", { x: x + bw / 2, y: y - 5, "text-anchor": "middle", class: "hist-count" }, b.count ? num(b.count) : ""),
      s("title", {}, `Score ${b.min}–${b.max}: ${b.count} posts`));
  });
  const ticks = [];
  for (let i = 0; i <= buckets.length; i += 2) {
    ticks.push(s("text", { x: Math.min(W - 6, Math.max(6, i * (W / buckets.length))), y: H - 6, "text-anchor": "middle",
      class: "hist-tick" }, String(i)));
  }
  const summary = buckets.map((b) => `${b.min}-${b.max}: ${b.count}`).join(", ");
  return s("svg", { class: "histogram", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Success score histogram. ${summary}` },
    s("line", { x1: 0, x2: W, y1: H - bottom, y2: H - bottom, class: "hist-axis" }),
    ...bars, ...ticks);
}

/** Scraped → passed filter → classified → stored, as shrinking bars. */
export function funnel(f) {
  const steps = [
    ["scraped", "Scraped", f.scraped, null],
    ["filtered", "Passed filter", f.filtered, f.scraped ? `${pct(f.scraped - f.filtered, f.scraped)} filtered out` : null],
    ["classified", "Classified", f.classified, f.filtered ? `${pct(f.classified, f.filtered)} of kept` : null],
    ["stored", "Stored", f.stored, null],
  ];
  const top = Math.max(1, f.scraped);
  return h("ol", { class: "funnel", "aria-label": "Collection funnel" }, ...steps.map(([key, label, n, note]) => {
    const fill = h("span", { class: `funnel-fill funnel-${key}` });
    fill.style.width = Math.max(n ? 1.5 : 0, (n / top) * 100) + "%";
    return h("li", { class: "funnel-step", dataset: { funnel: key } },
      h("div", { class: "funnel-text" }, h("span", { class: "funnel-label" }, label),
        h("span", { class: "funnel-num" }, num(n)), note ? h("span", { class: "funnel-note" }, note) : null),
      h("div", { class: "funnel-bar" }, fill));
  }));
}

/** Stored posts per target subreddit as bars, largest first; a bar filters the posts. */
export function subredditChart(bySubreddit, { selected, onSelect } = {}) {
  const rows = Object.entries(bySubreddit).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const top = Math.max(1, ...rows.map(([, n]) => n));
  const total = rows.reduce((t, [, n]) => t + n, 0);
  const isSelected = (name) => (selected || "").toLowerCase() === name.toLowerCase();
  return h("ul", { class: "sub-chart", "aria-label": `Posts per subreddit: ${rows.map(([name, n]) => `${sub(name)} ${n}`).join(", ")}` },
    ...rows.map(([name, n]) => {
      const fill = h("span", { class: "sub-fill" });
      fill.style.width = (n / top) * 100 + "%";
      const btn = h("button", {
        type: "button", class: ["sub-row", isSelected(name) && "is-selected"], "aria-pressed": isSelected(name) ? "true" : "false",
        title: `Click to show only ${sub(name)} posts`, dataset: { subreddit: name },
      },
      h("span", { class: "sub-label" }, sub(name)),
      h("span", { class: "sub-bar", "aria-hidden": "true" }, fill),
      h("span", { class: "sub-num" }, num(n)),
      h("span", { class: "legend-pct muted" }, pct(n, total)));
      btn.addEventListener("click", () => onSelect && onSelect(isSelected(name) ? "" : name));
      return h("li", {}, btn);
    }));
}
