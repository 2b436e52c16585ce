/**
 * The room's situational parts: the notice (preview, scheduled, ended,
 * removed, not joined), the invitation banner, and your own controls (mic,
 * hand, invite, reactions). Each rebuilds only when what it shows changes,
 * so a focused button survives the stream of events.
 */

import { h, replace } from "../dom.js";
import { displayName, fullTime } from "../format.js";
import { confirmDialog } from "./dialog.js";
import { icon } from "./icons.js";
import { startTime } from "./space-card.js";
import { openInviteDialog } from "./space-invite.js";
import { isModerator, isOnStage, userOf } from "./space-people.js";
import { reactionBar } from "./space-reactions.js";

function card(node, kind, title, text, actions) {
  node.className = `room-notice card notice-${kind}`;
  replace(
    node,
    h("h2", {}, title),
    text ? h("p", {}, text) : null,
    actions.filter(Boolean).length ? h("div", { class: "notice-actions" }, actions) : null,
  );
}

function button(label, onClick, className = "btn btn-primary") {
  return h("button", { type: "button", class: className, onclick: onClick }, label);
}

/**
 * Recording consent: in a recorded Space, going on stage (asking to speak,
 * accepting an invite) first says so, and Decline keeps you off the stage.
 * Resolves true when the Space is not recorded or you accept.
 */
export function agreeToRecording(room) {
  if (!room.space?.recording) return Promise.resolve(true);
  return confirmDialog({
    title: "This Space is recorded",
    message:
      "What you say on stage will be in the recording, which people can replay and clip " +
      "after the Space ends. Go on stage anyway?",
    confirmLabel: "Accept",
    cancelLabel: "Decline",
  });
}

/** What the notice should say now, as a key (to rebuild only on change) and a builder. */
function noticeFor(room, { join, start, cancel, listen }) {
  const { space } = room;
  const me = room.me();
  const spaces = () => h("a", { class: "btn btn-secondary", href: "/spaces" }, "Back to Spaces");
  if (space.state === "ended") {
    return [
      `ended:${space.ended_at}`,
      (node) =>
        card(
          node,
          "ended",
          "This Space has ended",
          space.ended_at ? `Ended ${fullTime(space.ended_at)}.` : "",
          [h("a", { class: "btn btn-primary", href: "/spaces" }, "Find more Spaces")],
        ),
    ];
  }
  if (!room.myId) {
    const next = new URLSearchParams({ next: `/s/${room.id}` });
    const live = space.state === "live";
    return [
      `preview:${space.state}`,
      (node) => {
        card(
          node,
          "preview",
          live ? "Listen in" : "Coming up",
          live
            ? "Listen now. Log in to join the conversation, react and ask to speak."
            : `Starts ${startTime(space.scheduled_start)}. Log in to set a reminder.`,
          [
            h(
              "a",
              { class: live ? "btn btn-secondary" : "btn btn-primary", href: `/login?${next}` },
              "Log in to join",
            ),
            h("a", { class: "btn btn-secondary", href: `/signup?${next}` }, "Create an account"),
          ],
        );
        // The player outlives rebuilds of the card, so what plays keeps playing.
        if (live && listen) node.querySelector("h2 + p").after(listen);
      },
    ];
  }
  if (room.removed) {
    const { blocked } = room.removed;
    return [
      `removed:${blocked}`,
      (node) =>
        card(
          node,
          "removed",
          "You were removed from this Space",
          blocked
            ? "The host blocked you from their Spaces, so you can't rejoin."
            : "A host removed you. You can rejoin if you want to.",
          [blocked ? null : button("Rejoin", join), spaces()],
        ),
    ];
  }
  if (space.state === "scheduled") {
    const when = `Starts ${startTime(space.scheduled_start)}.`;
    if (space.creator_id === room.myId) {
      return [
        "scheduled:host",
        (node) =>
          card(node, "scheduled", "Scheduled", when, [
            button("Start now", start),
            button("Cancel Space", cancel, "btn btn-secondary"),
          ]),
      ];
    }
    return [
      "scheduled",
      (node) => {
        const remind = h(
          "button",
          { type: "button", class: "btn btn-primary" },
          icon("bell", 18),
          "Set reminder",
        );
        remind.addEventListener("click", async () => {
          const done = await room.act(
            () => room.ctx.api.remindMe(room.id).then(() => true),
            "We'll remind you when it starts.",
          );
          if (!done) return;
          remind.disabled = true;
          replace(remind, icon("bell", 18), "Reminder set");
        });
        card(node, "scheduled", "Scheduled", `${when} You'll join when it starts.`, [remind]);
      },
    ];
  }
  if (!me) {
    const refused = room.joinError;
    return [
      `outside:${refused}`,
      (node) =>
        card(
          node,
          "outside",
          refused ? "You can't join this Space" : "You're not in this Space",
          refused ?? "Join to listen, react and ask to speak.",
          [refused ? null : button("Join", join), spaces()],
        ),
    ];
  }
  return ["", null];
}

/** actions: join(), start(), cancel() for the notice's buttons; listen, the share page's player. */
export function roomNotice(room, actions) {
  const node = h("div", { class: "room-notice", hidden: true });
  let shown = null;
  return {
    node,
    paint() {
      const [key, build] = noticeFor(room, actions);
      node.hidden = !build;
      if (key === shown) return;
      shown = key;
      if (build) build(node);
      else node.replaceChildren();
    },
  };
}

export function inviteBanner(room, { onChange }) {
  const node = h("div", {
    class: "invite-banner",
    role: "region",
    "aria-label": "Invitation",
    hidden: true,
  });
  let shown = null;

  async function accept() {
    if (!(await agreeToRecording(room))) return decline();
    const participant = await room.act(
      () => room.ctx.api.acceptInvite(room.id),
      "You're on stage. You start muted.",
    );
    if (!participant) return;
    room.invite = null;
    room.upsert(participant);
    onChange();
  }

  async function decline() {
    const done = await room.act(
      () => room.ctx.api.declineInvite(room.id).then(() => true),
      "Invitation declined.",
    );
    if (!done) return;
    room.invite = null;
    onChange();
  }

  return {
    node,
    paint() {
      const me = room.me();
      const { invite } = room;
      const alreadyThere =
        me && (me.role === invite?.role || me.role === "cohost" || me.role === "host");
      const show = invite && room.space.state === "live" && !room.removed && !alreadyThere;
      node.hidden = !show;
      const key = show ? `${invite.role}:${invite.actorId}` : null;
      if (!show || key === shown) return;
      shown = key;
      const from = invite.actorId ? room.people.get(invite.actorId) : null;
      const who = from ? displayName(userOf(from)) : "A host";
      const what = invite.role === "cohost" ? "co-host this Space" : "speak";
      replace(
        node,
        icon("spaces", 20),
        h(
          "p",
          {},
          h("strong", {}, who),
          ` invited you to ${what}.`,
          room.space.recording ? " This Space is recorded." : "",
        ),
        h(
          "span",
          { class: "banner-actions" },
          button("Accept", accept, "btn btn-primary btn-small"),
          button("Decline", decline, "btn btn-secondary btn-small"),
        ),
      );
    },
  };
}

/**
 * Your controls: mic and its level meter (on stage), hand (listeners), Invite
 * (hosts), and the reactions. micMeter is the meter's node; silenceMic() turns
 * the microphone off at once when you mute, before the server hears of it.
 */
export function roomControls(room, { onReact, onChange, micMeter = null, silenceMic = () => {} }) {
  const { ctx, id } = room;
  const mic = h("button", { type: "button", class: "btn btn-mic", hidden: true });
  const hand = h("button", { type: "button", class: "btn btn-primary", hidden: true });
  const invite = h(
    "button",
    { type: "button", class: "btn btn-secondary", hidden: true },
    icon("plus", 18),
    "Invite",
  );
  const note = h("p", { class: "controls-note muted", hidden: true });
  const node = h(
    "section",
    { class: "room-controls card", "aria-label": "Your controls", hidden: true },
    h("div", { class: "controls-row" }, mic, micMeter, hand, invite),
    note,
    reactionBar({ onReact }),
  );

  mic.addEventListener("click", async () => {
    const me = room.me();
    if (!me) return;
    if (!me.muted) silenceMic();
    mic.disabled = true;
    const participant = await room.act(() => ctx.api.setSelfMuted(id, !me.muted));
    mic.disabled = false;
    if (!participant) return;
    room.upsert(participant);
    onChange();
    ctx.announce(participant.muted ? "You're muted." : "You're unmuted.");
  });
  hand.addEventListener("click", async () => {
    const me = room.me();
    if (!me) return;
    const raise = !me.hand_raised;
    if (raise && !(await agreeToRecording(room))) {
      ctx.announce("You stay a listener.");
      return;
    }
    hand.disabled = true;
    const done = await room.act(
      () => (raise ? ctx.api.raiseHand(id) : ctx.api.lowerHand(id)).then(() => true),
      raise ? "You asked to speak." : "You cancelled your request.",
    );
    hand.disabled = false;
    if (!done || !room.me()) return;
    room.people.set(room.myId, { ...room.me(), hand_raised: raise });
    onChange();
  });
  invite.addEventListener("click", () => openInviteDialog(room));

  return {
    node,
    paint() {
      const me = room.me();
      node.hidden = !(room.space.state === "live" && me && !room.removed);
      if (node.hidden) return;
      const onStage = isOnStage(me);
      mic.hidden = !onStage;
      replace(mic, icon(me.muted ? "mic-off" : "mic", 18), me.muted ? "Unmute" : "Mute");
      mic.classList.toggle("muted", me.muted);
      const invitedOnly = room.space.who_can_speak === "invited";
      hand.hidden = onStage || invitedOnly;
      replace(hand, icon("hand", 18), me.hand_raised ? "Cancel request" : "Request to speak");
      hand.className = me.hand_raised ? "btn btn-secondary" : "btn btn-primary";
      invite.hidden = !isModerator(me);
      note.textContent =
        !onStage && invitedOnly
          ? "Only people the hosts invite can speak in this Space."
          : !onStage && me.hand_raised
            ? "Your hand is up. A host will bring you on stage or say no."
            : "";
      note.hidden = !note.textContent;
    },
  };
}
