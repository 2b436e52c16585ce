/**
 * /notifications: the list, marked read when viewed; new ones arrive live
 * over the event stream and go on top without a reload.
 */

import { h } from "../dom.js";
import { avatarLink } from "../components/live-ring.js";
import { pagedList } from "../components/feed.js";
import { icon } from "../components/icons.js";
import { profilePath, timeAgo } from "../components/post.js";

function actorLink(actor) {
  return actor
    ? h("a", { class: "actor", href: profilePath(actor.username) }, `@${actor.username}`)
    : "Someone";
}

function spaceLink(spaceId, label) {
  return h("a", { href: `/s/${encodeURIComponent(spaceId)}` }, label);
}

/** The sentence for each kind; kinds this client does not know yet still render. */
function describe(notification) {
  const { actor, space_id: spaceId } = notification;
  switch (notification.kind) {
    case "follow":
      return [actorLink(actor), " followed you"];
    case "space_live":
      return [
        actorLink(actor),
        " is live: ",
        spaceId ? spaceLink(spaceId, "join the Space") : "a Space",
      ];
    case "space_reminder":
      return [
        "A Space you asked to be reminded of is starting: ",
        spaceId ? spaceLink(spaceId, "open it") : "",
      ];
    case "invite":
      return [
        actorLink(actor),
        " invited you to speak in ",
        spaceId ? spaceLink(spaceId, "a Space") : "a Space",
      ];
    default:
      return [
        actor ? [actorLink(actor), ": "] : "",
        notification.kind.replaceAll("_", " "),
        spaceId ? [" · ", spaceLink(spaceId, "open the Space")] : "",
      ];
  }
}

const KIND_ICON = {
  follow: "user",
  space_live: "spaces",
  space_reminder: "bell",
  invite: "spaces",
};

function notificationItem(notification) {
  return h(
    "div",
    { class: notification.read ? "notification" : "notification unread" },
    h(
      "span",
      { class: `notification-kind kind-${notification.kind}` },
      icon(KIND_ICON[notification.kind] ?? "bell", 20),
    ),
    notification.actor
      ? avatarLink(notification.actor, {
          href: profilePath(notification.actor.username),
          size: "sm",
        })
      : null,
    h(
      "p",
      { class: "notification-text" },
      describe(notification),
      h("span", { class: "sep", "aria-hidden": "true" }, " · "),
      timeAgo(notification.created_at),
      notification.read ? null : h("span", { class: "visually-hidden" }, " (new)"),
    ),
  );
}

export function notificationsPage(ctx) {
  ctx.setTitle("Notifications");
  // Viewing the page reads everything on it. A mark asked for while one is in
  // flight runs once more afterwards, so a notification that raced it is read too.
  let marking = false;
  let markAgain = false;
  async function markRead() {
    if (marking) {
      markAgain = true;
      return;
    }
    marking = true;
    do {
      markAgain = false;
      await ctx.api.markNotificationsRead().catch(() => {});
    } while (markAgain);
    marking = false;
    ctx.session.setUnread(0);
  }

  const list = pagedList({
    load: async (cursor, signal) => {
      const page = await ctx.api.notifications(cursor, signal);
      // Marked read only once shown, so this first page still highlights what was new.
      if (!cursor) markRead();
      return page;
    },
    renderItem: notificationItem,
    label: "Notifications",
    empty: "No notifications yet. When someone follows you or a Space starts, you'll see it here.",
    signal: ctx.signal,
  });

  ctx.events.addEventListener(
    "notification",
    (event) => {
      list.prepend(event.detail.data);
      ctx.announce("New notification.");
      if (document.visibilityState === "visible") markRead();
    },
    { signal: ctx.signal },
  );
  ctx.events.addEventListener("resync", () => list.reload(), { signal: ctx.signal });
  document.addEventListener(
    "visibilitychange",
    () => {
      if (document.visibilityState === "visible" && ctx.session.unread) markRead();
    },
    { signal: ctx.signal },
  );

  ctx.session.setUnread(0);
  return h(
    "section",
    { class: "page" },
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Notifications")),
    list.node,
  );
}
