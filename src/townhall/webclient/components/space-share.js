/**
 * "Share" in a room: copy the link, post it (a post carrying the Space, which
 * shows its live card), or send it by direct message to people you follow or
 * who follow you, several at once. A host or co-host of a live Space may make
 * the message an invite to speak: the existing invite, carried by the message.
 */

import { isAbort } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { displayName } from "../format.js";
import { avatar } from "./avatar.js";
import { modal } from "./dialog.js";
import { isModerator } from "./space-people.js";

const POST_TITLE_CHARS = 200;

export function shareUrl(space) {
  return new URL(space.share_url || `/s/${space.id}`, location.origin).href;
}

function linkSection(space) {
  const fieldId = uid("share-link");
  const field = h("input", { id: fieldId, readonly: true, value: shareUrl(space) });
  const status = h("span", { class: "copied", role: "status" });
  const copy = h("button", { type: "button", class: "btn btn-secondary" }, "Copy link");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Copied";
    } catch {
      field.focus();
      field.select();
      status.textContent = "Copy the selected link";
    }
  });
  return h(
    "div",
    { class: "share-section" },
    h("label", { for: fieldId }, "Link"),
    h("div", { class: "inline-field" }, field, copy),
    status,
  );
}

function postSection(ctx, space) {
  const textId = uid("share-post");
  const title = [...space.title].slice(0, POST_TITLE_CHARS).join("");
  const text = h("textarea", { id: textId, rows: 2 });
  text.value = `Join me in “${title}”`;
  const status = h("p", { class: "field-hint", role: "status" });
  const button = h("button", { type: "submit", class: "btn btn-secondary" }, "Post it");
  async function submit(event) {
    event.preventDefault();
    button.disabled = true;
    try {
      await ctx.api.createPost(text.value, space.id);
      status.textContent = "Posted to your timeline.";
    } catch (err) {
      status.textContent = err.message;
      button.disabled = false;
    }
  }
  return h(
    "form",
    { class: "share-section", onsubmit: submit },
    h("label", { for: textId }, "Post with the Space attached"),
    text,
    h("div", { class: "form-actions" }, button),
    status,
  );
}

function dmSection(room, signal) {
  const { ctx } = room;
  const space = room.space;
  const people = h("ul", {
    class: "invite-list",
    "aria-label": "People you follow and your followers",
  });
  const note = h("p", { class: "feed-note small" }, "Loading people you know…");
  const messageId = uid("share-dm-text");
  const message = h("input", { id: messageId, maxlength: 1000 });
  message.value = `Join me in “${space.title}”`;
  const canInvite = space.state === "live" && isModerator(room.me());
  const inviteId = uid("share-invite");
  const invite = h("input", { type: "checkbox", id: inviteId });
  const status = h("p", { class: "field-hint", role: "status" });
  const send = h("button", { type: "submit", class: "btn btn-primary" }, "Send");

  async function load() {
    try {
      const me = ctx.session.me.username;
      const [following, followers] = await Promise.all([
        ctx.api.following(me, null, signal),
        ctx.api.followers(me, null, signal),
      ]);
      // The first page of each: people you follow first, then followers not among them.
      const known = new Map();
      for (const user of [...following.data, ...followers.data]) {
        const blocked = user.relationship?.blocking || user.relationship?.blocked_by;
        if (!known.has(user.id) && !blocked) known.set(user.id, user);
      }
      note.hidden = known.size > 0;
      note.textContent = "Follow people (or get followers) to send them Spaces.";
      replace(
        people,
        [...known.values()].map((user) => {
          const id = uid("share-to");
          return h(
            "li",
            { class: "invite-person" },
            h("input", { type: "checkbox", id, value: user.id, "data-username": user.username }),
            h(
              "label",
              { for: id, class: "share-person-label" },
              avatar(user, "sm"),
              h(
                "span",
                { class: "person-info" },
                h("span", { class: "person-name" }, displayName(user)),
                h("span", { class: "handle" }, `@${user.username}`),
              ),
            ),
          );
        }),
      );
    } catch (err) {
      if (!isAbort(err)) note.textContent = err.message;
    }
  }

  async function submit(event) {
    event.preventDefault();
    const chosen = [...people.querySelectorAll("input[type=checkbox]:checked")];
    if (!chosen.length) {
      status.textContent = "Pick at least one person.";
      return;
    }
    send.disabled = true;
    const failed = [];
    for (const box of chosen) {
      try {
        const conversation = await ctx.api.startConversation({ user_ids: [box.value] });
        await ctx.api.sendMessage(conversation.id, {
          text: message.value.trim() || space.title,
          space_id: space.id,
          invite_role: canInvite && invite.checked ? "speaker" : undefined,
        });
        box.checked = false;
      } catch (err) {
        failed.push(`@${box.dataset.username}: ${err.message}`);
      }
    }
    const sent = chosen.length - failed.length;
    status.textContent = [
      sent ? `Sent to ${sent} ${sent === 1 ? "person" : "people"}.` : "",
      ...failed,
    ]
      .filter(Boolean)
      .join(" ");
    send.disabled = false;
  }

  load();
  return h(
    "form",
    { class: "share-section", onsubmit: submit },
    h("h3", { class: "dialog-subtitle" }, "Send by message"),
    people,
    note,
    h("label", { for: messageId }, "Message"),
    message,
    canInvite
      ? h("label", { class: "radio", for: inviteId }, invite, " Invite them to speak")
      : null,
    h("div", { class: "form-actions" }, send),
    status,
  );
}

export function openShareDialog(room) {
  const { ctx } = room;
  const controller = new AbortController();
  const loggedIn = Boolean(ctx.session.me);
  const dialog = modal({
    title: "Share this Space",
    className: "dialog-share",
    body: h(
      "div",
      { class: "dialog-form" },
      linkSection(room.space),
      loggedIn ? postSection(ctx, room.space) : null,
      loggedIn ? dmSection(room, controller.signal) : null,
    ),
    onClose: () => controller.abort(),
  });
  dialog.open();
}
