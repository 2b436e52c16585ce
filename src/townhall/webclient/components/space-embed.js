/**
 * A live card for a Space, wherever one is mentioned: a post or a message that
 * carries it (`space_id`) or whose text holds its share link (/s/{id}).
 *
 * It shows the title, the host and the state: scheduled (start time, "Set
 * reminder"), live (listeners, speakers' faces, "Join") or ended ("Play
 * recording" when there is one). While the card is on screen it refreshes
 * itself every few seconds; off screen, or once the Space has ended, it rests.
 */

import { isAbort } from "../api.js";
import { h, replace } from "../dom.js";
import { displayName, plural } from "../format.js";
import { avatar } from "./avatar.js";
import { icon } from "./icons.js";
import { liveSpacePath } from "./live-ring.js";
import { startTime } from "./space-card.js";
import { handleOf, isOnStage, userOf } from "./space-people.js";

const REFRESH_MS = 5000;
const STAGE_FACES = 4;
/** A share link, absolute (this server or another spelling of it) or relative. */
const SHARE_LINK = /(?:^|[\s(])(?:https?:\/\/[^\s/]+)?\/s\/(\d{1,20})(?![\w/])/;

/** The id of the first Space the text links to, or null. */
export function linkedSpaceId(text) {
  const found = SHARE_LINK.exec(text ?? "");
  return found ? found[1] : null;
}

/**
 * The card for the Space an item (post or message) carries or links, or null;
 * a link to another Space counts when the carried one is exceptSpaceId.
 */
export function spaceEmbedFor(ctx, item, { exceptSpaceId = null, ...options } = {}) {
  const candidates = [item.space_id, linkedSpaceId(item.text)];
  const spaceId = candidates.find((id) => id && String(id) !== String(exceptSpaceId));
  return spaceId ? spaceEmbed(ctx, spaceId, options) : null;
}

function stateChip(space) {
  if (space.state === "live") {
    return h(
      "span",
      { class: "live-chip" },
      h("span", { class: "live-dot", "aria-hidden": "true" }),
      "Live",
    );
  }
  if (space.state === "scheduled") {
    return h(
      "span",
      { class: "state-chip", "data-state": "scheduled" },
      icon("calendar", 14),
      " ",
      space.scheduled_start
        ? h("time", { datetime: space.scheduled_start }, startTime(space.scheduled_start))
        : "Scheduled",
    );
  }
  return h("span", { class: "state-chip", "data-state": "ended" }, "Ended");
}

/** spaceEmbed(ctx, id, {extraActions: Node[]}): extra buttons beside the main one. */
export function spaceEmbed(ctx, spaceId, { extraActions = [] } = {}) {
  const path = liveSpacePath(spaceId);
  const node = h(
    "article",
    { class: "space-embed", "data-space-id": spaceId, "aria-label": "Space", "aria-busy": "true" },
    h("p", { class: "muted" }, "Loading Space…"),
  );
  let space = null;
  let visible = true;
  let timer = null;
  let inFlight = false;
  let reminded = false;

  function reminderButton() {
    const button = h(
      "button",
      { type: "button", class: "btn btn-secondary btn-small", disabled: reminded },
      icon("bell", 16),
      reminded ? "Reminder set" : "Set reminder",
    );
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await ctx.api.remindMe(spaceId);
        reminded = true;
        replace(button, icon("bell", 16), "Reminder set");
        ctx.announce(`We'll remind you when "${space.title}" starts.`);
      } catch (err) {
        button.disabled = false;
        ctx.announce(err.message, { error: true });
      }
    });
    return button;
  }

  function mainAction(recording) {
    if (space.state === "live") {
      return h("a", { class: "btn btn-primary btn-small", href: path }, "Join");
    }
    if (space.state === "scheduled") {
      return space.creator_id === ctx.session.me?.id
        ? h("a", { class: "btn btn-secondary btn-small", href: path }, "Open")
        : reminderButton();
    }
    if (recording) {
      return h("a", { class: "btn btn-secondary btn-small", href: path }, icon("play", 16), "Play recording");
    }
    return null;
  }

  function paint(people, recording) {
    const host = space.host;
    const stage = people.filter((p) => isOnStage(p) && p.role !== "host").map(userOf);
    const shown = stage.slice(0, STAGE_FACES);
    const n = space.participant_count;
    node.dataset.state = space.state;
    node.setAttribute("aria-label", `Space: ${space.title}`);
    node.setAttribute("aria-busy", "false");
    replace(
      node,
      h(
        "div",
        { class: "space-embed-top" },
        stateChip(space),
        space.state === "live"
          ? h("span", { class: "space-embed-count" }, icon("people", 14), ` ${n} listening`)
          : null,
      ),
      h("h3", { class: "space-embed-title" }, h("a", { href: path }, space.title)),
      host
        ? h(
            "p",
            { class: "space-embed-host" },
            avatar(host, "sm"),
            h("span", {}, "Hosted by ", h("strong", {}, displayName(host))),
          )
        : null,
      shown.length
        ? h(
            "p",
            { class: "space-embed-stage" },
            h("span", { class: "face-stack", "aria-hidden": "true" }, shown.map((u) => avatar(u, "sm"))),
            h(
              "span",
              {},
              `${plural(stage.length, "Speaker", "Speakers")}: `,
              shown.map(handleOf).join(", "),
              stage.length > shown.length ? ` and ${stage.length - shown.length} more` : "",
            ),
          )
        : null,
      h("div", { class: "space-embed-actions" }, mainAction(recording), extraActions),
    );
  }

  async function refresh() {
    if (inFlight || ctx.signal.aborted) return;
    inFlight = true;
    try {
      space = await ctx.api.space(spaceId, ctx.signal);
      let people = [];
      let recording = null;
      if (space.state === "live") {
        people = (await ctx.api.participants(spaceId, ctx.signal)).data;
      } else if (space.state === "ended" && space.recording) {
        try {
          const found = await ctx.api.recording(spaceId, ctx.signal);
          recording = found.state === "ready" ? found : null;
        } catch (err) {
          if (isAbort(err)) throw err;
        }
      }
      paint(people, recording);
    } catch (err) {
      if (isAbort(err)) return;
      if (!space) {
        node.setAttribute("aria-busy", "false");
        replace(
          node,
          h("p", { class: "muted" }, err.status === 404 ? "This Space is not available." : err.message),
        );
      }
    } finally {
      inFlight = false;
    }
  }

  function tick() {
    if (!node.isConnected && space) return; // scrolled away in a list that dropped it
    if (visible && document.visibilityState === "visible" && space?.state !== "ended") refresh();
  }

  if ("IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      const wasVisible = visible;
      visible = entries.some((entry) => entry.isIntersecting);
      if (visible && !wasVisible) tick();
    });
    observer.observe(node);
    ctx.signal.addEventListener("abort", () => observer.disconnect());
  }
  timer = setInterval(tick, REFRESH_MS);
  ctx.signal.addEventListener("abort", () => clearInterval(timer));
  refresh();
  return node;
}
