// Live progress of one collection run over Server-Sent Events.
//
// EventSource cannot send headers, so the stream is authorized by a short-lived stream token
// in the URL (never the access token). On a dropped connection the browser reconnects by
// itself and sends Last-Event-ID, and the server resumes without gaps. When the browser gives
// up instead (readyState CLOSED: the token expired -> 401, or a 204 after the run ended), we
// check the run, fetch a fresh stream token and open a new EventSource with
// ?last_event_id=<last id seen>. Events at or below the last id seen are ignored, so counts
// are never applied twice whatever path delivered them.

import { api, ApiError } from "./api.js";

export const TERMINAL = ["complete", "partial", "failed", "cancelled"];

export class ProgressStream {
  /**
   * @param {object} o
   * @param {string} o.taskId
   * @param {string} o.progressUrl  relative path from the trigger response (no token)
   * @param {string} o.streamToken
   * @param {(data: object, id: number) => void} o.onProgress
   * @param {(event: string, data: object) => void} o.onTerminal  called exactly once
   * @param {(state: string) => void} [o.onConnection]  "live" | "reconnecting" | "lost"
   */
  constructor(o) {
    Object.assign(this, o);
    this.progressUrl = o.progressUrl || `/v1/collection/${o.taskId}/progress`;
    this.lastId = 0;
    this.es = null;
    this.done = false;
    this.failures = 0;
    this.opens = 0; // connections opened (tests read these two to see which resume path ran)
    this.refreshes = 0; // fresh stream tokens fetched after the browser gave up
    this.timer = null;
  }

  start() {
    this.open(this.streamToken);
    return this;
  }

  open(token) {
    let url = this.progressUrl + "?token=" + encodeURIComponent(token);
    if (this.lastId > 0) url += "&last_event_id=" + this.lastId;
    const es = new EventSource(url);
    this.es = es;
    es.addEventListener("open", () => {
      this.failures = 0;
      this.opens += 1;
      this.connection("live");
    });
    es.addEventListener("progress", (e) => this.handle("progress", e));
    for (const name of TERMINAL) es.addEventListener(name, (e) => this.handle(name, e));
    es.addEventListener("error", () => {
      if (this.done || es !== this.es) return;
      if (es.readyState === EventSource.CLOSED) this.recover();
      else this.connection("reconnecting"); // the browser is retrying with Last-Event-ID
    });
  }

  handle(name, event) {
    if (this.done) return;
    const id = Number.parseInt(event.lastEventId, 10);
    if (Number.isFinite(id)) {
      if (id <= this.lastId) return; // already applied: never count an event twice
      this.lastId = id;
    }
    let data;
    try { data = JSON.parse(event.data); } catch { return; }
    if (TERMINAL.includes(name)) this.finish(name, data);
    else this.onProgress(data, id);
  }

  finish(name, data) {
    if (this.done) return;
    this.close();
    this.onTerminal(name, data);
  }

  /** The browser stopped reconnecting: find out why and resume from the last id seen. */
  recover() {
    if (this.es) this.es.close();
    this.failures += 1;
    this.connection("reconnecting");
    const delay = Math.min(500 * 2 ** (this.failures - 1), 10_000);
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (this.done) return;
      try {
        // The run may have ended while we were away (a resume past its end answers 204).
        const run = await api.get(`/v1/collection/${this.taskId}`);
        if (TERMINAL.includes(run.status)) {
          this.finish(run.status, { ...run, stage: "done" });
          return;
        }
        const fresh = await api.post(`/v1/collection/${this.taskId}/stream-token`);
        this.refreshes += 1;
        if (!this.done) this.open(fresh.stream_token);
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 404)) {
          this.close();
          this.connection("lost");
          return;
        }
        this.recover(); // network trouble: keep trying with backoff
      }
    }, delay);
  }

  connection(state) {
    if (this.onConnection) this.onConnection(state);
  }

  close() {
    this.done = true;
    clearTimeout(this.timer);
    if (this.es) this.es.close();
  }
}
