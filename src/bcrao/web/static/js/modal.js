// Accessible modal dialog: focus moves in, Tab is trapped inside, Escape or the backdrop
// closes it, and focus returns to whatever opened it (e.g. the post card).

import { h, icon } from "./dom.js";

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), ' +
  'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function openModal({ title, body, footer, wide = false, onClose, labelExtra } = {}) {
  const opener = document.activeElement;
  const titleId = "modal-title-" + Math.random().toString(36).slice(2, 8);
  const closeBtn = h("button", { type: "button", class: "icon-btn modal-close", "aria-label": "Close" }, icon("close"));
  const heading = h("h2", { id: titleId, class: "modal-title" }, title);
  const dialog = h("div", {
    class: ["modal", wide && "modal-wide"],
    role: "dialog",
    "aria-modal": "true",
    "aria-labelledby": titleId,
    tabindex: "-1",
  },
  h("div", { class: "modal-head" }, h("div", { class: "modal-head-text" }, labelExtra, heading), closeBtn),
  h("div", { class: "modal-body" }, body),
  footer ? h("div", { class: "modal-foot" }, footer) : null);
  const backdrop = h("div", { class: "modal-backdrop" }, dialog);

  let closed = false;
  function close() {
    if (closed) return;
    closed = true;
    document.removeEventListener("keydown", onKey, true);
    backdrop.remove();
    document.body.classList.remove("modal-open");
    if (onClose) onClose();
    if (opener && opener.isConnected && opener.focus) opener.focus();
  }

  function onKey(e) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
      return;
    }
    if (e.key !== "Tab") return;
    const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (!items.length) { e.preventDefault(); dialog.focus(); return; }
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || document.activeElement === dialog)) {
      e.preventDefault(); last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault(); first.focus();
    } else if (!dialog.contains(document.activeElement)) {
      e.preventDefault(); first.focus();
    }
  }

  closeBtn.addEventListener("click", close);
  backdrop.addEventListener("mousedown", (e) => { if (e.target === backdrop) close(); });
  document.addEventListener("keydown", onKey, true);
  document.body.classList.add("modal-open");
  document.body.append(backdrop);
  closeBtn.focus();
  return { close, dialog, body: dialog.querySelector(".modal-body") };
}

/** A confirm dialog that resolves true/false (replaces window.confirm, which looks foreign). */
export function confirmDialog({ title, message, confirmLabel = "Confirm", danger = false }) {
  return new Promise((resolve) => {
    let answer = false;
    const yes = h("button", { type: "button", class: ["btn", danger ? "btn-danger" : "btn-primary"] }, confirmLabel);
    const no = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
    const m = openModal({
      title,
      body: h("p", { class: "modal-message" }, message),
      footer: [no, yes],
      onClose: () => resolve(answer),
    });
    yes.addEventListener("click", () => { answer = true; m.close(); });
    no.addEventListener("click", () => m.close());
    no.focus();
  });
}
