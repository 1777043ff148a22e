// Hash router. All view state (including results filters and page) lives in the hash, e.g.
// #/campaigns/<id>?archetype=Journey&min_score=5&page=2, so views are shareable and the
// back button works. A view whose route key is unchanged gets update() instead of a
// re-mount, so changing a filter does not rebuild the page (or lose focus).

import { session } from "./api.js";

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, "") || "/";
  const [path, qs = ""] = raw.split("?");
  return { path: path || "/", query: new URLSearchParams(qs) };
}

export function href(path, query) {
  const usp = query instanceof URLSearchParams ? query : new URLSearchParams();
  if (!(query instanceof URLSearchParams)) {
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null && v !== "") usp.set(k, String(v));
    }
  }
  const qs = usp.toString();
  return "#" + path + (qs ? "?" + qs : "");
}

export function navigate(path, query, { replace = false } = {}) {
  const target = href(path, query);
  if (target === location.hash) return;
  if (replace) {
    history.replaceState(null, "", target);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = target;
  }
}

export function createRouter(root, routes, { onRoute } = {}) {
  let current = null; // {key, instance}

  function resolve() {
    const { path, query } = parseHash();
    for (const route of routes) {
      const m = route.pattern.exec(path);
      if (m) return { route, params: m.slice(1).map(decodeURIComponent), query, path };
    }
    return null;
  }

  function render() {
    const match = resolve();
    if (!match) {
      navigate(session.token ? "/campaigns" : "/login", null, { replace: true });
      return;
    }
    const { route, params, query, path } = match;
    if (!route.public && !session.token) {
      navigate("/login", { next: location.hash.slice(1) }, { replace: true });
      return;
    }
    if (route.public && session.token) {
      navigate("/campaigns", null, { replace: true });
      return;
    }
    const ctx = { params, query, path };
    const key = route.name + ":" + params.join("/");
    const sameView = Boolean(current && current.key === key && current.instance && current.instance.update);
    if (onRoute) onRoute(route, ctx, sameView);
    if (sameView) {
      current.instance.update(ctx);
      return;
    }
    if (current && current.instance && current.instance.unmount) current.instance.unmount();
    root.replaceChildren();
    // mount() builds its skeleton synchronously and loads data into it afterwards, so a
    // slow response can only ever write into a view that has since been detached.
    current = { key, instance: route.view.mount(root, ctx) || {} };
  }

  window.addEventListener("hashchange", render);
  return {
    start: render,
    /** Re-mount the current view from scratch (e.g. after logout/login). */
    reload() {
      if (current && current.instance && current.instance.unmount) current.instance.unmount();
      current = null;
      return render();
    },
  };
}
