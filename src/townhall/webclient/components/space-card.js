/** A Space in the Spaces tab: live (who is on stage, how many listen, Join) or upcoming. */

import { h, replace } from "../dom.js";
import { displayName, fullTime } from "../format.js";
import { avatar } from "./avatar.js";
import { icon } from "./icons.js";
import { handleOf, isOnStage, userOf } from "./space-people.js";

const STAGE_FACES = 4;

export function spacePath(space) {
  return space.share_url || `/s/${encodeURIComponent(space.id)}`;
}

/** "Tue 14 May, 18:30", or "Today, 18:30". */
export function startTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const today = new Date();
  const time = when.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  if (when.toDateString() === today.toDateString()) return `Today, ${time}`;
  const day = when.toLocaleDateString(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
  });
  return `${day}, ${time}`;
}

function hostLine(host, { isMe }) {
  if (!host) return null;
  return h(
    "p",
    { class: "space-card-host" },
    avatar(host, "sm"),
    h("span", {}, isMe ? "You" : displayName(host), " ", h("span", { class: "muted" }, "· Host")),
  );
}

/**
 * A card for a live Space. The stage (host and speakers, with names) is filled
 * in by setStage once the participants have loaded.
 */
export function liveSpaceCard(ctx, space) {
  const stageSlot = h("div", { class: "space-card-stage" });
  const hostSlot = h("div", { class: "space-card-host-slot" });
  const count = h("span", { class: "space-card-count" });

  const n = space.participant_count;
  replace(count, icon("people", 16), ` ${n} listening`);

  function setStage(participants) {
    const stage = participants.filter(isOnStage);
    const host = stage.find((p) => p.role === "host");
    replace(
      hostSlot,
      host ? hostLine(userOf(host), { isMe: host.user_id === ctx.session.me?.id }) : null,
    );
    const speakers = stage.filter((p) => p.role !== "host").map(userOf);
    if (!speakers.length) {
      stageSlot.replaceChildren();
      return;
    }
    const shown = speakers.slice(0, STAGE_FACES);
    const more = speakers.length - shown.length;
    replace(
      stageSlot,
      h(
        "span",
        { class: "face-stack", "aria-hidden": "true" },
        shown.map((user) => avatar(user, "sm")),
      ),
      h(
        "span",
        { class: "space-card-speakers" },
        "With ",
        shown.map(handleOf).join(", "),
        more > 0 ? ` and ${more} more` : "",
      ),
    );
  }

  // Spaces may carry their host; otherwise setStage names them once participants load.
  if (space.host) {
    replace(hostSlot, hostLine(space.host, { isMe: space.host.id === ctx.session.me?.id }));
  }

  const node = h(
    "article",
    { class: "space-card live", "data-space-id": space.id, "aria-label": space.title },
    h(
      "div",
      { class: "space-card-top" },
      h(
        "span",
        { class: "live-chip" },
        h("span", { class: "live-dot", "aria-hidden": "true" }),
        "Live",
      ),
      count,
    ),
    h("h3", { class: "space-card-title" }, h("a", { href: spacePath(space) }, space.title)),
    hostSlot,
    stageSlot,
    h(
      "div",
      { class: "space-card-actions" },
      h(
        "a",
        { class: "btn btn-primary", href: spacePath(space) },
        space.creator_id === ctx.session.me?.id ? "Open" : "Join",
      ),
    ),
  );
  return { node, setStage };
}

/** A card for a scheduled Space: when it starts, who hosts it, and "Set reminder". */
export function upcomingSpaceCard(ctx, space) {
  const mine = space.creator_id === ctx.session.me?.id;
  const remind = h(
    "button",
    { type: "button", class: "btn btn-secondary" },
    icon("bell", 18),
    "Set reminder",
  );
  remind.addEventListener("click", async () => {
    remind.disabled = true;
    try {
      await ctx.api.remindMe(space.id);
      replace(remind, icon("bell", 18), "Reminder set");
      ctx.announce(`We'll remind you when "${space.title}" starts.`);
    } catch (err) {
      remind.disabled = false;
      ctx.announce(err.message, { error: true });
    }
  });
  const when = space.scheduled_start;
  return h(
    "article",
    { class: "space-card upcoming", "data-space-id": space.id, "aria-label": space.title },
    h(
      "p",
      { class: "space-card-when" },
      icon("calendar", 16),
      " ",
      h("time", { datetime: when, title: fullTime(when) }, startTime(when)),
    ),
    h("h3", { class: "space-card-title" }, h("a", { href: spacePath(space) }, space.title)),
    space.host
      ? hostLine(space.host, { isMe: mine })
      : mine
        ? h("p", { class: "muted" }, "Hosted by you")
        : null,
    space.topic_ids?.length
      ? h(
          "p",
          { class: "space-card-topics" },
          space.topic_ids.map((t) => h("span", { class: "chip" }, t)),
        )
      : null,
    h(
      "div",
      { class: "space-card-actions" },
      mine ? h("a", { class: "btn btn-secondary", href: spacePath(space) }, "Open") : remind,
    ),
  );
}
