/**
 * Invite someone to the stage: pick from your followers, or type a username.
 * The invitee gets a notification and, if they are in the Space, a banner.
 */

import { isAbort } from "../api.js";
import { h, replace, uid } from "../dom.js";
import { displayName } from "../format.js";
import { avatar } from "./avatar.js";
import { modal } from "./dialog.js";

export function openInviteDialog(room) {
  const { ctx } = room;
  const iAmHost = room.me()?.role === "host";
  const controller = new AbortController();
  const roleName = uid("invite-role");
  const roles = h(
    "fieldset",
    { class: "radio-group" },
    h("legend", {}, "Invite as"),
    [
      ["speaker", "Speaker"],
      ["cohost", "Co-host"],
    ]
      .filter(([value]) => value === "speaker" || iAmHost)
      .map(([value, label], i) => {
        const id = uid("invite-role-option");
        return h(
          "label",
          { class: "radio", for: id },
          h("input", { type: "radio", id, name: roleName, value, checked: i === 0 }),
          " ",
          label,
        );
      }),
  );
  const role = () => roles.querySelector("input:checked")?.value ?? "speaker";
  const status = h("p", { class: "field-hint", role: "status" });
  const usernameId = uid("invite-username");
  const username = h("input", {
    id: usernameId,
    name: "username",
    autocomplete: "off",
    autocapitalize: "none",
    spellcheck: "false",
    maxlength: 15,
    placeholder: "username",
    "data-autofocus": "",
  });
  const byName = h(
    "form",
    { class: "invite-by-name" },
    h("label", { for: usernameId }, "Username"),
    h(
      "div",
      { class: "inline-field" },
      username,
      h("button", { type: "submit", class: "btn btn-primary" }, "Invite"),
    ),
  );
  const followers = h("ul", { class: "invite-list", "aria-label": "Your followers" });
  const followersNote = h("p", { class: "feed-note small" }, "Loading your followers…");

  async function invite(user, button) {
    if (button) button.disabled = true;
    try {
      await ctx.api.invite(room.id, user.id, role());
      const label = role() === "cohost" ? "co-host" : "speak";
      status.textContent = `Invited @${user.username} to ${label}.`;
      if (button) button.textContent = "Invited";
      return true;
    } catch (err) {
      status.textContent = err.message;
      if (button) button.disabled = false;
      return false;
    }
  }

  byName.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = username.value.trim().replace(/^@/, "");
    if (!name) return;
    try {
      const user = await ctx.api.user(name, controller.signal);
      if (await invite(user, null)) username.value = "";
    } catch (err) {
      if (!isAbort(err)) status.textContent = err.message;
    }
  });

  async function loadFollowers() {
    try {
      const page = await ctx.api.followers(ctx.session.me.username, null, controller.signal);
      const present = new Set(
        room
          .sorted()
          .filter((p) => p.role !== "listener")
          .map((p) => p.user_id),
      );
      const people = page.data.filter((user) => !present.has(user.id));
      followersNote.textContent = people.length ? "" : "None of your followers to invite yet.";
      followersNote.hidden = people.length > 0;
      replace(
        followers,
        people.map((user) => {
          const button = h(
            "button",
            {
              type: "button",
              class: "btn btn-secondary btn-small",
              "aria-label": `Invite @${user.username}`,
            },
            "Invite",
          );
          button.addEventListener("click", () => invite(user, button));
          return h(
            "li",
            { class: "invite-person" },
            avatar(user, "sm"),
            h(
              "span",
              { class: "person-info" },
              h("span", { class: "person-name" }, displayName(user)),
              h("span", { class: "handle" }, `@${user.username}`),
            ),
            button,
          );
        }),
      );
    } catch (err) {
      if (!isAbort(err)) followersNote.textContent = err.message;
    }
  }

  const dialog = modal({
    title: "Invite to the stage",
    className: "dialog-invite",
    body: h(
      "div",
      { class: "dialog-form" },
      roles,
      byName,
      h("h3", { class: "dialog-subtitle" }, "Your followers"),
      followers,
      followersNote,
      status,
    ),
    onClose: () => controller.abort(),
  });
  dialog.open();
  loadFollowers();
}
