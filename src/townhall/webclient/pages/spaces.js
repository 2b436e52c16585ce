/** /spaces and /s/{id}: placeholders until live Spaces land in the web client. */

import { h } from "../dom.js";
import { icon } from "../components/icons.js";

function placeholder(title, ...text) {
  return h(
    "section",
    { class: "page" },
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, title)),
    h(
      "div",
      { class: "placeholder card" },
      icon("spaces", 40),
      text.map((line) => h("p", {}, line)),
    ),
  );
}

export function spacesPage(ctx) {
  ctx.setTitle("Spaces");
  return placeholder(
    "Spaces",
    "Live Spaces arrive soon.",
    "Host a live audio conversation, invite speakers and let anyone listen in.",
  );
}

export function spacePage(ctx) {
  const title = `Space ${ctx.params.space_id}`;
  ctx.setTitle(title);
  return placeholder(title, "Listening to Spaces in the browser arrives soon.");
}
