/** /u/{username}/followers and /following: paginated lists of people. */

import { h } from "../dom.js";
import { pagedList } from "../components/feed.js";
import { profilePath } from "../components/post.js";
import { userCard } from "../components/usercard.js";

function tab(href, label, current) {
  return h("a", { class: "tab", href, "aria-current": current ? "page" : null }, label);
}

function connectionsPage(ctx, kind) {
  const { username } = ctx.params;
  const base = profilePath(username);
  const title =
    kind === "followers" ? `People following @${username}` : `People @${username} follows`;
  ctx.setTitle(title);
  const list = pagedList({
    load: (cursor, signal) =>
      kind === "followers"
        ? ctx.api.followers(username, cursor, signal)
        : ctx.api.following(username, cursor, signal),
    renderItem: (user) => userCard(ctx, user),
    label: title,
    empty:
      kind === "followers"
        ? `Nobody follows @${username} yet.`
        : `@${username} doesn't follow anyone yet.`,
    signal: ctx.signal,
  });
  return h(
    "section",
    { class: "page" },
    h(
      "header",
      { class: "page-head" },
      h(
        "a",
        { class: "back-link", href: base },
        h("span", { "aria-hidden": "true" }, "← "),
        `@${username}`,
      ),
      h("h1", { tabindex: "-1" }, title),
    ),
    h(
      "nav",
      { class: "tabs", "aria-label": "Connections" },
      tab(`${base}/followers`, "Followers", kind === "followers"),
      tab(`${base}/following`, "Following", kind === "following"),
    ),
    list.node,
  );
}

export const followersPage = (ctx) => connectionsPage(ctx, "followers");
export const followingPage = (ctx) => connectionsPage(ctx, "following");
