/**
 * Posts in a Space: the pinned ones on top (up to 5, pinned by the people on
 * stage), then everything shared from inside the Space, and a composer that
 * shares into it.
 */

import { h, uid } from "../dom.js";
import { composer } from "./composer.js";
import { icon } from "./icons.js";
import { syncKeyed } from "./keyed-list.js";
import { postItem } from "./post.js";
import { isOnStage } from "./space-people.js";

const MAX_PINS = 5;

function canPin(room) {
  const me = room.me();
  return Boolean(me) && isOnStage(me) && room.space.state === "live";
}

function postNode(room, { pinned }) {
  const slot = h("div", { class: "space-post-body" });
  const action = h("button", { type: "button", class: "btn btn-secondary btn-small pin-button" });
  const node = h("li", { class: pinned ? "space-post pinned" : "space-post" }, slot, action);
  let shownId = null;
  let current = null;
  action.addEventListener("click", async () => {
    const post = current;
    const unpin = pinned || room.pinned.has(post.id);
    action.disabled = true;
    try {
      if (unpin) await room.ctx.api.unpin(room.id, post.id);
      else await room.ctx.api.pin(room.id, post.id);
      if (unpin) room.removePin(post.id);
      else room.addPin(post);
      room.ctx.announce(unpin ? "Post unpinned." : "Post pinned to the Space.");
    } catch (err) {
      room.ctx.announce(err.message, { error: true });
    } finally {
      action.disabled = false;
    }
  });
  node.update = (post) => {
    current = post;
    if (shownId !== post.id) {
      // A card of another Space the post links; not of this one, which is the page.
      slot.replaceChildren(postItem(post, room.ctx, { exceptSpaceId: room.id }));
      shownId = post.id;
    }
    const isPinned = pinned || room.pinned.has(post.id);
    action.hidden = !canPin(room) || (!isPinned && room.pinned.size >= MAX_PINS);
    action.replaceChildren(icon("pin", 16), isPinned ? "Unpin" : "Pin");
    action.setAttribute("aria-label", isPinned ? "Unpin this post" : "Pin this post");
  };
  return node;
}

export function postsPanel(room) {
  const pinnedId = uid("pinned-title");
  const sharedId = uid("shared-title");
  const pinnedList = h("ol", { class: "space-posts", "aria-labelledby": pinnedId });
  const sharedList = h("ol", { class: "space-posts", "aria-labelledby": sharedId });
  const sharedEmpty = h(
    "p",
    { class: "feed-note small" },
    "Nothing shared yet. Posts written here show up for everyone in the Space.",
  );
  const composerSlot = h("div");
  const pinnedSection = h(
    "section",
    { class: "card room-pinned", "aria-labelledby": pinnedId, hidden: true },
    h("h2", { id: pinnedId }, icon("pin", 18), " Pinned"),
    pinnedList,
  );
  const sharedSection = h(
    "section",
    { class: "card room-shared", "aria-labelledby": sharedId },
    h("h2", { id: sharedId }, "Shared in this Space"),
    composerSlot,
    sharedList,
    sharedEmpty,
  );

  let composerNode = null;

  function paint() {
    const pins = [...room.pinned.values()];
    pinnedSection.hidden = pins.length === 0;
    syncKeyed(pinnedList, pins, {
      key: (post) => post.id,
      create: () => postNode(room, { pinned: true }),
      update: (node, post) => node.update(post),
    });
    // A pinned post shows once, up top.
    const shared = room.shared.filter((post) => !room.pinned.has(post.id));
    syncKeyed(sharedList, shared, {
      key: (post) => post.id,
      create: () => postNode(room, { pinned: false }),
      update: (node, post) => node.update(post),
    });
    sharedEmpty.hidden = shared.length > 0;
    const canPost = room.isParticipant() && room.space.state === "live";
    if (canPost && !composerNode) {
      composerNode = composer(room.ctx, {
        spaceId: room.id,
        placeholder: "Share something with the Space",
        label: "Share a post in this Space",
        onPosted: (post) => room.addShared(post),
      });
      composerSlot.append(composerNode);
    } else if (!canPost && composerNode) {
      composerNode.remove();
      composerNode = null;
    }
  }

  return { pinned: pinnedSection, shared: sharedSection, paint };
}
