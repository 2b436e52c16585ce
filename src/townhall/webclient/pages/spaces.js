/**
 * /spaces: Spaces live now (with who is on stage) and upcoming ones (with
 * "Set reminder"), a search box, and "Start a Space"; a search also looks
 * through what was said in Spaces (their transcripts), each hit a link to that
 * moment of the Space. The lists refresh on
 * their own while the page is open, and at once when a notification says a
 * Space went live.
 */

import { isAbort } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { displayName } from "../format.js";
import { icon } from "../components/icons.js";
import { clock } from "../components/space-captions.js";
import { liveSpaceCard, spacePath, upcomingSpaceCard } from "../components/space-card.js";
import { openCreateSpaceDialog } from "../components/space-create.js";

const REFRESH_MS = 20_000;
const SEARCH_DEBOUNCE_MS = 300;
const STAGE_LOOKUPS = 12;
const LIST_LIMIT = 30;

function section(titleText, id, list, note) {
  return h(
    "section",
    { class: "spaces-section", "aria-labelledby": id },
    h("h2", { id, class: "section-title" }, titleText),
    list,
    note,
  );
}

export function spacesPage(ctx) {
  ctx.setTitle("Spaces");
  const searchId = uid("space-search");
  const search = h("input", {
    type: "search",
    id: searchId,
    name: "q",
    maxlength: 100,
    autocomplete: "off",
    placeholder: "Search by title or topic",
    value: ctx.url.searchParams.get("q") ?? "",
  });
  const start = h(
    "button",
    { type: "button", class: "btn btn-primary" },
    icon("plus", 18),
    "Start a Space",
  );
  const liveList = h("ul", { class: "space-list", "aria-label": "Live now", "aria-busy": "true" });
  const upcomingList = h("ul", {
    class: "space-list",
    "aria-label": "Upcoming",
    "aria-busy": "true",
  });
  const saidList = h("ul", { class: "transcript-hits", "aria-label": "Said in Spaces" });
  const saidNote = h("p", { class: "feed-note", hidden: true });
  const saidSection = section("Said in Spaces", uid("said-title"), saidList, saidNote);
  saidSection.hidden = true;
  const liveNote = h("p", { class: "feed-note", hidden: true });
  const upcomingNote = h("p", { class: "feed-note", hidden: true });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const summary = h("p", { class: "visually-hidden", role: "status" });
  let generation = 0;
  let debounce = null;

  async function loadStage(card, space, signal) {
    try {
      const page = await ctx.api.participants(space.id, signal);
      card.setStage(page.data);
    } catch {
      // The card still shows the title, count and Join; names are a nicety.
    }
  }

  function paintList(list, note, spaces, render, emptyText) {
    replace(
      list,
      spaces.map((space) => h("li", { "data-space-id": space.id }, render(space))),
    );
    list.setAttribute("aria-busy", "false");
    note.textContent = emptyText;
    note.hidden = spaces.length > 0;
  }

  async function load({ announceResult = false } = {}) {
    const mine = ++generation;
    const q = search.value.trim();
    try {
      const [live, upcoming] = await Promise.all([
        ctx.api.spaces({ state: "live", q, limit: LIST_LIMIT }, ctx.signal),
        ctx.api.spaces({ state: "scheduled", q, limit: LIST_LIMIT }, ctx.signal),
      ]);
      if (mine !== generation) return;
      error.hidden = true;
      const cards = [];
      paintList(
        liveList,
        liveNote,
        live.data,
        (space) => {
          const card = liveSpaceCard(ctx, space);
          cards.push([card, space]);
          return card.node;
        },
        q ? `No live Spaces match "${q}".` : "Nobody is live right now. Start a Space!",
      );
      paintList(
        upcomingList,
        upcomingNote,
        upcoming.data,
        (space) => upcomingSpaceCard(ctx, space),
        q ? `No upcoming Spaces match "${q}".` : "No Spaces are scheduled.",
      );
      for (const [card, space] of cards.slice(0, STAGE_LOOKUPS)) loadStage(card, space, ctx.signal);
      loadSaid(q, mine);
      if (announceResult) {
        summary.textContent = `${live.data.length} live, ${upcoming.data.length} upcoming.`;
      }
    } catch (err) {
      if (isAbort(err) || mine !== generation) return;
      error.textContent = err.message;
      error.hidden = false;
      liveList.setAttribute("aria-busy", "false");
      upcomingList.setAttribute("aria-busy", "false");
    }
  }

  /** What was said in Spaces: transcript search, each hit a link to its moment. */
  async function loadSaid(q, mine) {
    if (!q) {
      saidSection.hidden = true;
      return;
    }
    try {
      const hits = await ctx.api.searchTranscripts(q, ctx.signal);
      if (mine !== generation) return;
      replace(
        saidList,
        hits.data.map((hit) =>
          h(
            "li",
            {},
            h(
              "a",
              { href: hit.url, class: "transcript-hit" },
              h("span", { class: "transcript-hit-text" }, `“${hit.text}”`),
              h(
                "span",
                { class: "transcript-hit-where" },
                `${displayName(hit.user)} in ${hit.space_title || "a Space"} at ${clock(hit.offset_ms)}`,
              ),
            ),
          ),
        ),
      );
      saidNote.textContent = `Nobody said "${q}" in a Space yet.`;
      saidNote.hidden = hits.data.length > 0;
      saidSection.hidden = false;
    } catch (err) {
      if (isAbort(err)) return;
      saidSection.hidden = true;
    }
  }

  function searchNow() {
    clearTimeout(debounce);
    const q = search.value.trim();
    // The address keeps the query (shareable, survives reload) without a re-render.
    const url = q ? `/spaces?${new URLSearchParams({ q })}` : "/spaces";
    history.replaceState(null, "", url);
    load({ announceResult: true });
  }

  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(searchNow, SEARCH_DEBOUNCE_MS);
  });
  start.addEventListener("click", () =>
    openCreateSpaceDialog(ctx, {
      onCreated: (space) => {
        if (space.state === "live") {
          ctx.navigate(spacePath(space));
        } else {
          ctx.announce(`"${space.title}" is scheduled.`);
          load();
        }
      },
    }),
  );
  ctx.events.addEventListener(
    "notification",
    (event) => {
      if (event.detail.data?.space_id) load();
    },
    { signal: ctx.signal },
  );
  ctx.events.addEventListener("resync", () => load(), { signal: ctx.signal });
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") load();
  }, REFRESH_MS);
  ctx.signal.addEventListener("abort", () => {
    clearInterval(timer);
    clearTimeout(debounce);
  });
  load();

  return h(
    "section",
    { class: "page spaces-page" },
    h("header", { class: "page-head page-head-row" }, h("h1", { tabindex: "-1" }, "Spaces"), start),
    h(
      "form",
      {
        class: "search-box",
        role: "search",
        onsubmit: (event) => {
          event.preventDefault();
          searchNow();
        },
      },
      h("label", { for: searchId, class: "visually-hidden" }, "Search Spaces"),
      icon("search", 18),
      search,
    ),
    error,
    summary,
    section("Live now", uid("live-title"), liveList, liveNote),
    section("Upcoming", uid("upcoming-title"), upcomingList, upcomingNote),
    saidSection,
  );
}
