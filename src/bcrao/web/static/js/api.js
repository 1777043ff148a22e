// The only module that talks HTTP. The access token lives in localStorage so a reload keeps
// the session; it is only ever sent in the Authorization header, never in a URL.

const TOKEN_KEY = "bcrao.token";
const USER_KEY = "bcrao.user";

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `Request failed (${status})`);
    this.status = status;
    this.code = err.code || "HTTP_" + status;
    this.details = err.details || {};
  }

  /** {"target_subreddits.2": "must be ..."} from a 422's details.fields. */
  get fields() {
    const out = {};
    for (const f of this.details.fields || []) out[f.field] = out[f.field] || f.message;
    return out;
  }
}

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  get user() {
    try { return JSON.parse(localStorage.getItem(USER_KEY) || "null"); } catch { return null; }
  },
  save(token, user) {
    localStorage.setItem(TOKEN_KEY, token);
    localStorage.setItem(USER_KEY, JSON.stringify(user));
    window.dispatchEvent(new CustomEvent("bcrao:session"));
  },
  clear() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(USER_KEY);
    window.dispatchEvent(new CustomEvent("bcrao:session"));
  },
};

// Set by app.js: what to do when the API says the session is gone.
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export function queryString(params) {
  const usp = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") usp.set(k, String(v));
  }
  const s = usp.toString();
  return s ? "?" + s : "";
}

async function request(path, { method = "GET", body, query, auth = true, raw = false } = {}) {
  const headers = { Accept: "application/json" };
  const form = body instanceof FormData; // a file upload: the browser sets the multipart type
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (auth && session.token) headers.Authorization = "Bearer " + session.token;
  let res;
  try {
    res = await fetch(path + queryString(query), {
      method,
      headers,
      body: body === undefined || form ? body : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, { error: { code: "NETWORK", message: "Cannot reach the server. Check your connection." } });
  }
  if (res.status === 401 && auth) {
    // An expired or revoked token: drop it and send the user to the login screen.
    session.clear();
    onUnauthorized();
  }
  if (!res.ok) {
    let payload = null;
    try { payload = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, payload);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

export const api = {
  get: (path, query) => request(path, { query }),
  post: (path, body) => request(path, { method: "POST", body }),
  patch: (path, body) => request(path, { method: "PATCH", body }),
  put: (path, body) => request(path, { method: "PUT", body }),
  del: (path) => request(path, { method: "DELETE" }),
  /** POST a FormData (multipart), e.g. a file to import. */
  upload: (path, formData) => request(path, { method: "POST", body: formData }),

  signup: (email, password) => request("/v1/auth/signup", { method: "POST", body: { email, password }, auth: false }),
  login: (email, password) => request("/v1/auth/login", { method: "POST", body: { email, password }, auth: false }),
  me: () => request("/v1/auth/me"),

  /**
   * Download a file that needs the bearer header: fetch it, then hand the browser a Blob
   * through an object URL and a temporary <a download>. No token ever lands in a URL.
   */
  async download(path, query, fallbackName) {
    const res = await request(path, { query, raw: true });
    const blob = await res.blob();
    const disposition = res.headers.get("Content-Disposition") || "";
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    const name = match ? decodeURIComponent(match[1]) : fallbackName;
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    // Give the browser a moment to start the download before the URL is revoked.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return name;
  },
};
