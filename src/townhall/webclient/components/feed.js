/**
 * A paginated list: loads the first page, then more with a "Load more" button
 * that follows next_cursor. Used for timelines, profiles' posts, follower
 * lists and notifications.
 */

import { isAbort } from "../api.js";
import { h } from "../dom.js";

/**
 * load(cursor, signal) -> {data, next_cursor}; renderItem(item) -> Node;
 * label names the list for assistive technology; empty is shown for no items.
 */
export function pagedList({ load, renderItem, label, empty, moreLabel = "Load more", signal }) {
  const list = h("ol", { class: "feed", "aria-label": label, "aria-busy": "true" });
  const emptyNote = h("p", { class: "feed-note", hidden: true }, empty);
  const endNote = h("p", { class: "feed-note", tabindex: "-1", hidden: true }, "That's all.");
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const more = h("button", { type: "button", class: "btn btn-secondary btn-wide", hidden: true });
  const seen = new Set();
  let cursor = null;
  let generation = 0;

  function itemNode(item) {
    seen.add(item.id);
    return h("li", { class: "feed-item", "data-id": item.id }, renderItem(item));
  }

  function refreshNotes() {
    emptyNote.hidden = list.childElementCount > 0 || !more.hidden || !error.hidden;
  }

  async function loadPage(first) {
    const mine = generation;
    const hadFocus = document.activeElement === more;
    list.setAttribute("aria-busy", "true");
    more.disabled = true;
    more.textContent = "Loading…";
    error.hidden = true;
    try {
      const page = await load(first ? null : cursor, signal);
      if (mine !== generation) return;
      for (const item of page.data) {
        if (!seen.has(item.id)) list.append(itemNode(item));
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      endNote.hidden = Boolean(cursor) || first;
      if (hadFocus && !cursor) endNote.focus();
    } catch (err) {
      if (isAbort(err) || mine !== generation) return;
      error.textContent = err.message;
      error.hidden = false;
      more.hidden = !first && !cursor;
    } finally {
      if (mine === generation) {
        list.setAttribute("aria-busy", "false");
        more.disabled = false;
        more.textContent = error.hidden ? moreLabel : "Try again";
        refreshNotes();
      }
    }
  }

  more.addEventListener("click", () => loadPage(list.childElementCount === 0));
  loadPage(true);

  return {
    node: h("div", { class: "feed-wrap" }, list, emptyNote, error, more, endNote),
    /** Puts a new item at the top (a fresh post, a live notification). */
    prepend(item) {
      if (seen.has(item.id)) return;
      list.prepend(itemNode(item));
      refreshNotes();
    },
    /** Starts again from the first page. */
    reload() {
      generation += 1;
      seen.clear();
      cursor = null;
      list.replaceChildren();
      endNote.hidden = true;
      more.hidden = true;
      loadPage(true);
    },
  };
}
