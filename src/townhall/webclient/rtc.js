/**
 * One WebRTC audio link to the server: "listen" (receive the mix) or
 * "publish" (send the microphone, receive the mix without your own voice).
 *
 *   createOffer -> wait for ICE gathering (at most 2 s: the server takes no
 *   trickled candidates) -> POST /rtc/{publish|listen} -> answer, which
 *   carries the server's candidates -> "connected"
 *
 * It keeps itself alive: a connection that fails, stays disconnected, or
 * stops receiving packets (the server sends a packet every 20 ms, silence
 * included) is hung up and replaced by a fresh offer, with backoff. Refusals
 * (4xx: not allowed, not live) are reported, not retried: the room decides.
 *
 * Dispatches "state" (this.state: "connecting" | "connected" | "reconnecting"
 * | "stopped"), "quality" (this.quality: "good" | "fair" | "poor" | null, with
 * this.stats), "track" (this.stream is the server's audio), "refused"
 * (detail: the ApiError) and "full" (a listen link the server turned away
 * because the Space has as many WebRTC listeners as it takes: play HLS).
 *
 * STUN/TURN servers come from GET /rtc/config (TOWNHALL_ICE_SERVERS), fetched
 * once per page and Space.
 */

const ICE_GATHERING_TIMEOUT_MS = 2000;
/** A connection not up this long after the answer is given up and replaced. */
const CONNECT_TIMEOUT_MS = 10_000;
/** "disconnected" often heals by itself (a Wi-Fi blip); after this long it has not. */
const DISCONNECTED_GRACE_MS = 3000;
const STATS_EVERY_MS = 1000;
/** Loss is judged over this many samples, so one bad second does not flip the label. */
const LOSS_WINDOW = 5;
/** Nothing received for this long on a connected link: the server is gone. */
const STALL_MS = 3500;
const FIRST_RETRY_MS = 300;
const MAX_RETRY_MS = 15_000;

/**
 * Good, fair or poor from recent loss (0-1), jitter (s) and round-trip time (s). Opus with in-band FEC and the jitter buffer hide a little of each.
 */
export function qualityOf({ loss, jitter, rtt }) {
  if (loss >= 0.08 || jitter >= 0.1 || rtt >= 0.7) return "poor";
  if (loss >= 0.02 || jitter >= 0.04 || rtt >= 0.3) return "fair";
  return "good";
}

/** Resolves when ICE gathering completes, or after timeoutMs with what was gathered. */
function iceGatheringDone(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

const iceServersBySpace = new Map();

/** The server's STUN/TURN list; none (host candidates only) if it cannot be had. */
function iceServersFor(spaceId) {
  let servers = iceServersBySpace.get(spaceId);
  if (!servers) {
    servers = fetch(`/api/v1/spaces/${encodeURIComponent(spaceId)}/rtc/config`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) => (response.ok ? response.json() : { ice_servers: [] }))
      .then((config) => config.ice_servers ?? [])
      .catch(() => {
        iceServersBySpace.delete(spaceId);
        return [];
      });
    iceServersBySpace.set(spaceId, servers);
  }
  return servers;
}

/** The server has no WebRTC seat left for this listener: the mix is on HLS. */
export function isFull(error) {
  return error?.status === 503 && error.code === "webrtc_full";
}

function isRefusal(error) {
  return error?.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

export class AudioLink extends EventTarget {
  /** kind: "listen" | "publish"; track: the microphone's track, for "publish". */
  constructor({ api, spaceId, kind, track = null }) {
    super();
    this.api = api;
    this.spaceId = spaceId;
    this.kind = kind;
    this.track = track;
    this.pc = null;
    this.sessionId = null;
    this.stream = null;
    this.state = "connecting";
    this.quality = null;
    this.stats = null;
    this.attempts = 0;
    this.everConnected = false;
    this.abort = null;
    this.timers = new Set();
    this.failures = 0;
    this.lastPackets = null;
    this.lastLost = null;
    this.lossWindow = [];
    this.lastProgressAt = 0;
    this.statsTimer = null;
  }

  start() {
    this.#connect();
  }

  /**
   * Replaces the connection now, without waiting for it to fail: the Space's
   * audio moved to another server (`media.moved`), the old one is gone.
   */
  reconnect() {
    if (this.state === "stopped") return;
    this.#teardown({ hangUp: false });
    this.failures = 0;
    this.#connect();
  }

  /**
   * Closes the link for good. hangUp: false when the server has closed it
   * already (you left the stage, the Space ended), so it is not asked again.
   */
  stop({ hangUp = true } = {}) {
    if (this.state === "stopped") return;
    this.#teardown({ keepalive: true, hangUp });
    this.#setState("stopped");
  }

  #setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  #later(fn, ms) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  #cancel(timer) {
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Closes the current connection and tells the server, without changing the state. */
  #teardown({ keepalive = false, hangUp = true } = {}) {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.abort?.abort();
    this.abort = null;
    const pc = this.pc;
    this.pc = null;
    if (pc) {
      pc.onconnectionstatechange = null;
      pc.ontrack = null;
    }
    const sessionId = this.sessionId;
    this.sessionId = null;
    if (!sessionId || !hangUp) pc?.close();
    if (sessionId && hangUp) {
      // Hang up before closing: a closed connection would end the session on the
      // server first, and the hang-up would find nothing (404). Gone either way.
      this.api
        .hangUp(this.spaceId, sessionId, { keepalive })
        .catch(() => {})
        .finally(() => pc?.close());
    }
  }

  async #connect() {
    if (this.state === "stopped") return;
    this.attempts += 1;
    this.#setState(this.everConnected ? "reconnecting" : "connecting");
    const abort = new AbortController();
    this.abort = abort;
    const iceServers = await iceServersFor(this.spaceId);
    if (abort.signal.aborted || this.state === "stopped") return;
    const pc = new RTCPeerConnection({
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
      iceServers,
    });
    this.pc = pc;
    this.lastPackets = null;
    this.lastLost = null;
    this.lossWindow = [];
    this.lastProgressAt = performance.now();

    if (this.kind === "publish") {
      pc.addTransceiver(this.track, { direction: "sendrecv" });
    } else {
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    pc.ontrack = (event) => {
      this.stream = event.streams[0] ?? new MediaStream([event.track]);
      this.dispatchEvent(new CustomEvent("track", { detail: this.stream }));
    };
    pc.onconnectionstatechange = () => this.#onConnectionState(pc);

    try {
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringDone(pc, ICE_GATHERING_TIMEOUT_MS);
      if (abort.signal.aborted) return;
      const offer = { sdp: pc.localDescription.sdp, type: "offer" };
      const call = this.kind === "publish" ? this.api.rtcPublish : this.api.rtcListen;
      const answer = await call(this.spaceId, offer, abort.signal);
      if (abort.signal.aborted) {
        this.api.hangUp(this.spaceId, answer.session_id).catch(() => {});
        return;
      }
      this.sessionId = answer.session_id;
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    } catch (error) {
      if (abort.signal.aborted || this.state === "stopped") return;
      if (isFull(error)) {
        this.#teardown();
        this.#setState("stopped");
        this.dispatchEvent(new CustomEvent("full", { detail: error }));
        return;
      }
      if (isRefusal(error)) {
        this.#teardown();
        this.#setState("stopped");
        this.dispatchEvent(new CustomEvent("refused", { detail: error }));
        return;
      }
      this.#retry();
      return;
    }
    this.#later(() => {
      if (pc === this.pc && pc.connectionState !== "connected") this.#retry();
    }, CONNECT_TIMEOUT_MS);
    this.statsTimer = setInterval(() => this.#sample(pc), STATS_EVERY_MS);
  }

  #onConnectionState(pc) {
    if (pc !== this.pc) return;
    switch (pc.connectionState) {
      case "connected":
        this.everConnected = true;
        this.failures = 0;
        this.lastProgressAt = performance.now();
        this.#setState("connected");
        break;
      case "disconnected":
        this.#setState("reconnecting");
        this.#later(() => {
          if (pc === this.pc && pc.connectionState !== "connected") this.#retry();
        }, DISCONNECTED_GRACE_MS);
        break;
      case "failed":
      case "closed":
        this.#retry();
        break;
      default:
        break;
    }
  }

  /** Replaces the connection after a jittered, growing pause. */
  #retry() {
    if (this.state === "stopped") return;
    this.#teardown();
    this.#setState(this.everConnected ? "reconnecting" : "connecting");
    this.#setQuality(null, null);
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.failures);
    this.failures += 1;
    this.#later(() => this.#connect(), ceiling / 2 + Math.random() * (ceiling / 2));
  }

  #setQuality(quality, stats) {
    this.stats = stats;
    if (quality === this.quality && !stats) return;
    this.quality = quality;
    this.dispatchEvent(new CustomEvent("quality", { detail: quality }));
  }

  async #sample(pc) {
    let report;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    if (pc !== this.pc) return;
    let inbound = null;
    let pair = null;
    let selectedPairId = null;
    for (const stat of report.values()) {
      if (stat.type === "inbound-rtp" && stat.kind === "audio") inbound = stat;
      if (stat.type === "transport" && stat.selectedCandidatePairId) {
        selectedPairId = stat.selectedCandidatePairId;
      }
    }
    if (selectedPairId) pair = report.get(selectedPairId) ?? null;
    if (!pair) {
      for (const stat of report.values()) {
        if (stat.type === "candidate-pair" && stat.nominated && stat.state === "succeeded") {
          pair = stat;
        }
      }
    }
    const now = performance.now();
    const packets = inbound?.packetsReceived ?? 0;
    const lost = Math.max(0, inbound?.packetsLost ?? 0);
    if (this.lastPackets === null || packets > this.lastPackets) this.lastProgressAt = now;
    const received = this.lastPackets === null ? packets : packets - this.lastPackets;
    const lostNow = this.lastLost === null ? lost : Math.max(0, lost - this.lastLost);
    this.lastPackets = packets;
    this.lastLost = lost;

    if (pc.connectionState !== "connected") return;
    if (now - this.lastProgressAt > STALL_MS) {
      this.#retry();
      return;
    }
    if (!inbound) return;
    this.lossWindow.push([received, lostNow]);
    if (this.lossWindow.length > LOSS_WINDOW) this.lossWindow.shift();
    let windowReceived = 0;
    let windowLost = 0;
    for (const [r, l] of this.lossWindow) {
      windowReceived += r;
      windowLost += l;
    }
    const stats = {
      loss: windowReceived + windowLost > 0 ? windowLost / (windowReceived + windowLost) : 0,
      jitter: inbound.jitter ?? 0,
      rtt: pair?.currentRoundTripTime ?? 0,
    };
    this.#setQuality(qualityOf(stats), stats);
  }
}
