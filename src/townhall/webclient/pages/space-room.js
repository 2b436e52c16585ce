/**
 * /s/{id}: the room. Logged out it is a preview with "Log in to join";
 * logged in, a live Space is joined at once and kept current over its event
 * stream.
 *
 *   GET space (seq N) -> POST join -> GET participants, polls, shared posts
 *     '-> WS /api/v1/spaces/{id}/events?since=N
 *           each state event applied once, in seq order (space-room-state.js);
 *           a reconnect resumes from the last seq applied; "resync" refetches all
 *
 * The state lives in `room`; the panels (components/space-*.js) paint from it.
 * Sound: a participant hears the room over WebRTC and speaks when on stage
 * (components/space-audio.js, which follows the room's state after every
 * repaint); a logged-out visitor gets a Listen button that plays HLS
 * (components/space-hls.js). `speaking` events ring the speaker's avatar.
 *
 * Replay: once an ended Space's recording is ready, the page plays it, with
 * speakers, reactions, captions, pins and polls in step (components/space-replay.js),
 * for anyone, logged in or not. While a recorded Space is live, participants can
 * clip its last 30 s.
 * `caption` events fill the captions panel; an ended Space shows its
 * transcript, whose moments seek the replay (components/space-captions.js).
 */

import { isAbort } from "../api.js";
import { h, replace } from "../dom.js";
import { EventStream, spaceEventsUrl } from "../events.js";
import { confirmDialog } from "../components/dialog.js";
import { icon } from "../components/icons.js";
import { roomAudio } from "../components/space-audio.js";
import { captionsPanel } from "../components/space-captions.js";
import { hlsPlayer } from "../components/space-hls.js";
import { isModerator } from "../components/space-people.js";
import { pollsPanel } from "../components/space-polls.js";
import { postsPanel } from "../components/space-posts.js";
import { reactionLayer } from "../components/space-reactions.js";
import { replayPlayer } from "../components/space-replay.js";
import { roomHeader } from "../components/space-room-head.js";
import { openShareDialog } from "../components/space-share.js";
import { inviteBanner, roomControls, roomNotice } from "../components/space-room-panels.js";
import { applyFrame, createRoom } from "../components/space-room-state.js";
import { stagePanels } from "../components/space-stage.js";

/** Until the server sends shared posts as events, the list is refreshed this often. */
const SHARED_REFRESH_MS = 20_000;
/** "3 minutes left" on polls counts down at this pace. */
const POLL_CLOCK_MS = 15_000;
const PREVIEW_REFRESH_MS = 30_000;
/** After a leave nobody asked for (a dropped connection outlived its grace), rejoin this rarely. */
const REJOIN_GAP_MS = 10_000;
/** A recording being finished is asked about again this often. */
const REPLAY_RETRY_MS = 3000;

export function spaceRoomPage(ctx) {
  const id = ctx.params.space_id;
  const signal = ctx.signal;
  const room = createRoom(ctx, id, { onChange: () => paintAll() });
  const { myId } = room;
  ctx.setTitle("Space");

  let stream = null;
  let lastSeq = null;
  let refetching = false;
  let buffered = [];
  let leaving = false;
  let lastRejoin = 0;
  let sawSharedEvent = false;

  // ---- the page's parts ----

  const header = roomHeader(room, {
    onLeave: leave,
    onEnd: end,
    onShare: () => openShareDialog(room),
  });
  const audio = myId ? roomAudio(room) : null;
  const hls = myId ? null : hlsPlayer(room);
  const notice = roomNotice(room, {
    join: () => join({ announceFailure: true }),
    start: startSpace,
    cancel: cancelSpace,
    listen: hls?.node,
  });
  const invite = inviteBanner(room, { onChange: () => paintAll() });
  const stage = stagePanels(room);
  const layer = reactionLayer();
  const controls = roomControls(room, {
    onReact: (emoji) => {
      layer.show(emoji, myId ? stageTile(myId) : null);
      ctx.api.react(id, emoji).catch((err) => {
        // Past 5 a second the server says 429: those are simply not sent.
        if (err.status !== 429) ctx.announce(err.message, { error: true });
      });
    },
    onChange: () => paintAll(),
    micMeter: audio?.meter,
    silenceMic: () => audio?.setMicEnabled(false),
  });
  const polls = pollsPanel(room);
  const posts = postsPanel(room);
  const replaySlot = h("div", { class: "replay-slot" });
  let replay = null;
  let replayTimer = null;
  const recordingNote = h(
    "p",
    { class: "room-recording-note small", role: "note", hidden: true },
    "● This Space is being recorded: it can be replayed and clipped.",
  );
  const clipButton = h(
    "button",
    { type: "button", class: "btn btn-secondary room-clip", hidden: true },
    icon("scissors", 18),
    " Clip the last 30 s",
  );
  clipButton.addEventListener("click", async () => {
    clipButton.disabled = true;
    try {
      await ctx.api.clip(id);
      ctx.announce("Clip posted: it plays in timelines.");
    } catch (err) {
      ctx.announce(err.message, { error: true });
    } finally {
      clipButton.disabled = false;
    }
  });
  const captions = captionsPanel(room, ctx);
  const liveRegion = h("div", { class: "visually-hidden", "aria-live": "polite" });
  const stageWrap = h("div", { class: "card room-stage-wrap" }, stage.stage, layer.node);

  const page = h(
    "section",
    { class: "page room", "aria-busy": "true" },
    header.node,
    notice.node,
    replaySlot,
    invite.node,
    audio?.node,
    stageWrap,
    captions.live,
    controls.node,
    recordingNote,
    clipButton,
    stage.requests,
    stage.listeners,
    polls.node,
    posts.pinned,
    posts.shared,
    captions.ended,
    liveRegion,
  );

  // ---- painting ----

  /** A speaker's tile, for their reactions to rise from. */
  function stageTile(userId) {
    return stage.stage.querySelector(`[data-user-id="${CSS.escape(String(userId))}"]`);
  }

  /** Quieter news (someone unmuted, a pin) for screen readers only, without a toast. */
  function say(message) {
    liveRegion.textContent = "";
    requestAnimationFrame(() => {
      liveRegion.textContent = message;
    });
  }

  function paintConnection() {
    header.paintConnection(stream?.state ?? "offline");
  }

  function paintAll() {
    if (!room.space) return;
    const { state } = room.space;
    ctx.setTitle(room.space.title);
    page.dataset.state = state;
    header.paint();
    notice.paint();
    invite.paint();
    controls.paint();
    stageWrap.hidden = state === "ended" && room.people.size === 0;
    stage.listeners.hidden = state !== "live";
    stage.paint();
    polls.node.hidden =
      Boolean(replay) || (room.polls.size === 0 && !(isModerator(room.me()) && state === "live"));
    polls.paint();
    posts.paint();
    // The replay shows pins as they were at each moment instead.
    posts.pinned.hidden = Boolean(replay) || posts.pinned.hidden;
    if (replay) stageWrap.hidden = true;
    clipButton.hidden = !(state === "live" && room.space.recording && room.me());
    recordingNote.hidden = !(state === "live" && room.space.recording);
    captions.paint();
    audio?.sync();
    hls?.sync();
    page.setAttribute("aria-busy", "false");
  }

  // ---- replay ----

  /** The recording and its events, fetched together (and early: with the rest of the room). */
  let replayFetch = null;
  function fetchReplay() {
    replayFetch ??= Promise.all([ctx.api.recording(id, signal), ctx.api.replayEvents(id, signal)]);
    return replayFetch;
  }

  /** Plays the recording once it is ready; asks again while it is being finished. */
  async function setUpReplay() {
    clearTimeout(replayTimer);
    if (replay || !room.space?.recording || room.space.state !== "ended") return;
    let recording;
    let events;
    try {
      [recording, events] = await fetchReplay();
    } catch (err) {
      replayFetch = null;
      if (isAbort(err) || err.status === 404) return;
      replayTimer = setTimeout(setUpReplay, REPLAY_RETRY_MS);
      return;
    }
    if (recording.state === "recording" || recording.state === "processing") {
      replayFetch = null;
      replayTimer = setTimeout(setUpReplay, REPLAY_RETRY_MS);
      return;
    }
    if (recording.state !== "ready") return;
    const replayLayer = reactionLayer();
    replay = replayPlayer(room, {
      recording,
      events: events.data,
      layer: replayLayer,
      onDeleted: () => {
        replay = null;
        replace(replaySlot);
        paintAll();
      },
    });
    replay.node.append(replayLayer.node);
    replace(replaySlot, replay.node);
    page.dataset.replay = "ready";
    paintAll();
  }

  // ---- loading and joining ----

  async function loadPinned(space, shared) {
    const byId = new Map(shared.map((post) => [post.id, post]));
    const pinned = await Promise.all(
      (space.pinned_post_ids ?? []).map(async (postId) => {
        if (byId.has(postId)) return byId.get(postId);
        try {
          return await ctx.api.post(postId, signal);
        } catch (err) {
          if (isAbort(err)) throw err;
          return null;
        }
      }),
    );
    return new Map(pinned.filter(Boolean).map((post) => [post.id, post]));
  }

  /** Fetches everything the room shows (the Space first: its seq is where events resume). */
  async function loadAll({ initial }) {
    const space = await ctx.api.space(id, signal);
    room.space = space;
    // A replay's recording loads alongside the rest of the room, not after it.
    if (initial && space.state === "ended" && space.recording) fetchReplay().catch(() => {});
    if (initial && myId && space.state === "live") {
      await join({ announceFailure: false, paint: false });
    }
    const [people, pollPage, shared] = await Promise.all([
      ctx.api.participants(id, signal),
      ctx.api.polls(id, signal),
      ctx.api.sharedPosts(id, signal),
    ]);
    room.people = new Map();
    for (const participant of people.data) room.upsert(participant);
    const votes = new Map([...room.polls.values()].map((poll) => [poll.id, poll.my_vote]));
    room.polls = new Map();
    for (const poll of pollPage.data) {
      room.polls.set(poll.id, { ...poll, my_vote: poll.my_vote ?? votes.get(poll.id) ?? null });
    }
    room.shared = shared.data;
    room.pinned = await loadPinned(room.space, shared.data);
    if (myId && room.space.invited_user_ids?.includes(myId) && !room.invite) {
      room.invite = { role: "speaker", actorId: null };
    }
    return space;
  }

  async function join({ announceFailure, paint = true }) {
    try {
      room.upsert(await ctx.api.joinSpace(id));
      room.removed = null;
      room.joinError = null;
      // Sound starts now, not after the rest of the room has loaded.
      audio?.sync();
    } catch (err) {
      if (isAbort(err)) throw err;
      if (err.status === 403) room.joinError = err.message;
      // Ended or not started after all: show what it is now.
      if (err.status === 409) room.space = await ctx.api.space(id, signal);
      if (announceFailure) ctx.announce(err.message, { error: true });
    }
    if (paint) paintAll();
  }

  function showGone() {
    stream?.stop();
    audio?.stop();
    hls?.stop();
    ctx.setTitle("Space not found");
    page.setAttribute("aria-busy", "false");
    replace(
      page,
      h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, "This Space doesn't exist")),
      h(
        "div",
        { class: "placeholder card" },
        icon("spaces", 40),
        h("p", {}, "It may have been cancelled, or the link is wrong."),
        h("a", { class: "btn btn-primary", href: "/spaces" }, "Find Spaces"),
      ),
    );
  }

  /** Refetches everything; frames arriving meanwhile wait, then apply if newer. */
  async function resync() {
    if (refetching) return;
    refetching = true;
    buffered = [];
    try {
      await loadAll({ initial: false });
      lastSeq = room.space.seq;
      paintAll();
    } catch (err) {
      if (isAbort(err)) return;
      if (err.status === 404) showGone();
      else ctx.announce(err.message, { error: true });
    } finally {
      refetching = false;
      const waiting = buffered;
      buffered = [];
      for (const frame of waiting) handleFrame(frame);
    }
  }

  // ---- the event stream ----

  const effects = {
    announce: (text) => ctx.announce(text),
    say,
    react(item) {
      // Your own rose when you tapped.
      if (item.user_id !== myId) layer.show(item.emoji, stageTile(item.user_id));
    },
    speaking(data) {
      stage.speaking(data.user_id, data.level);
    },
    caption(data) {
      captions.caption(data);
    },
    mediaMoved() {
      audio?.reconnect();
    },
    started() {
      ctx.announce("The Space has started.");
      if (myId && !room.me()) join({ announceFailure: true });
    },
    ended() {
      stream?.stop();
      paintConnection();
      ctx.announce("This Space has ended.");
      setUpReplay();
    },
    leftUnasked() {
      // Still on the page, so still here: a dropped connection outlived its grace.
      if (leaving || room.removed || Date.now() - lastRejoin < REJOIN_GAP_MS) return;
      lastRejoin = Date.now();
      join({ announceFailure: false });
    },
  };

  function handleFrame(frame) {
    if (frame.seq !== null && frame.seq !== undefined) {
      if (lastSeq !== null && frame.seq <= lastSeq) return;
      lastSeq = frame.seq;
    }
    if (frame.type === "post.shared") sawSharedEvent = true;
    if (applyFrame(room, frame, effects)) paintAll();
  }

  function openStream() {
    stream = new EventStream(() => spaceEventsUrl(location, id, lastSeq), { resumes: true });
    stream.addEventListener("status", paintConnection);
    stream.addEventListener("frame", (event) => {
      const frame = event.detail;
      if (frame.type === "resync") resync();
      else if (refetching) buffered.push(frame);
      else handleFrame(frame);
    });
    stream.addEventListener("gone", showGone);
    let readyBefore = false;
    stream.addEventListener("ready", () => {
      // Back after a drop: the server answers again, so the audio link need not wait
      // out its own backoff (after a restart the old link is dead on the server's side).
      if (readyBefore) audio?.reconnectDown();
      readyBefore = true;
    });
    stream.start();
    paintConnection();
  }

  // ---- leaving, ending, starting ----

  async function leave() {
    const sure = await confirmDialog({
      title: "Leave this Space?",
      message: "You can come back while it's live.",
      confirmLabel: "Leave",
    });
    if (!sure) return;
    leaving = true;
    try {
      await ctx.api.leaveSpace(id);
      stream?.stop();
      audio?.stop({ hangUp: false });
      ctx.announce("You left the Space.");
      ctx.navigate("/spaces");
    } catch (err) {
      leaving = false;
      ctx.announce(err.message, { error: true });
    }
  }

  async function end() {
    const sure = await confirmDialog({
      title: "End this Space?",
      message: "Everyone is disconnected and the Space can't be restarted.",
      confirmLabel: "End Space",
      danger: true,
    });
    if (!sure) return;
    const space = await room.act(() => ctx.api.endSpace(id));
    if (!space) return;
    room.space = space;
    effects.ended();
    paintAll();
  }

  async function startSpace() {
    const space = await room.act(() => ctx.api.startSpace(id), "Your Space is live.");
    if (!space) return;
    room.space = space;
    await join({ announceFailure: true });
  }

  async function cancelSpace() {
    const sure = await confirmDialog({
      title: "Cancel this Space?",
      message: "It disappears from Upcoming and nobody will be reminded.",
      confirmLabel: "Cancel Space",
      danger: true,
    });
    if (!sure) return;
    const done = await room.act(() => ctx.api.cancelSpace(id).then(() => true), "Space cancelled.");
    if (done) ctx.navigate("/spaces");
  }

  // ---- the rest of the app, and clocks ----

  // Invitations sent before you opened the room arrive as notifications too.
  ctx.events.addEventListener(
    "notification",
    (event) => {
      const n = event.detail.data;
      if (n?.kind !== "invite" || n.space_id !== id || room.invite) return;
      room.invite = { role: "speaker", actorId: n.actor?.id ?? null };
      paintAll();
    },
    { signal },
  );

  async function refreshShared() {
    if (sawSharedEvent || room.space?.state !== "live") return;
    if (document.visibilityState !== "visible") return;
    try {
      const page = await ctx.api.sharedPosts(id, signal);
      const known = new Set(room.shared.map((p) => p.id));
      if (!page.data.some((p) => !known.has(p.id))) return;
      room.shared = page.data;
      posts.paint();
    } catch {
      // The next round tries again.
    }
  }

  const timers = [
    setInterval(() => {
      if ([...room.polls.values()].some((poll) => poll.state === "open")) polls.paint();
    }, POLL_CLOCK_MS),
    setInterval(refreshShared, SHARED_REFRESH_MS),
  ];
  if (!myId) {
    // No stream without an account: the preview refreshes itself instead.
    timers.push(
      setInterval(() => {
        if (document.visibilityState === "visible" && room.space) resync();
      }, PREVIEW_REFRESH_MS),
    );
  }
  // A host who walks away leaves the Space running on the server's grace period: say so,
  // and let the browser ask before the tab closes, rather than end it behind their back.
  const hostingLive = () =>
    !leaving && room.space?.state === "live" && room.me()?.role === "host";
  function guardUnload(event) {
    if (!hostingLive()) return;
    event.preventDefault();
    event.returnValue = "";
  }
  window.addEventListener("beforeunload", guardUnload);

  signal.addEventListener("abort", () => {
    window.removeEventListener("beforeunload", guardUnload);
    if (hostingLive()) {
      ctx.announce(
        "Your Space is still live. Come back soon, or it ends for everyone.",
      );
    }
    for (const timer of timers) clearInterval(timer);
    clearTimeout(replayTimer);
    stream?.stop();
    audio?.stop();
    hls?.stop();
    replay?.stop();
  });

  (async () => {
    try {
      await loadAll({ initial: true });
      lastSeq = room.space.seq;
      paintAll();
      if (myId && room.space.state !== "ended") openStream();
      if (room.space.state === "ended") await setUpReplay();
    } catch (err) {
      if (isAbort(err)) return;
      if (err.status === 404) {
        showGone();
        return;
      }
      header.heading.textContent = "Couldn't load this Space";
      page.setAttribute("aria-busy", "false");
      ctx.announce(err.message, { error: true });
    }
  })();

  return page;
}
