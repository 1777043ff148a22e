// Chips input (keywords, subreddits). Enter, comma or Tab adds the typed text as a chip,
// Backspace on an empty input removes the last one, pasted lists are split. The chips are
// sent in order, so a 422 field path like "target_subreddits.2" points at chip #2.

import { h, icon } from "../dom.js";

let seq = 0;

export function chipsInput({ name, label, hint, values = [], normalize = (v) => v.trim(), display = (v) => v,
  placeholder = "", max = 50 }) {
  const id = `chips-${name}-${++seq}`;
  const errId = id + "-err";
  const hintId = id + "-hint";
  let chips = [];
  const list = h("ul", { class: "chips-list", "aria-label": label });
  const input = h("input", {
    id, type: "text", class: "chips-input", placeholder, autocomplete: "off", spellcheck: "false",
    "aria-describedby": `${hintId} ${errId}`,
  });
  const box = h("div", { class: "chips" }, list, input);
  const error = h("div", { class: "field-error", id: errId, hidden: true });
  const wrap = h("div", { class: "field", dataset: { field: name } },
    h("label", { for: id, class: "field-label" }, label, h("span", { class: "req", "aria-hidden": "true" }, " *")),
    box,
    h("p", { class: "field-hint", id: hintId }, hint),
    error);

  box.addEventListener("click", (e) => { if (e.target === box || e.target === list) input.focus(); });

  function render() {
    list.replaceChildren(...chips.map((chip, i) => {
      const remove = h("button", {
        type: "button", class: "chip-remove", "aria-label": `Remove ${display(chip.value)}`,
        onclick: () => { chips.splice(i, 1); render(); input.focus(); },
      }, icon("close"));
      return h("li", {
        class: ["chip", chip.error && "chip-invalid"],
        dataset: { index: i, value: chip.value },
        title: chip.error || undefined,
      }, chip.error ? h("span", { class: "visually-hidden" }, "Invalid: ") : null,
      h("span", { class: "chip-text" }, display(chip.value)), remove);
    }));
  }

  function add(text) {
    let added = false;
    for (const part of String(text).split(/[,\n]+/)) {
      const value = normalize(part);
      if (!value) continue;
      if (chips.some((c) => c.value.toLowerCase() === value.toLowerCase())) continue; // same as the API's dedupe
      if (chips.length >= max) break;
      chips.push({ value, error: null });
      added = true;
    }
    if (added) render();
    return added;
  }

  /** Turn whatever is typed into a chip (called on submit, so nothing typed is lost). */
  function commit() {
    if (input.value.trim()) add(input.value);
    input.value = "";
  }

  input.addEventListener("keydown", (e) => {
    if ((e.key === "Enter" || e.key === ",") || (e.key === "Tab" && input.value.trim())) {
      if (e.key === "Tab" && !input.value.trim()) return;
      e.preventDefault();
      commit();
    } else if (e.key === "Backspace" && !input.value && chips.length) {
      chips.pop();
      render();
    }
  });
  input.addEventListener("paste", (e) => {
    const text = (e.clipboardData || window.clipboardData).getData("text");
    if (/[,\n]/.test(text)) { e.preventDefault(); add(text); }
  });
  input.addEventListener("blur", commit);

  add(values.join(","));

  return {
    wrap,
    input,
    commit,
    values: () => chips.map((c) => c.value),
    /** errors: {index: message} for chips, plus an optional message for the whole list. */
    setErrors(itemErrors, listMessage) {
      chips.forEach((c, i) => { c.error = itemErrors[i] || null; });
      render();
      const lines = [];
      if (listMessage) lines.push(listMessage);
      for (const [i, msg] of Object.entries(itemErrors)) {
        const chip = chips[Number(i)];
        lines.push(chip ? `${display(chip.value)}: ${msg}` : msg);
      }
      error.replaceChildren(...lines.map((l) => h("span", { class: "error-line" }, l)));
      error.hidden = lines.length === 0;
      wrap.classList.toggle("has-error", lines.length > 0);
      if (lines.length) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
  };
}

/** "r/SaaS", "/r/SaaS/" and "SaaS" are the same subreddit (the API strips the prefix too). */
export function normalizeSubreddit(text) {
  return text.trim().replace(/^\/?r\//i, "").replace(/\/+$/, "").trim();
}
