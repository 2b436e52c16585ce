/** One post: avatar, name and @username linking to the profile, relative time, the text. */

import { h } from "../dom.js";
import { displayName, fullTime, relativeTime } from "../format.js";
import { avatar } from "./avatar.js";

export function profilePath(username) {
  return `/u/${encodeURIComponent(username)}`;
}

/** A <time> that app.js refreshes every minute ("now" becomes "1m"). */
export function timeAgo(iso) {
  return h("time", { datetime: iso, title: fullTime(iso), "data-relative": "" }, relativeTime(iso));
}

export function postItem(post) {
  const author = post.author ?? { username: "unknown", display_name: "Unknown" };
  const href = profilePath(author.username);
  return h(
    "article",
    { class: "post", "data-post-id": post.id },
    h("a", { class: "post-avatar", href, tabindex: "-1", "aria-hidden": "true" }, avatar(author)),
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
      ),
      h("p", { class: "post-text" }, post.text),
    ),
  );
}
