/** A user in a list: avatar, names, bio, and a Follow button for anyone but yourself. */

import { h } from "../dom.js";
import { displayName } from "../format.js";
import { followButton } from "./follow-button.js";
import { avatarLink } from "./live-ring.js";
import { profilePath } from "./post.js";

export function userCard(ctx, user) {
  const href = profilePath(user.username);
  const relationship = user.relationship;
  const canFollow =
    relationship &&
    !ctx.session.isMe(user.username) &&
    !relationship.blocking &&
    !relationship.blocked_by;
  return h(
    "div",
    { class: "user-card" },
    avatarLink(user, { href }),
    h(
      "div",
      { class: "user-card-body" },
      h(
        "a",
        { class: "post-author", href },
        h("span", { class: "name" }, displayName(user)),
        " ",
        h("span", { class: "handle" }, `@${user.username}`),
      ),
      relationship?.followed_by ? h("span", { class: "chip" }, "Follows you") : null,
      user.bio ? h("p", { class: "user-card-bio" }, user.bio) : null,
    ),
    canFollow ? followButton(ctx, user) : null,
  );
}
