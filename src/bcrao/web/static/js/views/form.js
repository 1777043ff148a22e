// Shared form helpers: labelled fields and inline error messages from a 422's details.fields.

import { h } from "../dom.js";

let seq = 0;

/** A labelled input with a hint and an error slot wired up with aria-describedby. */
export function field({ label, name, type = "text", value = "", hint, required, attrs = {}, control }) {
  const id = `f-${name}-${++seq}`;
  const errId = id + "-err";
  const hintId = hint ? id + "-hint" : null;
  const input = control || h(type === "textarea" ? "textarea" : "input", {
    id, name, type: type === "textarea" ? undefined : type, required, ...attrs,
  });
  if (!control && value !== undefined && value !== null) input.value = value;
  if (control) input.id = input.id || id;
  input.setAttribute("aria-describedby", [hintId, errId].filter(Boolean).join(" "));
  const error = h("p", { class: "field-error", id: errId, hidden: true });
  const wrap = h("div", { class: "field", dataset: { field: name } },
    h("label", { for: input.id, class: "field-label" }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    input,
    hint ? h("p", { class: "field-hint", id: hintId }, hint) : null,
    error);
  return { wrap, input, error, setError: (msg) => setError(wrap, input, error, msg) };
}

export function setError(wrap, input, error, message) {
  if (message) {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    wrap.classList.add("has-error");
  } else {
    error.textContent = "";
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    wrap.classList.remove("has-error");
  }
}

/** A banner for errors that belong to no single field. */
export function formAlert() {
  const el = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  return {
    el,
    show(msg) { el.textContent = msg; el.hidden = false; },
    hide() { el.textContent = ""; el.hidden = true; },
  };
}

/** Sentence-case an API message for display under a field ("Value error, must be ..." → "Must be ..."). */
export function cleanMessage(msg) {
  const text = String(msg || "").replace(/^Value error,\s*/i, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
