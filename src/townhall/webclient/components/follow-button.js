/** Follow / Unfollow for one user; onChange(following) runs after the server agreed. */

import { h } from "../dom.js";

export function followButton(ctx, user, { onChange } = {}) {
  let following = Boolean(user.relationship?.following);
  const button = h("button", { type: "button", class: "btn" });

  function paint() {
    button.textContent = following ? "Unfollow" : "Follow";
    button.className = following ? "btn btn-secondary" : "btn btn-primary";
    button.title = following ? `Stop following @${user.username}` : `Follow @${user.username}`;
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      if (following) await ctx.api.unfollow(user.username);
      else await ctx.api.follow(user.username);
      following = !following;
      paint();
      ctx.announce(
        following ? `You follow @${user.username}.` : `You unfollowed @${user.username}.`,
      );
      onChange?.(following);
    } catch (err) {
      ctx.announce(err.message, { error: true });
    } finally {
      button.disabled = false;
    }
  });

  paint();
  return button;
}
