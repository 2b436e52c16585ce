/**
 * The room's sound for a logged-in participant of a live Space.
 *
 *   in the audience -> AudioLink "listen" ----------------> <audio> plays the mix
 *   on stage        -> getUserMedia -> AudioLink "publish" -> <audio> plays the mix
 *                      (sendrecv: your mic out, the mix          without your voice
 *                       without you back; the listen link
 *                       is dropped once it is up)
 *   moved to the audience -> publish link and microphone released -> "listen" again
 *   Space ended, you left or were removed -> everything stopped
 *   no WebRTC seat left (503 webrtc_full) -> the same <audio> plays the HLS
 *                      stream instead, without a word (a few seconds later)
 *
 * sync() compares what should run (from the room's state) with what runs, and
 * is called after every repaint, so role changes, mutes and the end of the
 * Space take effect without a rejoin. The server enforces mute; muting also
 * disables the microphone track here, so nothing leaves the browser.
 */

import { h, replace } from "../dom.js";
import { AudioLink } from "../rtc.js";
import { playHlsOn } from "./space-hls.js";
import { icon } from "./icons.js";
import { isOnStage } from "./space-people.js";

const MIC_CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  video: false,
};
/** After the server refused a link (4xx), wait this long before asking again. */
const REFUSED_PAUSE_MS = 5000;
/** The level meter shows -60 dBFS (empty) to 0 dBFS (full). */
const METER_FLOOR_DB = -60;
const METER_ARIA_EVERY_MS = 250;

const STATE_TEXT = {
  listen: {
    connecting: "Connecting audio…",
    connected: "Listening",
    reconnecting: "Reconnecting audio…",
  },
  publish: {
    connecting: "Connecting your microphone…",
    connected: "On stage",
    reconnecting: "Reconnecting audio…",
  },
};
const QUALITY_TEXT = {
  good: "Good connection",
  fair: "Fair connection",
  poor: "Poor connection",
};

function micProblem(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Townhall isn't allowed to use your microphone. Allow it in your browser's site settings, then try again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one, then try again.";
    case "NotReadableError":
    case "AbortError":
      return "Your microphone couldn't start. It may be in use by another app: close it, then try again.";
    case "TypeError":
      return "Your browser only allows microphones on secure (https) pages.";
    default:
      return "Your microphone couldn't start. Try again.";
  }
}

function statsText(stats) {
  if (!stats) return "";
  const loss = `${(stats.loss * 100).toFixed(1)}% lost`;
  const jitter = `jitter ${Math.round(stats.jitter * 1000)} ms`;
  const rtt = `round trip ${Math.round(stats.rtt * 1000)} ms`;
  return `${loss}, ${jitter}, ${rtt}`;
}

/** The audio panel (state, quality, Tap to listen, mic problems), your mic meter, sync(). */
export function roomAudio(room) {
  const { ctx, id } = room;
  const supported = typeof RTCPeerConnection === "function";

  let listenLink = null;
  /** stop() of the HLS stream playing instead of the listen link, when WebRTC was full. */
  let hlsListen = null;
  let publishLink = null;
  let mic = null;
  let micRequest = null;
  let micError = null;
  let needsTap = false;
  let refusal = null;
  let refusedUntil = 0;
  let retryTimer = null;
  let stopped = false;
  let meterContext = null;
  let meterFrame = null;

  // ---- what it looks like ----

  const player = h("audio", { class: "room-player", autoplay: true, hidden: true });
  const stateText = h("span", { class: "audio-state-text" });
  const stateNode = h(
    "p",
    { class: "audio-state", role: "status" },
    h("span", { class: "conn-dot", "aria-hidden": "true" }),
    h("span", { class: "visually-hidden" }, "Audio: "),
    stateText,
  );
  const qualityText = h("span", { class: "audio-quality-text" });
  const qualityNode = h(
    "p",
    { class: "audio-quality", hidden: true },
    h(
      "span",
      { class: "quality-bars", "aria-hidden": "true" },
      h("span", {}),
      h("span", {}),
      h("span", {}),
    ),
    qualityText,
  );
  const tapButton = h(
    "button",
    { type: "button", class: "btn btn-primary tap-to-listen", hidden: true },
    icon("volume", 22),
    "Tap to listen",
  );
  const alertNode = h("div", { class: "audio-alert", role: "alert" });
  const node = h(
    "section",
    { class: "room-audio card", "aria-label": "Audio", hidden: true },
    h("div", { class: "audio-row" }, icon("volume", 20), stateNode, qualityNode),
    tapButton,
    alertNode,
    player,
  );

  const meterFill = h("span", { class: "mic-meter-fill" });
  const meter = h(
    "span",
    {
      class: "mic-meter",
      role: "meter",
      "aria-label": "Your microphone level",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": "0",
      hidden: true,
    },
    meterFill,
  );

  tapButton.addEventListener("click", () => {
    meterContext?.resume().catch(() => {});
    player
      .play()
      .then(() => {
        needsTap = false;
        paint();
      })
      .catch(() => {});
  });

  let shownAlert = null;
  function paintAlert() {
    const text = micError ?? null;
    if (text === shownAlert) return;
    shownAlert = text;
    if (!text) {
      alertNode.replaceChildren();
      return;
    }
    const retry = h(
      "button",
      { type: "button", class: "btn btn-secondary btn-small" },
      "Try again",
    );
    retry.addEventListener("click", () => {
      micError = null;
      sync();
    });
    replace(alertNode, icon("mic-off", 18), h("p", {}, text), retry);
  }

  function paint() {
    const want = desired();
    node.hidden = want === "off" && !micError;
    const link = audible();
    const kind = link?.kind ?? (want === "publish" ? "publish" : "listen");
    let state = link?.state ?? (hlsListen ? "connected" : "connecting");
    if (state === "stopped") state = "connecting";
    node.dataset.state = state;
    stateNode.dataset.state = state;
    if (!supported) {
      stateText.textContent = "This browser can't play live audio.";
    } else if (refusal && !link) {
      stateText.textContent = `No audio: ${refusal} Trying again…`;
    } else if (micRequest && !link) {
      stateText.textContent = "Waiting for your microphone…";
    } else if (needsTap && state === "connected") {
      stateText.textContent = "Ready to listen";
    } else {
      stateText.textContent = STATE_TEXT[kind][state] ?? state;
    }
    const quality = state === "connected" ? (link?.quality ?? null) : null;
    qualityNode.hidden = !quality;
    qualityNode.dataset.quality = quality ?? "";
    qualityText.textContent = QUALITY_TEXT[quality] ?? "";
    qualityNode.title = statsText(link?.stats);
    tapButton.hidden = !needsTap || want === "off";
    meter.hidden = !mic;
    paintAlert();
  }

  // ---- what should run ----

  function desired() {
    const me = room.me();
    const space = room.space;
    if (stopped || !supported || !space || space.state !== "live" || !me || room.removed) {
      return "off";
    }
    return isOnStage(me) && !micError ? "publish" : "listen";
  }

  /** The link whose audio plays: the publish link once it has been up, else the listen link. */
  function audible() {
    if (publishLink && (publishLink.everConnected || !listenLink)) return publishLink;
    return listenLink ?? publishLink;
  }

  function route() {
    if (hlsListen && !audible()) return;
    const stream = audible()?.stream ?? null;
    if (player.srcObject === stream) return;
    player.srcObject = stream;
    if (!stream) return;
    player
      .play()
      .then(() => {
        if (!needsTap) return;
        needsTap = false;
        paint();
      })
      .catch((error) => {
        // Autoplay refused until the person interacts with the page.
        if (error?.name !== "NotAllowedError") return;
        needsTap = true;
        paint();
      });
  }

  function makeLink(kind, track = null) {
    const link = new AudioLink({ api: ctx.api, spaceId: id, kind, track });
    link.addEventListener("track", () => route());
    link.addEventListener("state", () => {
      if (link.state === "connected") {
        refusal = null;
        if (link === publishLink && listenLink) {
          // The publish link carries the mix (without you) from now on.
          listenLink.stop();
          listenLink = null;
        }
        if (link === publishLink) stopHls();
      }
      route();
      paint();
    });
    link.addEventListener("quality", paint);
    link.addEventListener("full", () => {
      if (link !== listenLink) return;
      listenLink = null;
      startHls();
      paint();
    });
    link.addEventListener("refused", (event) => {
      if (link === publishLink) publishLink = null;
      if (link === listenLink) listenLink = null;
      refusal = event.detail?.message ?? "The server refused.";
      refusedUntil = Date.now() + REFUSED_PAUSE_MS;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(sync, REFUSED_PAUSE_MS);
      route();
      paint();
    });
    link.start();
    return link;
  }

  function ensureListen() {
    if (!listenLink && !hlsListen) listenLink = makeLink("listen");
  }

  function startHls() {
    stopHls();
    player.srcObject = null;
    hlsListen = playHlsOn(player, `/spaces/${encodeURIComponent(id)}/hls/index.m3u8`, {
      onPlaying: () => {
        if (!needsTap) return;
        needsTap = false;
        paint();
      },
      onBlocked: () => {
        needsTap = true;
        paint();
      },
    });
  }

  function stopHls() {
    hlsListen?.();
    hlsListen = null;
  }

  /** hangUp: false when the server closed the link itself (see docs/media.md). */
  function stopListen(hangUp = true) {
    listenLink?.stop({ hangUp });
    listenLink = null;
    stopHls();
  }

  function stopPublish(hangUp = true) {
    publishLink?.stop({ hangUp });
    publishLink = null;
  }

  async function requestMic() {
    if (mic || micRequest) return;
    if (!navigator.mediaDevices?.getUserMedia) {
      micError = micProblem({ name: "TypeError" });
      queueMicrotask(sync);
      return;
    }
    micRequest = navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
    paint();
    let stream = null;
    try {
      stream = await micRequest;
    } catch (error) {
      micError = micProblem(error);
    } finally {
      micRequest = null;
    }
    if (!stream) {
      sync();
      return;
    }
    if (desired() !== "publish") {
      // Moved off the stage while the browser was asking.
      for (const track of stream.getTracks()) track.stop();
      sync();
      return;
    }
    mic = stream;
    const track = mic.getAudioTracks()[0];
    track.contentHint = "speech";
    track.addEventListener("ended", () => {
      // Unplugged, or the permission was revoked.
      releaseMic();
      stopPublish();
      micError = "Your microphone stopped. Check it, then try again.";
      sync();
    });
    startMeter(mic);
    sync();
  }

  function releaseMic() {
    stopMeter();
    for (const track of mic?.getTracks() ?? []) track.stop();
    mic = null;
  }

  /** Your mic sends only while you are unmuted, whatever the server would mix. */
  function applyMute() {
    const track = mic?.getAudioTracks()[0];
    if (track) track.enabled = room.me()?.muted === false;
  }

  function stopAll(hangUp = true) {
    stopPublish(hangUp);
    stopListen(hangUp);
    releaseMic();
    route();
    needsTap = false;
  }

  function sync() {
    clearTimeout(retryTimer);
    retryTimer = null;
    const want = desired();
    const me = room.me();
    if (want === "off") {
      // The server closes every connection when the Space ends and when you are
      // removed or leave; closing the page is the one case it can't know of.
      const serverClosed = room.space?.state === "ended" || room.removed || !me;
      stopAll(stopped || !serverClosed);
      refusal = null;
    } else if (Date.now() < refusedUntil) {
      retryTimer = setTimeout(sync, refusedUntil - Date.now());
    } else if (want === "listen") {
      if (publishLink || mic) {
        // Moved to the audience: the server closed the publish link already.
        stopPublish(isOnStage(me));
        releaseMic();
      }
      ensureListen();
    } else if (mic) {
      if (!publishLink) publishLink = makeLink("publish", mic.getAudioTracks()[0]);
    } else {
      requestMic();
    }
    applyMute();
    route();
    paint();
  }

  // ---- the microphone's level ----

  function startMeter(stream) {
    const Context = window.AudioContext ?? window.webkitAudioContext;
    if (!Context) return;
    const context = new Context();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let level = 0;
    let ariaAt = 0;
    const frame = (now) => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const rms = Math.sqrt(sum / samples.length);
      const db = rms > 0 ? 20 * Math.log10(rms) : METER_FLOOR_DB;
      const target = Math.min(1, Math.max(0, 1 - db / METER_FLOOR_DB));
      // Rises at once, falls gently, like a VU meter.
      level = target > level ? target : level * 0.85 + target * 0.15;
      meterFill.style.setProperty("--level", level.toFixed(3));
      if (now - ariaAt > METER_ARIA_EVERY_MS) {
        ariaAt = now;
        meter.setAttribute("aria-valuenow", String(Math.round(level * 100)));
      }
      meterFrame = requestAnimationFrame(frame);
    };
    meterFrame = requestAnimationFrame(frame);
    meterContext = context;
  }

  function stopMeter() {
    cancelAnimationFrame(meterFrame);
    meterFrame = null;
    meterContext?.close().catch(() => {});
    meterContext = null;
    meterFill.style.setProperty("--level", "0");
    meter.setAttribute("aria-valuenow", "0");
  }

  // A context made before any click may start suspended: the first click wakes it.
  document.addEventListener(
    "pointerdown",
    () => {
      if (meterContext?.state === "suspended") meterContext.resume().catch(() => {});
    },
    { signal: ctx.signal },
  );
  // Closing the tab: hang up now rather than leave the server waiting for a timeout.
  window.addEventListener("pagehide", () => stopAll(), { signal: ctx.signal });
  window.addEventListener(
    "pageshow",
    (event) => {
      if (event.persisted) sync();
    },
    { signal: ctx.signal },
  );

  // For tests and debugging: the connection that plays now.
  const probe = {
    get pc() {
      return audible()?.pc ?? null;
    },
    get kind() {
      return audible()?.kind ?? null;
    },
    get sessionId() {
      return audible()?.sessionId ?? null;
    },
    get state() {
      return audible()?.state ?? "off";
    },
    get quality() {
      return audible()?.quality ?? null;
    },
    get stats() {
      return audible()?.stats ?? null;
    },
  };
  window.__townhallAudio = probe;

  return {
    node,
    meter,
    sync,
    /** The Space's audio moved to another server: every link reconnects at once. */
    reconnect() {
      if (stopped) return;
      publishLink?.reconnect();
      listenLink?.reconnect();
      if (hlsListen) startHls();
    },
    /** The server answers again after a drop: links still down reconnect now. */
    reconnectDown() {
      if (stopped) return;
      for (const link of [publishLink, listenLink]) {
        if (link && link.state !== "connected") link.reconnect();
      }
    },
    /** Disables the mic at once on Mute, before the server hears of it. */
    setMicEnabled(enabled) {
      const track = mic?.getAudioTracks()[0];
      if (track) track.enabled = enabled;
    },
    /** For good (the page is left). hangUp: false after leaving: the server closed all. */
    stop({ hangUp = true } = {}) {
      stopped = true;
      clearTimeout(retryTimer);
      stopAll(hangUp);
      if (window.__townhallAudio === probe) delete window.__townhallAudio;
    },
  };
}
