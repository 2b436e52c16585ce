/** Any path the client does not know. */

import { h } from "../dom.js";

export function notFoundPage(ctx) {
  ctx.setTitle("Page not found");
  return h(
    "section",
    { class: "page" },
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Page not found")),
    h(
      "div",
      { class: "placeholder card" },
      h("p", {}, "Nothing lives at this address."),
      h("p", {}, h("a", { href: "/home" }, "Go to your timeline")),
    ),
  );
}
