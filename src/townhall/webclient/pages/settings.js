/** /settings: your profile, the theme, and whom you keep out of your Spaces. */

import { isAbort } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { profileEditor } from "../components/profile-editor.js";
import { profilePath } from "../components/post.js";
import { onThemeChange, setTheme, storedTheme } from "../theme.js";

function themeChoice(signal) {
  const name = uid("theme");
  const options = [
    ["system", "Match my device"],
    ["light", "Light"],
    ["dark", "Dark"],
  ];
  const inputs = options.map(([value, label]) => {
    const input = h("input", { type: "radio", name, value, id: uid("theme-option") });
    input.addEventListener("change", () => setTheme(value));
    return { input, node: h("label", { class: "radio", for: input.id }, input, " ", label) };
  });
  const sync = () => {
    for (const { input } of inputs) input.checked = input.value === storedTheme();
  };
  onThemeChange(sync, { signal });
  sync();
  return h(
    "fieldset",
    { class: "radio-group" },
    h("legend", {}, "Theme"),
    inputs.map((option) => option.node),
  );
}

/** Your ban list: people kept out of all your Spaces, added here or from a profile. */
function banList(ctx) {
  const list = h("ul", { class: "ban-list", "aria-label": "Kept out of your Spaces" });
  const note = h("p", { class: "feed-note small" }, "Loading…");
  const inputId = uid("ban-username");
  const input = h("input", {
    id: inputId,
    name: "username",
    autocomplete: "off",
    autocapitalize: "none",
    spellcheck: "false",
    maxlength: 15,
    placeholder: "username",
  });
  const form = h(
    "form",
    { class: "ban-form" },
    h("label", { for: inputId }, "Keep someone out by username"),
    h(
      "div",
      { class: "inline-field" },
      input,
      h("button", { type: "submit", class: "btn btn-danger" }, "Ban"),
    ),
  );

  function item(ban) {
    const lift = h("button", { type: "button", class: "btn btn-secondary btn-small" }, "Lift");
    lift.addEventListener("click", async () => {
      lift.disabled = true;
      try {
        await ctx.api.liftBan(ban.user_id);
        ctx.announce(`@${ban.user.username} can join your Spaces again.`);
        load();
      } catch (err) {
        lift.disabled = false;
        ctx.announce(err.message, { error: true });
      }
    });
    return h(
      "li",
      { class: "ban", "data-user-id": ban.user_id },
      h("a", { href: profilePath(ban.user.username) }, `@${ban.user.username}`),
      " ",
      lift,
    );
  }

  async function load() {
    try {
      const { data } = await ctx.api.bans(ctx.signal);
      replace(list, data.map(item));
      note.textContent = data.length ? "" : "Nobody. Everyone may join your Spaces.";
      note.hidden = data.length > 0;
    } catch (err) {
      if (!isAbort(err)) note.textContent = err.message;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = input.value.trim().replace(/^@/, "");
    if (!username) return;
    try {
      await ctx.api.ban(username);
      input.value = "";
      ctx.announce(`@${username} can't join your Spaces.`);
      load();
    } catch (err) {
      ctx.announce(err.message, { error: true });
    }
  });
  load();
  return [form, list, note];
}

export function settingsPage(ctx) {
  ctx.setTitle("Settings");
  const me = ctx.session.me;
  return h(
    "section",
    { class: "page" },
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Settings")),
    h(
      "section",
      { class: "card settings-section", "aria-labelledby": "settings-profile" },
      h("h2", { id: "settings-profile" }, "Profile"),
      h(
        "p",
        { class: "muted" },
        "Signed in as ",
        h("a", { href: profilePath(me.username) }, `@${me.username}`),
      ),
      profileEditor(ctx, { onSaved: (user) => ctx.session.setMe(user) }),
    ),
    h(
      "section",
      { class: "card settings-section", "aria-labelledby": "settings-appearance" },
      h("h2", { id: "settings-appearance" }, "Appearance"),
      themeChoice(ctx.signal),
    ),
    h(
      "section",
      { class: "card settings-section", "aria-labelledby": "settings-bans" },
      h("h2", { id: "settings-bans" }, "Kept out of your Spaces"),
      banList(ctx),
    ),
  );
}
