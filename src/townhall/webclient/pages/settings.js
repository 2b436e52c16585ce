/** /settings: your profile, the theme, and logging out. */

import { h, uid } from "../dom.js";
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
  );
}
