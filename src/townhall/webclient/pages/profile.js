/**
 * /u/{username}: who someone is, how many follow them, Follow / Unfollow,
 * Block / Unblock, Keep out of my Spaces and Report in a small menu, their recorded Spaces (each opens its
 * replay) and their posts. Your own profile has "Edit profile" instead.
 */

import { isAbort } from "../api.js";
import { h, replace } from "../dom.js";
import { avatar } from "../components/avatar.js";
import { pagedList } from "../components/feed.js";
import { followButton } from "../components/follow-button.js";
import { avatarLink } from "../components/live-ring.js";
import { menuButton } from "../components/menu.js";
import { postItem, profilePath } from "../components/post.js";
import { profileEditor } from "../components/profile-editor.js";
import { openReportDialog } from "../components/report-dialog.js";
import { spacePath, startTime } from "../components/space-card.js";
import { displayName, plural } from "../format.js";

function recordedSpaceItem(space) {
  return h(
    "article",
    { class: "card recorded-space", "data-space-id": space.id },
    h("a", { href: spacePath(space), class: "recorded-space-title" }, space.title),
    h("p", { class: "small muted" }, "Recorded", space.ended_at ? ` · ${startTime(space.ended_at)}` : ""),
  );
}

function countLink(href, count, label) {
  return h("a", { class: "count-link", href }, h("strong", {}, String(count)), " ", label);
}

export function profilePage(ctx) {
  const { username } = ctx.params;
  const base = profilePath(username);
  ctx.setTitle(`@${username}`);

  const heading = h("h1", { tabindex: "-1", class: "profile-name" }, `@${username}`);
  const picture = h("div", { class: "profile-avatar" });
  const handle = h("p", { class: "handle" }, `@${username}`);
  const chip = h("span", { class: "chip", hidden: true }, "Follows you");
  const bio = h("p", { class: "bio", hidden: true });
  const counts = h("p", { class: "counts" });
  const notice = h("p", { class: "notice" });
  const actions = h("div", { class: "profile-actions" });
  const editorSlot = h("div", { class: "editor-slot" });
  const card = h(
    "div",
    { class: "profile-card card", "aria-busy": "true" },
    h("div", { class: "profile-top" }, picture, actions),
    heading,
    h("div", { class: "handle-row" }, handle, chip),
    bio,
    counts,
    notice,
    editorSlot,
  );
  let user = null;
  let blockState = null;

  function paint(next) {
    user = next;
    const name = displayName(user);
    ctx.setTitle(`${name} (@${user.username})`);
    heading.textContent = name;
    handle.textContent = `@${user.username}`;
    replace(
      picture,
      user.live_space_id ? avatarLink(user, { size: "xl" }) : avatar(user, "xl"),
    );
    bio.textContent = user.bio ?? "";
    bio.hidden = !user.bio;
    const rel = user.relationship;
    chip.hidden = !rel?.followed_by;
    replace(
      counts,
      countLink(`${base}/following`, user.following_count, "Following"),
      countLink(
        `${base}/followers`,
        user.followers_count,
        plural(user.followers_count, "Follower", "Followers"),
      ),
    );
    notice.textContent = rel?.blocking
      ? `You blocked @${user.username}. They can't follow you or see your activity.`
      : rel?.blocked_by
        ? `@${user.username} blocked you.`
        : "";
    notice.hidden = !notice.textContent;
    const state = rel ? `${rel.blocking}/${rel.blocked_by}` : "self";
    if (state !== blockState) {
      blockState = state;
      paintActions();
    }
    card.setAttribute("aria-busy", "false");
  }

  function paintActions() {
    if (!user.relationship) {
      const edit = h(
        "button",
        { type: "button", class: "btn btn-secondary", "aria-expanded": "false" },
        "Edit profile",
      );
      const closeEditor = () => {
        editorSlot.replaceChildren();
        edit.setAttribute("aria-expanded", "false");
        edit.focus();
      };
      edit.addEventListener("click", () => {
        if (editorSlot.childElementCount) return closeEditor();
        editorSlot.replaceChildren(
          profileEditor(ctx, {
            onSaved: (saved) => {
              ctx.session.setMe(saved);
              paint({ ...user, ...saved, relationship: null });
            },
            onDone: closeEditor,
            onCancel: closeEditor,
          }),
        );
        edit.setAttribute("aria-expanded", "true");
        editorSlot.querySelector("input:not([type=file])")?.focus();
      });
      replace(actions, edit);
      return;
    }
    const rel = user.relationship;
    const canFollow = !rel.blocking && !rel.blocked_by;
    replace(
      actions,
      canFollow ? followButton(ctx, user, { onChange: () => refresh() }) : null,
      menuButton({
        label: `More actions for @${user.username}`,
        items: () => [
          user.relationship?.blocking
            ? { label: `Unblock @${user.username}`, onSelect: () => setBlocked(false) }
            : { label: `Block @${user.username}`, onSelect: () => setBlocked(true), danger: true },
          { label: "Keep out of my Spaces", onSelect: banFromSpaces, danger: true },
          {
            label: `Report @${user.username}`,
            onSelect: () =>
              openReportDialog(ctx, { type: "user", id: user.id, label: `@${user.username}` }),
            danger: true,
          },
        ],
      }),
    );
  }

  /** A ban ahead of time: they cannot join any of your Spaces (lift it in Settings). */
  async function banFromSpaces() {
    try {
      await ctx.api.ban(user.username);
      ctx.announce(`@${user.username} can't join your Spaces. Lift it in Settings.`);
    } catch (err) {
      ctx.announce(err.message, { error: true });
    }
  }

  async function setBlocked(blocked) {
    try {
      if (blocked) await ctx.api.block(user.username);
      else await ctx.api.unblock(user.username);
      ctx.announce(blocked ? `You blocked @${user.username}.` : `You unblocked @${user.username}.`);
      await refresh();
      actions.querySelector("[aria-haspopup=menu]")?.focus();
    } catch (err) {
      ctx.announce(err.message, { error: true });
    }
  }

  async function refresh() {
    try {
      paint(await ctx.api.user(username, ctx.signal));
    } catch (err) {
      if (isAbort(err)) return;
      if (err.status === 404) {
        ctx.setTitle("Account not found");
        heading.textContent = "This account doesn't exist";
        handle.textContent = `No one is called @${username} here.`;
        counts.hidden = true;
        postsSection.hidden = true;
        card.setAttribute("aria-busy", "false");
      } else {
        ctx.announce(err.message, { error: true });
      }
    }
  }

  const posts = pagedList({
    load: (cursor, signal) => ctx.api.userPosts(username, cursor, signal),
    renderItem: (post) => postItem(post, ctx),
    label: `Posts by @${username}`,
    empty: "No posts yet.",
    signal: ctx.signal,
  });
  const postsSection = h(
    "section",
    { class: "profile-posts", "aria-labelledby": "profile-posts-title" },
    h("h2", { id: "profile-posts-title", class: "section-title" }, "Posts"),
    posts.node,
  );

  const recordingsList = h("div", { class: "profile-recordings" });
  const recordingsSection = h(
    "section",
    { class: "profile-recorded", "aria-labelledby": "profile-recorded-title", hidden: true },
    h("h2", { id: "profile-recorded-title", class: "section-title" }, "Recorded Spaces"),
    recordingsList,
  );
  ctx.api
    .recordedSpaces(username, null, ctx.signal)
    .then((page) => {
      replace(recordingsList, page.data.map(recordedSpaceItem));
      recordingsSection.hidden = page.data.length === 0;
    })
    .catch(() => {
      // The profile works without them.
    });

  refresh();
  return h("section", { class: "page" }, card, recordingsSection, postsSection);
}
