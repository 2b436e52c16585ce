/**
 * Direct messages: /messages lists your conversations (latest first, unread
 * counts) and starts new ones; /messages/:id is one conversation, which grows
 * live from your event stream ("message" frames) and is marked read as you see it.
 * Text is always set as text nodes (dom.js), never parsed as HTML.
 */

import { isAbort } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { displayName, charCount } from "../format.js";
import { pagedList } from "../components/feed.js";
import { avatarLink } from "../components/live-ring.js";
import { profilePath, timeAgo } from "../components/post.js";
import { spaceEmbedFor } from "../components/space-embed.js";

export const MESSAGE_MAX_CHARS = 1000;

export function conversationPath(id) {
  return `/messages/${encodeURIComponent(id)}`;
}

/** The people in a conversation other than you (yourself when you are alone in it). */
function othersIn(ctx, conversation) {
  const others = conversation.participants.filter((p) => p.id !== ctx.session.me?.id);
  return others.length ? others : conversation.participants;
}

function conversationItem(ctx, conversation) {
  const [other] = othersIn(ctx, conversation);
  const last = conversation.last_message;
  const unread = conversation.unread_count;
  return h(
    "div",
    { class: unread ? "conversation-row unread" : "conversation-row" },
    other ? avatarLink(other, { href: profilePath(other.username) }) : null,
    h(
      "a",
      { class: "conversation-link", href: conversationPath(conversation.id) },
      h(
        "span",
        { class: "conversation-head" },
        h("span", { class: "name" }, other ? displayName(other) : "Conversation"),
        other ? h("span", { class: "handle" }, ` @${other.username}`) : null,
      ),
      h(
        "span",
        { class: "conversation-preview muted" },
        last ? `${last.sender_id === ctx.session.me?.id ? "You: " : ""}${last.text}` : "No messages yet",
      ),
    ),
    unread ? h("span", { class: "badge" }, String(unread), h("span", { class: "visually-hidden" }, " unread")) : null,
    last ? timeAgo(last.created_at) : null,
  );
}

function newConversationForm(ctx) {
  const inputId = uid("dm-to");
  const input = h("input", {
    id: inputId,
    name: "username",
    autocomplete: "off",
    placeholder: "username",
    required: true,
  });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Start");
  async function submit(event) {
    event.preventDefault();
    const username = input.value.trim().replace(/^@/, "");
    if (!username) return;
    button.disabled = true;
    error.hidden = true;
    try {
      const conversation = await ctx.api.startConversation({ username });
      ctx.navigate(conversationPath(conversation.id));
    } catch (err) {
      error.textContent = err.status === 404 ? `There is no @${username}.` : err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  }
  return h(
    "form",
    { class: "card dm-new", onsubmit: submit },
    h("label", { for: inputId }, "New message to"),
    h("div", { class: "dm-new-row" }, input, button),
    error,
  );
}

export function messagesPage(ctx) {
  ctx.setTitle("Messages");
  const list = pagedList({
    load: (cursor, signal) => ctx.api.conversations(cursor, signal),
    renderItem: (conversation) => conversationItem(ctx, conversation),
    label: "Conversations",
    empty: "No conversations yet. Start one, or share a Space with someone.",
    signal: ctx.signal,
  });
  const onMessage = () => list.reload();
  ctx.events.addEventListener("message", onMessage);
  ctx.signal.addEventListener("abort", () => ctx.events.removeEventListener("message", onMessage));
  return h(
    "section",
    { class: "page" },
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Messages")),
    newConversationForm(ctx),
    list.node,
  );
}

/** The invite a host sent with a Space: accepting puts you on its stage. */
function acceptInviteButton(ctx, message) {
  const role = message.invite_role === "cohost" ? "co-host" : "speak";
  const button = h(
    "button",
    { type: "button", class: "btn btn-primary btn-small" },
    message.invite_role === "cohost" ? "Accept: co-host" : "Accept: speak",
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await ctx.api.acceptInvite(message.space_id);
      ctx.navigate(`/s/${encodeURIComponent(message.space_id)}`);
    } catch (err) {
      button.disabled = false;
      ctx.announce(err.status === 404 ? `That invite to ${role} is no longer open.` : err.message, {
        error: true,
      });
    }
  });
  return button;
}

function messageItem(ctx, message) {
  const mine = message.sender_id === ctx.session.me?.id;
  const sender = message.sender ?? { username: "unknown", display_name: "Unknown" };
  const invite = message.invite_role && message.space_id;
  return h(
    "li",
    { class: mine ? "message mine" : "message", "data-message-id": message.id },
    avatarLink(sender, { href: profilePath(sender.username), size: "sm" }),
    h(
      "div",
      { class: "message-body" },
      h(
        "p",
        { class: "message-head" },
        h("span", { class: "name" }, mine ? "You" : displayName(sender)),
        " ",
        timeAgo(message.created_at),
      ),
      h("p", { class: "message-text" }, message.text),
      invite
        ? h(
            "p",
            { class: "message-invite muted" },
            mine
              ? `You invited them to ${message.invite_role === "cohost" ? "co-host" : "speak"}.`
              : `Invited you to ${message.invite_role === "cohost" ? "co-host" : "speak"}.`,
          )
        : null,
      spaceEmbedFor(ctx, message, {
        extraActions: invite && !mine ? [acceptInviteButton(ctx, message)] : [],
      }),
    ),
  );
}

function messageComposer(ctx, conversationId, onSent) {
  const ids = { text: uid("dm-text"), count: uid("dm-count") };
  const textarea = h("textarea", {
    id: ids.text,
    name: "text",
    rows: 2,
    placeholder: "Write a message",
    "aria-describedby": ids.count,
    "data-autofocus": "",
  });
  const counter = h("span", { id: ids.count, class: "counter" }, `0/${MESSAGE_MAX_CHARS}`);
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "btn btn-primary", disabled: true }, "Send");
  let busy = false;

  function update() {
    const count = charCount(textarea.value);
    counter.textContent = `${count}/${MESSAGE_MAX_CHARS}`;
    counter.dataset.state = count > MESSAGE_MAX_CHARS ? "over" : "ok";
    button.disabled = busy || !textarea.value.trim() || count > MESSAGE_MAX_CHARS;
  }

  async function submit(event) {
    event.preventDefault();
    if (button.disabled) return;
    busy = true;
    error.hidden = true;
    update();
    try {
      const message = await ctx.api.sendMessage(conversationId, { text: textarea.value });
      textarea.value = "";
      onSent(message);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      busy = false;
      update();
      textarea.focus();
    }
  }

  textarea.addEventListener("input", () => {
    error.hidden = true;
    update();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) submit(event);
  });
  return h(
    "form",
    { class: "composer card dm-composer", onsubmit: submit },
    h("label", { for: ids.text, class: "visually-hidden" }, "Message"),
    textarea,
    error,
    h("div", { class: "composer-foot" }, counter, button),
  );
}

export function conversationPage(ctx) {
  const id = ctx.params.conversation_id;
  ctx.setTitle("Messages");
  const heading = h("h1", { tabindex: "-1" }, "Conversation");
  const who = h("div", { class: "dm-who" });
  const list = h("ol", { class: "messages", "aria-label": "Messages", "aria-live": "polite" });
  const earlier = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small", hidden: true },
    "Load earlier",
  );
  const status = h("p", { class: "form-error", role: "alert", hidden: true });
  const seen = new Set();
  let cursor = null;
  let markTimer = null;

  function add(messages, { atTop = false } = {}) {
    const fresh = messages.filter((m) => !seen.has(m.id));
    for (const m of fresh) seen.add(m.id);
    const nodes = fresh.map((m) => messageItem(ctx, m));
    if (atTop) list.prepend(...nodes);
    else list.append(...nodes);
  }

  function sendRead() {
    clearTimeout(markTimer);
    markTimer = null;
    ctx.api.markConversationRead(id).catch(() => {});
  }

  /** Now, or (for a burst of live messages) once the burst is over. */
  function markRead({ soon = false } = {}) {
    clearTimeout(markTimer);
    if (soon) markTimer = setTimeout(sendRead, 300);
    else sendRead();
  }

  async function loadEarlier() {
    earlier.disabled = true;
    try {
      const page = await ctx.api.messages(id, cursor, ctx.signal);
      add([...page.data].reverse(), { atTop: true });
      cursor = page.next_cursor;
      earlier.hidden = !cursor;
    } catch (err) {
      if (!isAbort(err)) ctx.announce(err.message, { error: true });
    } finally {
      earlier.disabled = false;
    }
  }

  async function load() {
    try {
      const [conversation, page] = await Promise.all([
        ctx.api.conversation(id, ctx.signal),
        ctx.api.messages(id, null, ctx.signal),
      ]);
      const others = othersIn(ctx, conversation);
      const name = others.map(displayName).join(", ");
      heading.textContent = name;
      ctx.setTitle(`Messages with ${name}`);
      replace(
        who,
        others.map((other) => [
          avatarLink(other, { href: profilePath(other.username), size: "sm" }),
          h("a", { href: profilePath(other.username), class: "handle" }, `@${other.username}`),
        ]),
      );
      add([...page.data].reverse());
      cursor = page.next_cursor;
      earlier.hidden = !cursor;
      list.lastElementChild?.scrollIntoView({ block: "end" });
      markRead();
    } catch (err) {
      if (isAbort(err)) return;
      heading.textContent = err.status === 404 ? "No such conversation" : "Messages";
      status.textContent = err.status === 404 ? "This conversation does not exist." : err.message;
      status.hidden = false;
    }
  }

  function onMessage(event) {
    const message = event.detail.data;
    if (message?.conversation_id !== id) return;
    add([message]);
    list.lastElementChild?.scrollIntoView({ block: "end" });
    if (message.sender_id !== ctx.session.me?.id) markRead({ soon: true });
  }

  ctx.events.addEventListener("message", onMessage);
  ctx.signal.addEventListener("abort", () => {
    ctx.events.removeEventListener("message", onMessage);
    if (markTimer !== null) sendRead(); // seen, even if you leave at once
  });
  earlier.addEventListener("click", loadEarlier);
  load();

  return h(
    "section",
    { class: "page dm-page" },
    h(
      "header",
      { class: "page-head" },
      h("a", { href: "/messages", class: "muted small" }, "← Messages"),
      heading,
      who,
    ),
    status,
    earlier,
    list,
    messageComposer(ctx, id, (message) => {
      add([message]);
      list.lastElementChild?.scrollIntoView({ block: "end" });
    }),
  );
}
