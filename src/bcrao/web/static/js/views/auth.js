// Sign up / log in. On success the token is saved and the user goes where they were headed.

import { api, ApiError, session } from "../api.js";
import { h } from "../dom.js";

import { cleanMessage, field, formAlert } from "./form.js";

function authView(mode) {
  return {
    mount(root, ctx) {
      const isSignup = mode === "signup";
      document.title = (isSignup ? "Sign up" : "Log in") + " · BC-RAO Collector";
      const email = field({ label: "Email", name: "email", type: "email", required: true,
        attrs: { autocomplete: "email", inputmode: "email" } });
      const password = field({
        label: "Password", name: "password", type: "password", required: true,
        hint: isSignup ? "At least 8 characters." : undefined,
        attrs: { autocomplete: isSignup ? "new-password" : "current-password", minlength: isSignup ? 8 : undefined },
      });
      const alert = formAlert();
      const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" },
        isSignup ? "Create account" : "Log in");
      const next = ctx.query.get("next");
      const swapHref = "#/" + (isSignup ? "login" : "signup") + (next ? "?next=" + encodeURIComponent(next) : "");
      const form = h("form", { class: "auth-form", novalidate: true },
        alert.el, email.wrap, password.wrap, submit);

      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        alert.hide(); email.setError(null); password.setError(null);
        submit.disabled = true;
        submit.textContent = isSignup ? "Creating account…" : "Logging in…";
        try {
          const call = isSignup ? api.signup : api.login;
          const res = await call(email.input.value.trim(), password.input.value);
          session.save(res.access_token, res.user);
          const target = next && next.startsWith("/") ? next : "/campaigns";
          location.hash = "#" + target;
        } catch (err) {
          if (err instanceof ApiError && err.status === 422) {
            const fields = err.fields;
            let placed = false;
            if (fields.email) { email.setError(cleanMessage(fields.email)); placed = true; }
            if (fields.password) { password.setError(cleanMessage(fields.password)); placed = true; }
            if (!placed) alert.show(err.message);
          } else if (err instanceof ApiError && err.status === 409) {
            email.setError("An account with this email already exists. Log in instead?");
          } else {
            alert.show(err.message);
          }
          (form.querySelector("[aria-invalid=true]") || email.input).focus();
        } finally {
          submit.disabled = false;
          submit.textContent = isSignup ? "Create account" : "Log in";
        }
      });

      root.append(h("section", { class: "auth" },
        h("div", { class: "auth-card card" },
          h("div", { class: "auth-head" },
            h("img", { src: "/static/img/logo.svg", alt: "", width: 44, height: 44, class: "auth-logo" }),
            h("h1", {}, isSignup ? "Create your account" : "Welcome back"),
            h("p", { class: "muted" }, isSignup
              ? "Find the Reddit conversations your customers are already having."
              : "Log in to your research campaigns.")),
          form,
          h("p", { class: "auth-swap" }, isSignup ? "Already have an account? " : "New here? ",
            h("a", { href: swapHref }, isSignup ? "Log in" : "Create an account"))),
        h("ul", { class: "auth-points" },
          h("li", {}, h("strong", {}, "Collect"), " posts from the subreddits your buyers read"),
          h("li", {}, h("strong", {}, "Filter"), " the noise: promos, one-liners, removed posts"),
          h("li", {}, h("strong", {}, "Label & score"), " stories, problems and feedback"))));
      email.input.focus();
      return {};
    },
  };
}

export const loginView = authView("login");
export const signupView = authView("signup");

