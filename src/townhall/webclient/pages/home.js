/** /home: live Spaces of people you follow, the composer, and the timeline of people you
 * follow (and you). */

import { h } from "../dom.js";
import { composer } from "../components/composer.js";
import { pagedList } from "../components/feed.js";
import { liveRow } from "../components/live-row.js";
import { postItem } from "../components/post.js";

export function homePage(ctx) {
  ctx.setTitle("Home");
  const timeline = pagedList({
    load: (cursor, signal) => ctx.api.timeline(cursor, signal),
    renderItem: (post) => postItem(post, ctx),
    label: "Timeline",
    empty: "Nothing here yet. Follow people to see their posts, or write the first one.",
    signal: ctx.signal,
  });
  return h(
    "section",
    { class: "page" },
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Home")),
    liveRow(ctx),
    composer(ctx, { onPosted: (post) => timeline.prepend(post) }),
    timeline.node,
  );
}
