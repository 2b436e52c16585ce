/**
 * The live ring: an avatar of someone hosting or speaking in a live Space
 * (the server's `live_space_id`) gets a ring, and clicking it joins that
 * Space. Otherwise the avatar links to the profile as before.
 */

import { h } from "../dom.js";
import { displayName } from "../format.js";
import { avatar } from "./avatar.js";

export function liveSpacePath(spaceId) {
  return `/s/${encodeURIComponent(spaceId)}`;
}

/**
 * The avatar wrapped in a link: to the live Space (with the ring) when the user
 * is live, else to `href` (their profile). `className` is the plain link's class.
 */
export function avatarLink(user, { href, size = "md", className = "" } = {}) {
  const spaceId = user?.live_space_id;
  if (spaceId) {
    const label = `${displayName(user)} is live: join their Space`;
    return h(
      "a",
      {
        class: `${className} live-ring live-ring-${size}`.trim(),
        href: liveSpacePath(spaceId),
        "aria-label": label,
        title: label,
        "data-live-space-id": spaceId,
      },
      avatar(user, size),
    );
  }
  return h("a", { class: className || null, href, tabindex: "-1", "aria-hidden": "true" }, avatar(user, size));
}
