/**
 * Captions in the room, and the transcript of an ended Space.
 *
 * Live: `caption` events ({user_id, text, final, offset_ms}) paint one line per
 * speaker: an interim caption shows greyed and is replaced by the final one
 * when the speaker pauses. Listeners can hide the panel; the choice is kept in
 * localStorage.
 *
 * Ended: the transcript (GET /spaces/{id}/transcript) as a list of moments.
 * Clicking one seeks the replay: it dispatches
 *   document  CustomEvent("townhall:seek", {detail: {offset_ms}})
 * for whichever replay player is on the page, and sets `currentTime` on an
 * <audio>/<video class="replay-player"> if there is one. While that player
 * plays, the line being said is highlighted and shown as a caption. A link to
 * a moment (/s/{id}?t=SECONDS, as transcript search gives) highlights that line
 * and seeks the replay there: at once, and again when a replay player that
 * appears later has loaded its metadata.
 */

import { isAbort } from "../api.js";
import { h, replace } from "../dom.js";
import { displayName } from "../format.js";
import { userOf } from "./space-people.js";

const HIDDEN_KEY = "townhall.captions.hidden";
/** Lines kept on screen: enough to follow a conversation, few enough to read large. */
const VISIBLE_LINES = 4;
/** Final captions shown to someone who arrives while the Space is live. */
const RECENT_ON_ARRIVAL = 2;
/** `?t=` links give whole seconds: the moment linked may start up to a second later. */
const LINK_PRECISION_MS = 999;

function storedHidden() {
  try {
    return localStorage.getItem(HIDDEN_KEY) === "1";
  } catch {
    return false;
  }
}

function storeHidden(hidden) {
  try {
    localStorage.setItem(HIDDEN_KEY, hidden ? "1" : "0");
  } catch {
    // Private mode without storage: the toggle still works for this visit.
  }
}

/** 65250 -> "1:05", 3723004 -> "1:02:03". */
export function clock(offsetMs) {
  const total = Math.max(0, Math.floor(offsetMs / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** Tells the replay player (whoever built it) to jump to a moment of the Space. */
export function seekReplay(offsetMs) {
  document.dispatchEvent(new CustomEvent("townhall:seek", { detail: { offset_ms: offsetMs } }));
  const player = document.querySelector("audio.replay-player, video.replay-player");
  if (player) player.currentTime = offsetMs / 1000;
}

export function captionsPanel(room, ctx) {
  let hidden = storedHidden();
  /** user_id -> the line showing their interim caption, replaced by the final one. */
  const open = new Map();
  let transcript = null;
  let transcriptLoading = false;
  const linkedSeconds = Number.parseFloat(ctx.url?.searchParams.get("t") ?? "");
  let pendingSeekMs = Number.isFinite(linkedSeconds) && linkedSeconds >= 0 ? linkedSeconds * 1000 : null;

  const toggle = h("button", {
    type: "button",
    class: "btn btn-small captions-toggle",
    onclick: () => {
      hidden = !hidden;
      storeHidden(hidden);
      paint();
    },
  });
  const lines = h("ol", { class: "captions-lines", role: "log", "aria-live": "polite" });
  const live = h(
    "section",
    { class: "card room-captions", "aria-label": "Captions" },
    h("div", { class: "captions-head" }, h("h2", {}, "Captions"), toggle),
    lines,
  );

  const nowShowing = h("p", { class: "captions-now", "aria-live": "polite" });
  const list = h("ol", { class: "transcript-lines" });
  const ended = h(
    "section",
    { class: "card room-transcript", "aria-label": "Transcript" },
    h("h2", {}, "Transcript"),
    nowShowing,
    list,
  );

  function speakerName(userId) {
    const person = room.people.get(userId);
    return person ? displayName(userOf(person)) : displayName(userOf({ user_id: userId }));
  }

  function line(data) {
    return h(
      "li",
      {
        class: data.final ? "caption-line" : "caption-line caption-interim",
        dataset: { userId: data.user_id, key: `${data.user_id}@${data.offset_ms}` },
      },
      h("span", { class: "caption-speaker" }, speakerName(data.user_id)),
      h("span", { class: "caption-text", "aria-hidden": data.final ? null : "true" }, data.text),
    );
  }

  /** A `caption` event from the Space's stream. */
  function caption(data) {
    if (!data?.text) return;
    const fresh = line(data);
    // The same final can come twice: from the transcript on arrival and from the stream.
    if (data.final && [...lines.children].some((li) => li.dataset.key === fresh.dataset.key && !li.classList.contains("caption-interim"))) {
      return;
    }
    const current = open.get(data.user_id);
    if (current?.isConnected) current.replaceWith(fresh);
    else lines.append(fresh);
    if (data.final) open.delete(data.user_id);
    else open.set(data.user_id, fresh);
    while (lines.children.length > VISIBLE_LINES) lines.firstElementChild.remove();
    if (data.final && transcript) transcript.push({ ...data, user: room.people.get(data.user_id)?.user });
  }

  async function loadTranscript() {
    if (transcript || transcriptLoading) return;
    transcriptLoading = true;
    try {
      const body = await ctx.api.transcript(room.space.id, ctx.signal);
      transcript = body.data;
      paintTranscript();
      if (pendingSeekMs !== null) {
        highlight(pendingSeekMs, LINK_PRECISION_MS)?.scrollIntoView({ block: "center" });
        seekReplay(pendingSeekMs);
      }
    } catch (err) {
      if (!isAbort(err)) ctx.announce(err.message, { error: true });
    } finally {
      transcriptLoading = false;
    }
  }

  function paintTranscript() {
    replace(
      list,
      (transcript ?? []).map((item) =>
        h(
          "li",
          { dataset: { offsetMs: item.offset_ms } },
          h(
            "button",
            {
              type: "button",
              class: "transcript-time",
              "aria-label": `Play from ${clock(item.offset_ms)}`,
              onclick: () => seekReplay(item.offset_ms),
            },
            clock(item.offset_ms),
          ),
          h("span", { class: "caption-speaker" }, displayName(item.user ?? userOf(item))),
          h("span", { class: "transcript-text" }, item.text),
        ),
      ),
    );
    ended.hidden = !transcript?.length;
  }

  function isReplayPlayer(node) {
    return node instanceof HTMLMediaElement && node.classList.contains("replay-player");
  }

  /** While the replay plays, the line being said is highlighted and shown large. */
  function follow(event) {
    if (isReplayPlayer(event.target)) highlight(event.target.currentTime * 1000);
  }

  /** Marks the line being said at `atMs` (or starting within `leadMs` after it) and
   * returns its element. */
  function highlight(atMs, leadMs = 0) {
    if (!transcript?.length) return null;
    let current = null;
    for (const item of transcript) {
      if (item.offset_ms <= atMs + leadMs) current = item;
      else break;
    }
    const saying = current && atMs <= current.offset_ms + current.duration_ms + 1500 ? current : null;
    let found = null;
    for (const li of list.children) {
      const on = saying !== null && Number(li.dataset.offsetMs) === saying.offset_ms;
      if (on) {
        li.setAttribute("aria-current", "true");
        found = li;
      } else li.removeAttribute("aria-current");
    }
    nowShowing.textContent = saying ? `${displayName(saying.user ?? userOf(saying))}: ${saying.text}` : "";
    return found;
  }
  // Media events do not bubble: listen in the capture phase for any replay player.
  document.addEventListener("timeupdate", follow, { capture: true, signal: ctx.signal });
  document.addEventListener(
    "loadedmetadata",
    (event) => {
      if (pendingSeekMs === null || !isReplayPlayer(event.target)) return;
      event.target.currentTime = pendingSeekMs / 1000;
      pendingSeekMs = null;
    },
    { capture: true, signal: ctx.signal },
  );

  /** Someone arriving mid-sentence sees the last words said, not an empty panel. */
  let caughtUp = false;
  async function catchUp() {
    caughtUp = true;
    try {
      const body = await ctx.api.transcript(room.space.id, ctx.signal);
      if (lines.children.length) return; // live captions came first
      for (const item of body.data.slice(-RECENT_ON_ARRIVAL)) caption({ ...item, final: true });
    } catch (err) {
      if (!isAbort(err)) caughtUp = false;
    }
  }

  function paint() {
    const space = room.space;
    live.hidden = !(space?.state === "live" && space.captions);
    if (!live.hidden && !caughtUp) catchUp();
    lines.hidden = hidden;
    toggle.textContent = hidden ? "Show captions" : "Hide captions";
    toggle.setAttribute("aria-pressed", String(!hidden));
    if (space?.state === "ended") loadTranscript();
    else ended.hidden = true;
  }

  ended.hidden = true;
  live.hidden = true;
  return { live, ended, caption, paint };
}
