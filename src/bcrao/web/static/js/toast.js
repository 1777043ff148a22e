// Short notices in a polite live region (screen readers hear them too).

import { h } from "./dom.js";

export function toast(message, kind = "info", ms = 4000) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const el = h("div", { class: ["toast", "toast-" + kind] }, message);
  box.append(el);
  setTimeout(() => {
    el.classList.add("toast-out");
    setTimeout(() => el.remove(), 300);
  }, ms);
}
