// Entry point: wires the session, the top bar and the routes.

import { api, session, setUnauthorizedHandler } from "./api.js";
import { createRouter, navigate, parseHash } from "./router.js";
import { loginView, signupView } from "./views/auth.js";
import { campaignView } from "./views/campaign.js";
import { campaignFormView } from "./views/campaign-form.js";
import { campaignsView } from "./views/campaigns.js";

const routes = [
  { name: "login", pattern: /^\/login$/, view: loginView, public: true },
  { name: "signup", pattern: /^\/signup$/, view: signupView, public: true },
  { name: "campaigns", pattern: /^\/campaigns$/, view: campaignsView },
  { name: "campaign-new", pattern: /^\/campaigns\/new$/, view: campaignFormView },
  { name: "campaign-edit", pattern: /^\/campaigns\/([^/]+)\/edit$/, view: campaignFormView },
  { name: "campaign", pattern: /^\/campaigns\/([^/]+)$/, view: campaignView },
];

const nav = document.getElementById("topnav");
const who = document.getElementById("user-email");

function renderNav() {
  const user = session.user;
  nav.hidden = !session.token;
  who.textContent = user ? user.email : "";
}

const router = createRouter(document.getElementById("app"), routes, {
  onRoute(route, ctx, sameView) {
    renderNav();
    if (sameView) return; // a filter change: keep focus and scroll where the user is
    document.getElementById("main").focus({ preventScroll: true });
    window.scrollTo(0, 0);
  },
});

setUnauthorizedHandler(() => {
  // Keep where the user was so logging in again brings them back.
  const here = parseHash().path;
  const next = here.startsWith("/login") || here.startsWith("/signup") ? undefined : location.hash.slice(1);
  navigate("/login", { next }, { replace: true });
});

document.getElementById("logout").addEventListener("click", () => {
  session.clear();
  navigate("/login");
});

window.addEventListener("bcrao:session", renderNav);

renderNav();
if (session.token) {
  // Confirm the stored token still works (a 401 here sends the user to the login screen).
  api.me().then((me) => session.save(session.token, me)).catch(() => {});
}
router.start();
