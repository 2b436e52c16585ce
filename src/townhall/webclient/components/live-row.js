/**
 * The row atop the home timeline: live Spaces hosted by, or with a speaker
 * who is, someone you follow. Each is the host's ringed face, the title and the
 * audience; a click joins. Refreshed every little while, hidden when empty.
 */

import { isAbort } from "../api.js";
import { h, replace } from "../dom.js";
import { displayName } from "../format.js";
import { avatar } from "./avatar.js";
import { liveSpacePath } from "./live-ring.js";

const REFRESH_MS = 15_000;

function liveItem(space) {
  const host = space.host ?? { username: "?", display_name: "" };
  return h(
    "li",
    { class: "live-row-item", "data-space-id": space.id },
    h(
      "a",
      { href: liveSpacePath(space.id), class: "live-row-link" },
      h("span", { class: "live-ring live-ring-lg" }, avatar(host, "lg")),
      h("span", { class: "live-row-title" }, space.title),
      h("span", { class: "live-row-host muted" }, displayName(host)),
      h("span", { class: "live-row-count muted" }, `${space.participant_count} listening`),
    ),
  );
}

export function liveRow(ctx) {
  const list = h("ul", { class: "live-row-list", "aria-label": "Live now from people you follow" });
  const node = h(
    "section",
    { class: "live-row", hidden: true },
    h("h2", { class: "live-row-heading" }, "Live now"),
    list,
  );

  async function refresh() {
    if (document.visibilityState !== "visible") return;
    try {
      const page = await ctx.api.liveSpacesOfFollowed(ctx.signal);
      replace(list, page.data.map(liveItem));
      node.hidden = page.data.length === 0;
    } catch (err) {
      if (!isAbort(err)) node.hidden = list.childElementCount === 0;
    }
  }

  const timer = setInterval(refresh, REFRESH_MS);
  ctx.signal.addEventListener("abort", () => clearInterval(timer));
  refresh();
  return node;
}
