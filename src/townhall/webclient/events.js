/**
 * An event stream over one WebSocket, authenticated by the session cookie,
 * that reconnects with jittered exponential backoff. Used for the personal
 * stream (/api/v1/events) and for a Space's stream (/api/v1/spaces/{id}/events).
 *
 * Dispatches "status" (this.state is "connecting" | "connected" |
 * "reconnecting" | "offline"), "ready" with the ready frame, one event per
 * frame type with the frame as detail ("notification", ...), "frame" for every
 * frame after ready, "resync" after a reconnect (unless the stream resumes:
 * then the server replays what was missed, or sends its own "resync"),
 * "unauthenticated" when the server says the session is gone and "gone" when
 * the thing streamed no longer exists (close code 4404).
 */

const FIRST_RETRY_MS = 1000;
/** Short, so a live room is back within seconds of its server (a restart takes a few). */
const MAX_RETRY_MS = 5000;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_NOT_FOUND = 4404;

export function eventsUrl(location) {
  return `${socketScheme(location)}//${location.host}/api/v1/events`;
}

function socketScheme(location) {
  return location.protocol === "https:" ? "wss:" : "ws:";
}

/** A Space's stream; since (the last seq applied) makes the server replay what came after. */
export function spaceEventsUrl(location, spaceId, since) {
  const path = `/api/v1/spaces/${encodeURIComponent(spaceId)}/events`;
  const base = `${socketScheme(location)}//${location.host}${path}`;
  return since === null || since === undefined ? base : `${base}?since=${since}`;
}

export class EventStream extends EventTarget {
  #url;
  #resumes;
  #socket = null;
  #retryTimer = null;
  #failures = 0;
  #running = false;
  #everReady = false;
  #state = "offline";

  /**
   * url: a string, or a function called before each connection (to add ?since=).
   * resumes: the server replays missed frames on reconnect, so no "resync" is needed.
   */
  constructor(url, { resumes = false } = {}) {
    super();
    this.#url = typeof url === "function" ? url : () => url;
    this.#resumes = resumes;
    this.reconnectNow = this.reconnectNow.bind(this);
  }

  get state() {
    return this.#state;
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    this.#everReady = false;
    this.#failures = 0;
    window.addEventListener("online", this.reconnectNow);
    this.#connect();
  }

  stop() {
    this.#running = false;
    window.removeEventListener("online", this.reconnectNow);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(1000, "bye");
    this.#setState("offline");
  }

  /** Skips the rest of a backoff wait (e.g. when the network comes back). */
  reconnectNow() {
    if (!this.#running || this.#retryTimer === null) return;
    clearTimeout(this.#retryTimer);
    this.#connect();
  }

  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: state }));
  }

  #connect() {
    this.#retryTimer = null;
    this.#setState(this.#everReady ? "reconnecting" : "connecting");
    const socket = new WebSocket(this.#url());
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      if (socket === this.#socket) this.#onFrame(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      if (!this.#running) return;
      if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_FORBIDDEN) {
        this.stop();
        this.dispatchEvent(new CustomEvent("unauthenticated"));
        return;
      }
      if (event.code === CLOSE_NOT_FOUND) {
        this.stop();
        this.dispatchEvent(new CustomEvent("gone"));
        return;
      }
      this.#scheduleRetry();
    });
  }

  #onFrame(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof frame?.type !== "string") return;
    if (frame.type === "ready") {
      const resumed = this.#everReady;
      this.#everReady = true;
      this.#failures = 0;
      this.#setState("connected");
      this.dispatchEvent(new CustomEvent("ready", { detail: frame }));
      if (resumed && !this.#resumes) this.dispatchEvent(new CustomEvent("resync"));
      return;
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
  }

  #scheduleRetry() {
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#failures);
    this.#failures += 1;
    // Half fixed, half random, so many clients dropped at once do not return at once.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#setState("reconnecting");
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}
