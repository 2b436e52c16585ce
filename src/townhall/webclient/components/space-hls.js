/**
 * "Listen" on the share page for visitors without an account: the Space's
 * HLS stream (/spaces/{id}/hls/index.m3u8, AAC in 1 s segments), played
 * natively where the browser can (Safari), else through hls.js, a vendored
 * script (vendor/hls/) loaded only when a visitor reaches for the button.
 *
 * The playlist exists once the room has opened (someone published or
 * listened): until then the player says so and asks again every few seconds.
 */

import { h, replace } from "../dom.js";
import { icon } from "./icons.js";

const HLS_SCRIPT = "/static/vendor/hls/hls.min.js";
const HLS_TYPE = "application/vnd.apple.mpegurl";
const NOT_YET_RETRY_MS = 3000;
const ERROR_RETRY_MS = 4000;
/** Two 1 s segments behind live: about 3 s from mouth to ear. */
const HLS_CONFIG = {
  liveSyncDurationCount: 2,
  liveMaxLatencyDurationCount: 6,
  maxBufferLength: 8,
  backBufferLength: 4,
  lowLatencyMode: false,
};

let hlsScript = null;

/** Loads hls.js once per page; resolves with its Hls class. */
export function loadHlsJs() {
  if (window.Hls) return Promise.resolve(window.Hls);
  hlsScript ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = HLS_SCRIPT;
    script.async = true;
    script.addEventListener("load", () =>
      window.Hls ? resolve(window.Hls) : reject(new Error("hls.js did not load")),
    );
    script.addEventListener("error", () => {
      hlsScript = null;
      script.remove();
      reject(new Error("hls.js did not load"));
    });
    document.head.append(script);
  });
  return hlsScript;
}

/**
 * Starts hls.js on an <audio>: play() once the playlist is read, media errors
 * recovered in place, any other fatal error handed to onFatal(data).
 */
function attachHls(Hls, audio, url, play, onFatal) {
  const hls = new Hls(HLS_CONFIG);
  hls.on(Hls.Events.MANIFEST_PARSED, play);
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else onFatal(data);
  });
  hls.loadSource(url);
  hls.attachMedia(audio);
  return hls;
}

/**
 * Plays a live HLS url on an existing <audio> (the room's, when WebRTC is
 * full); keeps trying on errors. onPlaying/onBlocked report autoplay. Returns
 * stop().
 */
export function playHlsOn(audio, url, { onPlaying = () => {}, onBlocked = () => {} } = {}) {
  let hls = null;
  let timer = null;
  let stopped = false;
  const native = audio.canPlayType(HLS_TYPE) !== "";
  const play = () =>
    audio.play().then(onPlaying, (error) => {
      if (error?.name === "NotAllowedError") onBlocked();
    });
  const again = () => {
    hls?.destroy();
    hls = null;
    if (!stopped) timer = setTimeout(start, ERROR_RETRY_MS);
  };
  function nativeFailed() {
    if (stopped) return;
    audio.removeAttribute("src");
    audio.load();
    again();
  }
  async function start() {
    timer = null;
    audio.srcObject = null;
    if (native) {
      // A playlist not written yet (the room opened a moment ago) is an error
      // the native player does not retry by itself.
      audio.addEventListener("error", nativeFailed, { once: true });
      audio.src = url;
      play();
      return;
    }
    let Hls;
    try {
      Hls = await loadHlsJs();
    } catch {
      again();
      return;
    }
    if (stopped || !Hls.isSupported()) return;
    hls = attachHls(Hls, audio, url, play, again);
  }
  start();
  return function stop() {
    stopped = true;
    clearTimeout(timer);
    audio.removeEventListener("error", nativeFailed);
    hls?.destroy();
    hls = null;
    if (audio.src) {
      audio.pause();
      audio.removeAttribute("src");
      audio.load();
    }
  };
}

export function hlsPlayer(room) {
  const url = `/spaces/${encodeURIComponent(room.id)}/hls/index.m3u8`;
  const audio = h("audio", { class: "hls-audio", hidden: true });
  const button = h("button", { type: "button", class: "btn btn-primary btn-listen" });
  const status = h("p", { class: "hls-status", role: "status" });
  const node = h("div", { class: "hls-listen" }, button, status, audio);
  const native = audio.canPlayType(HLS_TYPE) !== "";

  let wanted = false;
  let hls = null;
  let timer = null;

  function paint() {
    const playing = wanted && !audio.paused;
    replace(button, icon(wanted ? "stop" : "volume", 20), wanted ? "Stop listening" : "Listen");
    node.dataset.playing = String(playing);
  }

  function say(text) {
    if (status.textContent !== text) status.textContent = text;
  }

  function teardown() {
    clearTimeout(timer);
    timer = null;
    hls?.destroy();
    hls = null;
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
  }

  function retry(text, ms) {
    teardown();
    if (!wanted) return;
    say(text);
    timer = setTimeout(start, ms);
  }

  function play() {
    audio.play().catch((error) => {
      if (error?.name === "NotAllowedError") {
        wanted = false;
        teardown();
        say("Press Listen to start the audio.");
        paint();
      }
    });
  }

  async function start() {
    timer = null;
    if (!wanted) return;
    let found;
    let playlist = "";
    try {
      found = await fetch(url, { cache: "no-store" });
      if (found.ok) playlist = await found.text();
    } catch {
      retry("Can't reach the server. Trying again…", ERROR_RETRY_MS);
      return;
    }
    if (!wanted) return;
    if (found.status === 404) {
      retry("Not live audio yet. Trying again…", NOT_YET_RETRY_MS);
      return;
    }
    if (!found.ok) {
      retry("The audio isn't available right now. Trying again…", ERROR_RETRY_MS);
      return;
    }
    if (playlist.includes("#EXT-X-ENDLIST")) {
      stop();
      say("The live audio has ended.");
      return;
    }
    say("Connecting…");
    if (native) {
      audio.src = url;
      play();
      return;
    }
    let Hls;
    try {
      Hls = await loadHlsJs();
    } catch {
      retry("The player didn't load. Trying again…", ERROR_RETRY_MS);
      return;
    }
    if (!wanted) return;
    if (!Hls.isSupported()) {
      wanted = false;
      say("This browser can't play the live audio. Log in to listen instead.");
      paint();
      return;
    }
    hls = attachHls(Hls, audio, url, play, (data) => {
      if (data.response?.code === 404) {
        retry("Not live audio yet. Trying again…", NOT_YET_RETRY_MS);
      } else {
        retry("The audio dropped. Reconnecting…", ERROR_RETRY_MS);
      }
    });
  }

  audio.addEventListener("playing", () => {
    say("Playing live audio.");
    paint();
  });
  audio.addEventListener("waiting", () => {
    if (wanted) say("Buffering…");
  });
  audio.addEventListener("ended", () => {
    // The playlist was finished: the Space is over.
    if (!wanted) return;
    stop();
    say("The live audio has ended.");
  });
  audio.addEventListener("error", () => {
    // Native HLS only: hls.js reports through its own ERROR event.
    if (wanted && native) retry("The audio dropped. Reconnecting…", ERROR_RETRY_MS);
  });

  function stop() {
    wanted = false;
    teardown();
    say("");
    paint();
  }

  button.addEventListener("click", () => {
    if (wanted) {
      stop();
      return;
    }
    wanted = true;
    say("Connecting…");
    paint();
    start();
  });
  // Fetch the player while the pointer heads for the button.
  const warm = () => {
    if (!native) loadHlsJs().catch(() => {});
  };
  button.addEventListener("pointerenter", warm, { once: true });
  button.addEventListener("focus", warm, { once: true });
  paint();

  return {
    node,
    /** Stops when the Space is no longer live. */
    sync() {
      if (wanted && room.space?.state !== "live") {
        stop();
        say("This Space has ended.");
      }
    },
    stop,
  };
}
