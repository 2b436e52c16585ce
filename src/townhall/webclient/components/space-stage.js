/**
 * The people in a Space: the stage (host, co-hosts, speakers with role badges
 * and microphone state), the request queue hosts answer, and the listeners.
 * Moderators get a menu per person (mute, move, co-host, remove, block).
 */

import { h, replace, uid } from "../dom.js";
import { displayName, plural } from "../format.js";
import { avatar } from "./avatar.js";
import { confirmDialog } from "./dialog.js";
import { icon } from "./icons.js";
import { syncKeyed } from "./keyed-list.js";
import { menuButton } from "./menu.js";
import { openReportDialog } from "./report-dialog.js";
import { handleOf, isModerator, isOnStage, nameOf, roleBadge, userOf } from "./space-people.js";

/** More listeners than this are summed up rather than drawn. */
const LISTENERS_SHOWN = 200;
/** A speaker's ring stays this long after their last `speaking` event (they come at 5/s). */
const SPEAKING_HOLD_MS = 600;
/** `speaking` levels (dBFS) from the server's threshold to loud, for the ring's strength. */
const QUIET_DBFS = -45;
const LOUD_DBFS = -10;

function micState(muted) {
  const label = muted ? "Muted" : "Microphone on";
  return h(
    "span",
    { class: muted ? "mic muted" : "mic live", role: "img", "aria-label": label, title: label },
    icon(muted ? "mic-off" : "mic", 16),
  );
}

function handState() {
  return h(
    "span",
    { class: "hand", role: "img", "aria-label": "Asked to speak", title: "Asked to speak" },
    icon("hand", 16),
  );
}

/** What a moderator may do to someone, as menu entries; the server has the last word. */
function moderationItems(room, target) {
  const me = room.me();
  if (!isModerator(me) || target.role === "host" || target.user_id === room.myId) return [];
  const iAmHost = me.role === "host";
  const user = userOf(target);
  const items = [];
  if (isOnStage(target)) {
    if (!target.muted) {
      items.push({
        label: "Mute",
        onSelect: () =>
          room.act(() => room.ctx.api.mute(room.id, target.user_id), `You muted ${nameOf(user)}.`),
      });
    }
    if (iAmHost && target.role === "speaker") {
      items.push({
        label: "Make co-host",
        onSelect: () =>
          room.act(
            () => room.ctx.api.setRole(room.id, target.user_id, "cohost"),
            `${nameOf(user)} is now a co-host.`,
          ),
      });
    }
    if (iAmHost || target.role === "speaker") {
      items.push({
        label: "Move to listeners",
        onSelect: () =>
          room.act(
            () => room.ctx.api.setRole(room.id, target.user_id, "listener"),
            `${nameOf(user)} moved to the listeners.`,
          ),
      });
    }
  } else {
    items.push({
      label: "Invite to speak",
      onSelect: () =>
        room.act(
          () => room.ctx.api.invite(room.id, target.user_id, "speaker"),
          `You invited ${nameOf(user)} to speak.`,
        ),
    });
    if (iAmHost) {
      items.push({
        label: "Invite to co-host",
        onSelect: () =>
          room.act(
            () => room.ctx.api.invite(room.id, target.user_id, "cohost"),
            `You invited ${nameOf(user)} to co-host.`,
          ),
      });
    }
  }
  items.push({
    label: "Remove",
    danger: true,
    onSelect: () =>
      room.act(
        () => room.ctx.api.removeParticipant(room.id, target.user_id, false),
        `You removed ${nameOf(user)}.`,
      ),
  });
  items.push({
    label: "Remove and block",
    danger: true,
    onSelect: async () => {
      const sure = await confirmDialog({
        title: `Remove and block ${handleOf(user)}?`,
        message:
          "They leave this Space now and can't join this one or any other Space you host again.",
        confirmLabel: "Remove and block",
        danger: true,
      });
      if (!sure) return;
      room.act(
        () => room.ctx.api.removeParticipant(room.id, target.user_id, true),
        `You removed and blocked ${nameOf(user)}.`,
      );
    },
  });
  return items;
}

/** Everyone logged in may report anyone else in the room to the server's admins. */
function personItems(room, target) {
  const items = moderationItems(room, target);
  if (room.myId && target.user_id !== room.myId) {
    const user = userOf(target);
    items.push({
      label: "Report",
      danger: true,
      onSelect: () =>
        openReportDialog(room.ctx, { type: "user", id: target.user_id, label: handleOf(user) }),
    });
  }
  return items;
}

/** One person's tile; the menu is built once and reads the latest state when opened. */
function personNode(room, participant, { compact }) {
  let current = participant;
  const face = h("span", { class: "person-face" });
  const info = h("span", { class: "person-info" });
  const status = h("span", { class: "person-status" });
  const menuSlot = h("span", { class: "person-menu" });
  let menu = null;
  const node = h(
    "li",
    { class: compact ? "person compact" : "person", "data-user-id": participant.user_id },
    face,
    info,
    status,
    menuSlot,
  );
  node.update = (next) => {
    current = next;
    const user = userOf(next);
    node.dataset.role = next.role;
    node.dataset.muted = String(next.muted);
    const isMe = next.user_id === room.myId;
    replace(face, avatar(user, compact ? "md" : "lg"));
    replace(
      info,
      h(
        "span",
        { class: "person-name" },
        displayName(user),
        isMe ? h("span", { class: "muted" }, " (you)") : null,
      ),
      user.username ? h("span", { class: "handle" }, `@${user.username}`) : null,
    );
    replace(
      status,
      isOnStage(next) ? [roleBadge(next.role), micState(next.muted)] : null,
      next.hand_raised ? handState() : null,
    );
    const canModerate = personItems(room, next).length > 0;
    if (canModerate && !menu) {
      menu = menuButton({
        label: `Actions for ${nameOf(user)}`,
        items: () => personItems(room, current),
      });
      menuSlot.append(menu);
    } else if (!canModerate && menu) {
      menu.remove();
      menu = null;
    }
  };
  return node;
}

function requestNode(room, participant) {
  const user = userOf(participant);
  const approve = h(
    "button",
    { type: "button", class: "btn btn-primary btn-small", "aria-label": `Approve ${nameOf(user)}` },
    "Approve",
  );
  const deny = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small", "aria-label": `Deny ${nameOf(user)}` },
    "Deny",
  );
  approve.addEventListener("click", () =>
    room.act(
      () => room.ctx.api.approveRequest(room.id, participant.user_id),
      `${nameOf(user)} is coming on stage.`,
    ),
  );
  deny.addEventListener("click", () =>
    room.act(
      () => room.ctx.api.denyRequest(room.id, participant.user_id),
      `You declined ${nameOf(user)}'s request.`,
    ),
  );
  const node = h(
    "li",
    { class: "request", "data-user-id": participant.user_id },
    avatar(user, "sm"),
    h("span", { class: "person-name" }, nameOf(user)),
    h("span", { class: "request-actions" }, approve, deny),
  );
  node.update = () => {};
  return node;
}

const byUserId = (participant) => participant.user_id;

export function stagePanels(room) {
  const stageId = uid("stage-title");
  const listenersId = uid("listeners-title");
  const requestsId = uid("requests-title");
  const stageList = h("ul", { class: "stage-grid", "aria-labelledby": stageId });
  const listenerList = h("ul", { class: "listener-grid", "aria-labelledby": listenersId });
  const requestList = h("ul", { class: "request-list", "aria-labelledby": requestsId });
  const listenersTitle = h("h2", { id: listenersId, class: "section-title" }, "Listeners");
  const requestsTitle = h("h2", { id: requestsId, class: "section-title" }, "Requests to speak");
  const listenersMore = h("p", { class: "feed-note", hidden: true });
  const listenersEmpty = h("p", { class: "feed-note", hidden: true }, "No listeners yet.");
  const requestsEmpty = h("p", { class: "feed-note small" }, "No requests right now.");

  const stage = h(
    "section",
    { class: "room-stage", "aria-labelledby": stageId },
    h("h2", { id: stageId, class: "visually-hidden" }, "Stage"),
    stageList,
  );
  const requests = h(
    "section",
    { class: "card room-requests", "aria-labelledby": requestsId, hidden: true },
    requestsTitle,
    requestList,
    requestsEmpty,
  );
  const listeners = h(
    "section",
    { class: "room-listeners", "aria-labelledby": listenersId },
    listenersTitle,
    listenerList,
    listenersEmpty,
    listenersMore,
  );

  const speakingTimers = new Map();

  /** Rings a speaker's avatar while `speaking` events keep coming for them. */
  function speaking(userId, level) {
    const key = String(userId);
    const tile = stageList.querySelector(`[data-user-id="${CSS.escape(key)}"]`);
    if (!tile) return;
    const strength = (Number(level) - QUIET_DBFS) / (LOUD_DBFS - QUIET_DBFS);
    tile.style.setProperty("--speak", String(Math.min(1, Math.max(0.25, strength || 0))));
    tile.dataset.speaking = "true";
    clearTimeout(speakingTimers.get(key));
    speakingTimers.set(
      key,
      setTimeout(() => {
        speakingTimers.delete(key);
        delete tile.dataset.speaking;
      }, SPEAKING_HOLD_MS),
    );
  }

  function paint() {
    const everyone = room.sorted();
    const onStage = everyone.filter(isOnStage);
    const audience = everyone.filter((p) => !isOnStage(p));
    syncKeyed(stageList, onStage, {
      key: byUserId,
      create: (p) => personNode(room, p, { compact: false }),
      update: (node, p) => node.update(p),
    });
    const shown = audience.slice(0, LISTENERS_SHOWN);
    syncKeyed(listenerList, shown, {
      key: byUserId,
      create: (p) => personNode(room, p, { compact: true }),
      update: (node, p) => node.update(p),
    });
    const more = audience.length - shown.length;
    listenersMore.hidden = more <= 0;
    listenersMore.textContent = `And ${more} more ${plural(more, "listener", "listeners")}.`;
    listenersTitle.textContent = `Listeners (${audience.length})`;
    listenersEmpty.hidden = audience.length > 0;

    const moderator = isModerator(room.me()) && room.space.state === "live";
    requests.hidden = !moderator;
    const raised = moderator ? audience.filter((p) => p.hand_raised) : [];
    syncKeyed(requestList, raised, {
      key: byUserId,
      create: (p) => requestNode(room, p),
      update: (node) => node.update(),
    });
    requestsTitle.textContent = raised.length
      ? `Requests to speak (${raised.length})`
      : "Requests to speak";
    requestsEmpty.hidden = raised.length > 0;
  }

  return { stage, requests, listeners, paint, speaking };
}
