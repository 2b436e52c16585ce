/**
 * The live ring: an avatar of someone hosting or speaking in a live Space
 * (the server's `live_space_id`) gets a ring, and clicking it joins that
 * Space. Otherwise the avatar links to the profile as before. refreshRings
 * takes the ring off once its Space has ended, without a reload.
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
        "data-profile-href": href ?? null,
        "data-plain-class": className || null,
      },
      avatar(user, size),
    );
  }
  return h("a", { class: className || null, href, tabindex: "-1", "aria-hidden": "true" }, avatar(user, size));
}

/** Turns a ring back into the plain avatar link (its Space ended). */
function unring(link) {
  const href = link.dataset.profileHref;
  const plain = link.dataset.plainClass ?? "";
  if (href) {
    link.href = href;
    link.setAttribute("tabindex", "-1");
    link.setAttribute("aria-hidden", "true");
  } else {
    link.removeAttribute("href");
  }
  link.removeAttribute("aria-label");
  link.removeAttribute("title");
  link.removeAttribute("data-live-space-id");
  link.className = plain;
}

/**
 * Checks the Spaces of the rings under root (one request per distinct Space)
 * and takes off the rings of those no longer live.
 */
export async function refreshRings(api, root) {
  const rings = [...root.querySelectorAll("a.live-ring[data-live-space-id]")];
  const ids = [...new Set(rings.map((ring) => ring.dataset.liveSpaceId))];
  await Promise.all(
    ids.map(async (id) => {
      let live = true;
      try {
        live = (await api.space(id)).state === "live";
      } catch (err) {
        live = err.status !== 404; // gone or hidden: no ring; other errors: keep it
      }
      if (live) return;
      for (const ring of rings) if (ring.dataset.liveSpaceId === id) unring(ring);
    }),
  );
}
