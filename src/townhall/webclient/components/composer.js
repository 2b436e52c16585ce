/** The post composer: a labelled textarea, a code-point counter and a Post button. */

import { h, uid } from "../dom.js";
import { charCount } from "../format.js";

export const POST_MAX_CHARS = 280;
const NEAR_LIMIT_CHARS = 20;

function limitState(count) {
  if (count > POST_MAX_CHARS) return "over";
  if (count > POST_MAX_CHARS - NEAR_LIMIT_CHARS) return "near";
  return "ok";
}

/**
 * onPosted(post) runs with the server's post once it is created. With spaceId
 * the post is shared into that Space.
 */
export function composer(
  ctx,
  { onPosted, spaceId = null, placeholder = "What's happening?", label = "Write a post" },
) {
  const ids = { text: uid("compose"), count: uid("count"), error: uid("compose-error") };
  const textarea = h("textarea", {
    id: ids.text,
    name: "text",
    rows: 3,
    placeholder,
    "aria-describedby": `${ids.count} ${ids.error}`,
  });
  const counter = h("span", { id: ids.count, class: "counter" }, `0/${POST_MAX_CHARS}`);
  // Announced only when crossing a threshold, not on every keystroke.
  const limitNote = h("span", { class: "visually-hidden", role: "status" });
  const error = h("p", { id: ids.error, class: "form-error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "btn btn-primary", disabled: true }, "Post");
  let lastState = "ok";
  let busy = false;

  function update() {
    const count = charCount(textarea.value);
    const state = limitState(count);
    counter.textContent = `${count}/${POST_MAX_CHARS}`;
    counter.dataset.state = state;
    textarea.setAttribute("aria-invalid", String(state === "over"));
    button.disabled = busy || !textarea.value.trim() || state === "over";
    if (state !== lastState) {
      limitNote.textContent =
        state === "over"
          ? `${count - POST_MAX_CHARS} characters over the limit`
          : state === "near"
            ? `${POST_MAX_CHARS - count} characters left`
            : "";
      lastState = state;
    }
  }

  async function submit(event) {
    event.preventDefault();
    if (button.disabled) return;
    busy = true;
    error.hidden = true;
    update();
    button.textContent = "Posting…";
    try {
      const post = await ctx.api.createPost(textarea.value, spaceId);
      textarea.value = "";
      onPosted(post);
      ctx.announce("Your post was sent.");
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      busy = false;
      button.textContent = "Post";
      update();
    }
  }

  textarea.addEventListener("input", () => {
    error.hidden = true;
    update();
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) submit(event);
  });

  return h(
    "form",
    { class: "composer card", onsubmit: submit },
    h("label", { for: ids.text, class: "visually-hidden" }, label),
    textarea,
    error,
    h("div", { class: "composer-foot" }, counter, limitNote, button),
  );
}
