// Chips input (keywords, subreddits). Enter, comma or Tab adds the typed text as a chip,
// Backspace on an empty input removes the last one, pasted lists are split. The chips are
// sent in order, so a 422 field path like "target_subreddits.2" points at chip #2.
// What is typed is checked as it is typed (validate), a full list refuses more with a
// message instead of dropping silently, and chips can carry a status from a check.

import { h, icon } from "../dom.js";

let seq = 0;

export function chipsInput({ name, label, hint, values = [], normalize = (v) => v.trim(), display = (v) => v,
  placeholder = "", max = 50, noun = "items", validate = () => null, onChange = () => {} }) {
  const id = `chips-${name}-${++seq}`;
  const errId = id + "-err";
  const hintId = id + "-hint";
  const noteId = id + "-note";
  const listId = id + "-options";
  let chips = [];
  let statuses = {};
  const list = h("ul", { class: "chips-list", "aria-label": label });
  const input = h("input", {
    id, type: "text", class: "chips-input", placeholder, autocomplete: "off", spellcheck: "false",
    "aria-describedby": `${hintId} ${noteId} ${errId}`,
  });
  const options = h("datalist", { id: listId });
  const box = h("div", { class: "chips" }, list, input);
  // Live: what is wrong with the text being typed, or why nothing more can be added.
  const note = h("p", { class: "field-note", id: noteId, "aria-live": "polite", hidden: true });
  // What a check said about the chips (not found, private, ... with a suggestion).
  const checks = h("div", { class: "field-checks", dataset: { testid: `${name}-checks` }, "aria-live": "polite", hidden: true });
  const error = h("div", { class: "field-error", id: errId, hidden: true });
  const hintEl = h("p", { class: "field-hint", id: hintId }, hint);
  const wrap = h("div", { class: "field", dataset: { field: name } },
    h("label", { for: id, class: "field-label" }, label, h("span", { class: "req", "aria-hidden": "true" }, " *")),
    box, options, note, checks, hintEl, error);

  box.addEventListener("click", (e) => { if (e.target === box || e.target === list) input.focus(); });

  function say(message) {
    note.textContent = message || "";
    note.hidden = !message;
  }

  function render() {
    list.replaceChildren(...chips.map((chip, i) => {
      const remove = h("button", {
        type: "button", class: "chip-remove", "aria-label": `Remove ${display(chip.value)}`,
        onclick: () => { chips.splice(i, 1); say(null); changed(); input.focus(); },
      }, icon("close"));
      const status = statuses[chip.value.toLowerCase()];
      const invalid = chip.error || chip.problem;
      const warn = !invalid && status && status.status !== "ok" && status.status !== "unknown";
      return h("li", {
        class: ["chip", invalid && "chip-invalid", warn && "chip-warn"],
        dataset: { index: i, value: chip.value, status: status ? status.status : undefined },
        title: invalid || (status && status.message) || undefined,
      }, invalid ? h("span", { class: "visually-hidden" }, "Invalid: ") : null,
      warn ? h("span", { class: "visually-hidden" }, "Check: ") : null,
      h("span", { class: "chip-text" }, display(chip.value)), remove);
    }));
    renderChecks();
  }

  function renderChecks() {
    const lines = [];
    for (const chip of chips) {
      if (chip.problem && !chip.error) { // the API's own message, once it has one, is shown below
        lines.push(h("p", { class: "check-line check-invalid", dataset: { name: chip.value } }, chip.problem));
        continue;
      }
      const status = statuses[chip.value.toLowerCase()];
      if (chip.error || !status || status.status === "ok") continue;
      const line = h("p", { class: ["check-line", `check-${status.status}`], dataset: { name: chip.value } },
        status.message);
      if (status.suggestion) {
        line.append(" ", h("button", {
          type: "button", class: "btn-link",
          onclick: () => replace(chip.value, status.suggestion),
        }, `Use ${display(status.suggestion)}`));
      }
      lines.push(line);
    }
    checks.replaceChildren(...lines);
    checks.hidden = lines.length === 0;
  }

  let ready = false; // the chips given at start are the caller's own: no onChange for them
  function changed() {
    render();
    if (ready) onChange(chips.filter((c) => !c.error && !c.problem).map((c) => c.value));
  }

  function replace(oldValue, newValue) {
    const i = chips.findIndex((c) => c.value === oldValue);
    if (i < 0) return;
    if (chips.some((c, j) => j !== i && c.value.toLowerCase() === newValue.toLowerCase())) chips.splice(i, 1);
    else chips[i] = { value: newValue, error: null, problem: validate(newValue) };
    changed();
  }

  function add(text) {
    let added = false;
    for (const part of String(text).split(/[,\n]+/)) {
      const value = normalize(part);
      if (!value) continue;
      if (chips.some((c) => c.value.toLowerCase() === value.toLowerCase())) continue; // same as the API's dedupe
      if (chips.length >= max) {
        say(`At most ${max} ${noun}: remove one to add ${display(value)}.`);
        break;
      }
      chips.push({ value, error: null, problem: validate(value) });
      added = true;
    }
    if (added) changed();
    return added;
  }

  /** Turn whatever is typed into a chip (called on submit, so nothing typed is lost). */
  function commit() {
    if (input.value.trim()) {
      say(null);
      add(input.value);
    }
    input.value = "";
  }

  input.addEventListener("input", () => {
    const value = normalize(input.value.replace(/,+$/, ""));
    if (!value) say(null);
    else if (chips.length >= max && !chips.some((c) => c.value.toLowerCase() === value.toLowerCase())) {
      say(`At most ${max} ${noun}: remove one to add ${display(value)}.`);
    } else say(validate(value));
  });
  input.addEventListener("keydown", (e) => {
    if ((e.key === "Enter" || e.key === ",") || (e.key === "Tab" && input.value.trim())) {
      if (e.key === "Tab" && !input.value.trim()) return;
      e.preventDefault();
      commit();
    } else if (e.key === "Backspace" && !input.value && chips.length) {
      chips.pop();
      say(null);
      changed();
    }
  });
  input.addEventListener("paste", (e) => {
    const text = (e.clipboardData || window.clipboardData).getData("text");
    if (/[,\n]/.test(text)) { e.preventDefault(); add(text); }
  });
  input.addEventListener("blur", commit);

  add(values.join(","));
  ready = true;

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
    /** Check results by lower-cased value: {status, message, suggestion}. */
    setStatuses(byValue) {
      statuses = byValue;
      render();
    },
    /** Values offered while typing (a <datalist>), and a line saying where they come from. */
    setOptions(values, hintText) {
      options.replaceChildren(...values.map((v) => h("option", { value: v })));
      if (values.length) input.setAttribute("list", listId);
      else input.removeAttribute("list");
      if (hintText) hintEl.textContent = `${hint} ${hintText}`;
    },
  };
}

/** "r/SaaS", "/r/SaaS/" and "SaaS" are the same subreddit (the API strips the prefix too). */
export function normalizeSubreddit(text) {
  return text.trim().replace(/^\/?r\//i, "").replace(/\/+$/, "").trim();
}

/** Why a (normalized) name is not a subreddit name, in plain words; null when it is one. */
export function subredditProblem(name) {
  const rule = "Subreddit names are 2-21 letters, digits or underscores, like r/SaaS.";
  const shown = `r/${name}`;
  if (/\s/.test(name)) return `${shown} has a space: ${rule}`;
  if (/[^A-Za-z0-9_]/.test(name)) return `${shown} has a character names cannot have: ${rule}`;
  if (name.startsWith("_")) return `${shown} starts with an underscore: ${rule}`;
  if (name.length < 2) return `${shown} is too short: ${rule}`;
  if (name.length > 21) return `${shown} is too long: ${rule}`;
  return null;
}
