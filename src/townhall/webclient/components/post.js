/**
 * One post: avatar, name and @username linking to the profile, relative time, the text,
 * and Report (app.js answers its clicks, for every list of posts at once).
 * A post that links a clip of a recorded Space (/clips/{id}.m4a) plays it inline.
 */

import { h } from "../dom.js";
import { displayName, fullTime, relativeTime } from "../format.js";
import { avatarLink } from "./live-ring.js";
import { spaceEmbedFor } from "./space-embed.js";

export function profilePath(username) {
  return `/u/${encodeURIComponent(username)}`;
}

const CLIP_LINK = /(?:^|\s)(\/clips\/\d{1,20}\.m4a)(?=\s|$)/;

/** An inline player for a clip the post links to, or null. */
export function clipPlayer(text) {
  const found = CLIP_LINK.exec(text ?? "");
  if (!found) return null;
  return h(
    "div",
    { class: "post-clip" },
    h("audio", { controls: true, preload: "none", src: found[1], "aria-label": "Clip" }),
  );
}

/** A <time> that app.js refreshes every minute ("now" becomes "1m"). */
export function timeAgo(iso) {
  return h("time", { datetime: iso, title: fullTime(iso), "data-relative": "" }, relativeTime(iso));
}

/**
 * ctx (optional) lets a post that carries or links a Space show its live card;
 * exceptSpaceId names a Space not to show a card of (the page's own).
 */
export function postItem(post, ctx = null, { exceptSpaceId = null } = {}) {
  const author = post.author ?? { username: "unknown", display_name: "Unknown" };
  const href = profilePath(author.username);
  return h(
    "article",
    { class: "post", "data-post-id": post.id, "data-author-id": post.author_id },
    avatarLink(author, { href, className: "post-avatar" }),
    h(
      "div",
      { class: "post-body" },
      h(
        "header",
        { class: "post-head" },
        h(
          "a",
          { class: "post-author", href },
          h("span", { class: "name" }, displayName(author)),
          " ",
          h("span", { class: "handle" }, `@${author.username}`),
        ),
        h("span", { class: "sep", "aria-hidden": "true" }, "·"),
        timeAgo(post.created_at),
        // app.js opens the report dialog; it hides the button on your own posts.
        h(
          "button",
          {
            type: "button",
            class: "btn-link post-report small",
            "data-report-post": post.id,
            "aria-label": `Report this post by @${author.username}`,
          },
          "Report",
        ),
      ),
      h("p", { class: "post-text" }, post.text),
      clipPlayer(post.text),
      ctx ? spaceEmbedFor(ctx, post, { exceptSpaceId }) : null,
    ),
  );
}
