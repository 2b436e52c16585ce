/**
 * Replay of an ended, recorded Space on its share page: the recording's single
 * `.m4a` file in a plain <audio> (the browser seeks it with byte ranges and
 * changes speed natively, so no HLS player is needed), and, in step with the
 * playhead, what happened: who was speaking, reactions floating up at their
 * moment, the caption line, and the pinned posts and polls as they were.
 *
 *   GET recording (ready) + GET replay-events [{type, offset_ms, data}]
 *     audio "timeupdate" / a frame loop while playing -> paint(t)
 *       reactions with offset in (last t, t] float; a seek jumps without a burst
 */

import { h, replace } from "../dom.js";
import { displayName } from "../format.js";
import { avatar } from "./avatar.js";
import { confirmDialog } from "./dialog.js";
import { icon } from "./icons.js";
import { postItem } from "./post.js";

export const SPEEDS = [1, 1.5, 2];
/** A caption stays up this long after it was said, unless a newer one replaces it. */
const CAPTION_HOLD_MS = 6000;
/** A seek or a jump further than this does not replay the reactions in between. */
const MAX_STEP_MS = 1500;

export function formatClock(seconds) {
  const whole = Math.max(0, Math.floor(seconds || 0));
  const h_ = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h_ ? `${h_}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Who is known by id from the events themselves (joins carry a user summary). */
function peopleFrom(space, events) {
  const people = new Map();
  if (space.host) people.set(space.host.id, space.host);
  for (const event of events) {
    const user = event.data?.user;
    if (user?.id) people.set(user.id, user);
  }
  return people;
}

/**
 * room: the page's room state (space, myId, ctx); layer: the reaction layer to
 * float emoji in. Returns {node, stop}.
 */
export function replayPlayer(room, { recording, events, layer, onDeleted }) {
  const { ctx, space } = room;
  const people = peopleFrom(space, events);
  const turns = events.filter((e) => e.type === "speaker");
  const reactions = events.filter((e) => e.type === "reaction");
  const captions = events.filter((e) => e.type === "caption");
  const pinEvents = events.filter((e) => e.type === "pin.added" || e.type === "pin.removed");
  const pollEvents = events.filter((e) => e.type.startsWith("poll."));
  const speakerIds = [...new Set(turns.map((t) => t.data.user_id))];

  // replay-player: the transcript's moments seek it (components/space-captions.js).
  const audio = h("audio", {
    class: "replay-audio replay-player",
    preload: "metadata",
    src: recording.download_url,
  });
  const playButton = h("button", { type: "button", class: "btn btn-primary replay-play" });
  const seek = h("input", {
    type: "range",
    class: "replay-seek",
    min: "0",
    max: String(recording.duration_s),
    step: "0.1",
    value: "0",
    "aria-label": "Position in the recording",
  });
  const clock = h("span", { class: "replay-clock", "aria-live": "off" });
  const speedButtons = SPEEDS.map((speed) =>
    h(
      "button",
      {
        type: "button",
        class: "btn btn-secondary replay-speed",
        "data-speed": String(speed),
        "aria-pressed": String(speed === 1),
        onClick: () => {
          audio.playbackRate = speed;
          speedButtons.forEach((b, i) => b.setAttribute("aria-pressed", String(SPEEDS[i] === speed)));
        },
      },
      `${speed}×`,
    ),
  );
  const speakers = h(
    "ul",
    { class: "replay-speakers", "aria-label": "Speakers" },
    speakerIds.map((userId) => {
      const user = people.get(userId) ?? { id: userId, username: "someone", display_name: "" };
      return h(
        "li",
        { class: "replay-speaker", "data-user-id": userId },
        avatar(user, "md"),
        h("span", { class: "replay-speaker-name" }, displayName(user)),
      );
    }),
  );
  const caption = h("p", { class: "replay-caption", "aria-live": "polite", hidden: true });
  const pinned = h("div", { class: "replay-pinned" });
  const polls = h("div", { class: "replay-polls" });
  const download = h(
    "a",
    { class: "btn btn-secondary", href: recording.download_url, download: `space-${space.id}.m4a` },
    icon("download", 16),
    " Download",
  );
  const isHost = room.myId && room.myId === space.creator_id;
  const remove = isHost
    ? h(
        "button",
        {
          type: "button",
          class: "btn btn-secondary btn-danger-text",
          onClick: async () => {
            const sure = await confirmDialog({
              title: "Delete this recording?",
              message: "Nobody will be able to replay or download it. Clips stay.",
              confirmLabel: "Delete",
              danger: true,
            });
            if (!sure) return;
            try {
              await ctx.api.deleteRecording(space.id);
              stop();
              ctx.announce("Recording deleted.");
              onDeleted?.();
            } catch (err) {
              ctx.announce(err.message, { error: true });
            }
          },
        },
        "Delete recording",
      )
    : null;
  const node = h(
    "section",
    { class: "card replay", "aria-label": "Replay", "data-reactions-shown": "0" },
    h("h2", { class: "replay-title" }, "Replay"),
    h("div", { class: "replay-controls" }, playButton, seek, clock),
    h("div", { class: "replay-speeds", role: "group", "aria-label": "Speed" }, speedButtons),
    speakers,
    caption,
    pinned,
    polls,
    h("div", { class: "replay-actions" }, download, remove),
    audio,
  );

  let lastMs = 0;
  let frame = 0;
  let shown = 0;
  let seeking = false;
  let pinnedKey = "";
  let pollsKey = "";

  function paintButton() {
    replace(playButton, icon(audio.paused ? "play" : "pause", 18), audio.paused ? " Play" : " Pause");
    node.dataset.playing = String(!audio.paused);
  }

  function floatReactions(fromMs, toMs) {
    if (toMs < fromMs || toMs - fromMs > MAX_STEP_MS) return;
    for (const event of reactions) {
      if (event.offset_ms > fromMs && event.offset_ms <= toMs) {
        const tile = speakers.querySelector(`[data-user-id="${CSS.escape(event.data.user_id)}"]`);
        layer.show(event.data.emoji, tile);
        shown += 1;
        node.dataset.reactionsShown = String(shown);
      }
    }
  }

  function paintSpeakers(ms) {
    const now = new Set(
      turns
        .filter((t) => t.offset_ms <= ms && ms < t.offset_ms + t.data.duration_ms)
        .map((t) => t.data.user_id),
    );
    for (const item of speakers.children) {
      item.classList.toggle("speaking", now.has(item.dataset.userId));
    }
  }

  function paintCaption(ms) {
    let latest = null;
    for (const event of captions) {
      if (event.offset_ms > ms) break;
      latest = event;
    }
    const show = latest && ms - latest.offset_ms < CAPTION_HOLD_MS;
    caption.hidden = !show;
    if (show) {
      const user = people.get(latest.data.user_id);
      const text = `${user ? displayName(user) + ": " : ""}${latest.data.text}`;
      if (caption.textContent !== text) caption.textContent = text;
    }
  }

  function paintBoards(ms) {
    const pins = new Map();
    for (const event of pinEvents) {
      if (event.offset_ms > ms) break;
      if (event.type === "pin.added" && event.data.post) pins.set(event.data.post_id, event.data.post);
      else pins.delete(event.data.post_id);
    }
    const key = [...pins.keys()].join(",");
    if (key !== pinnedKey) {
      pinnedKey = key;
      replace(
        pinned,
        pins.size ? h("h3", { class: "replay-subtitle" }, "Pinned") : null,
        [...pins.values()].map((post) => postItem(post)),
      );
    }
    const latest = new Map();
    for (const event of pollEvents) {
      if (event.offset_ms > ms) break;
      if (event.data.poll) latest.set(event.data.poll.id, event.data.poll);
    }
    const pollKey = JSON.stringify([...latest.values()]);
    if (pollKey !== pollsKey) {
      pollsKey = pollKey;
      replace(
        polls,
        [...latest.values()].map((poll) => {
          const total = poll.options.reduce((sum, o) => sum + (o.votes ?? 0), 0);
          return h(
            "div",
            { class: "replay-poll" },
            h("p", { class: "replay-poll-question" }, poll.question),
            h(
              "ul",
              {},
              poll.options.map((o) =>
                h(
                  "li",
                  {},
                  `${o.text}: ${total ? Math.round((100 * (o.votes ?? 0)) / total) : 0}%`,
                ),
              ),
            ),
            h("p", { class: "small" }, poll.state === "open" ? "Open" : "Closed"),
          );
        }),
      );
    }
  }

  function paint() {
    const ms = Math.round(audio.currentTime * 1000);
    if (!seeking) floatReactions(lastMs, ms);
    seeking = false;
    lastMs = ms;
    if (document.activeElement !== seek) seek.value = String(audio.currentTime);
    clock.textContent = `${formatClock(audio.currentTime)} / ${formatClock(recording.duration_s)}`;
    node.dataset.position = String(ms);
    paintSpeakers(ms);
    paintCaption(ms);
    paintBoards(ms);
  }

  function loop() {
    paint();
    frame = audio.paused ? 0 : requestAnimationFrame(loop);
  }

  playButton.addEventListener("click", () => {
    if (audio.paused) audio.play().catch((err) => ctx.announce(err.message, { error: true }));
    else audio.pause();
  });
  audio.addEventListener("play", () => {
    paintButton();
    if (!frame) frame = requestAnimationFrame(loop);
  });
  audio.addEventListener("pause", paintButton);
  audio.addEventListener("ended", paintButton);
  audio.addEventListener("seeking", () => {
    seeking = true;
    paint();
  });
  audio.addEventListener("timeupdate", () => {
    if (!frame) paint();
  });
  seek.addEventListener("input", () => {
    seeking = true;
    audio.currentTime = Number(seek.value);
  });
  paintButton();
  paint();

  function stop() {
    cancelAnimationFrame(frame);
    frame = 0;
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
  }

  return { node, audio, stop };
}
