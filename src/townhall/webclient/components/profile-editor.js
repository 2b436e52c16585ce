/** Edit your display name, bio and picture (PATCH /me, PUT /me/avatar). */

import { h, uid } from "../dom.js";
import { charCount } from "../format.js";
import { avatar } from "./avatar.js";

const DISPLAY_NAME_MAX_CHARS = 50;
const BIO_MAX_CHARS = 160;
const AVATAR_MAX_BYTES = 2 * 1024 * 1024;
const AVATAR_TYPES = ["image/png", "image/jpeg", "image/webp"];

function field({ label, input, max }) {
  const count = h("span", { class: "counter", id: uid("count") });
  const update = () => {
    const used = charCount(input.value);
    count.textContent = `${used}/${max}`;
    count.dataset.state = used > max ? "over" : "ok";
  };
  input.setAttribute("aria-describedby", count.id);
  input.addEventListener("input", update);
  update();
  return h(
    "div",
    { class: "field" },
    h("div", { class: "field-head" }, h("label", { for: input.id }, label), count),
    input,
  );
}

function avatarPicker(ctx, onSaved) {
  const status = h("p", { class: "field-hint", role: "status" });
  const preview = h("span", { class: "avatar-preview" }, avatar(ctx.session.me, "lg"));
  const input = h("input", {
    type: "file",
    id: uid("avatar"),
    accept: AVATAR_TYPES.join(","),
    class: "visually-hidden",
  });
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    if (!AVATAR_TYPES.includes(file.type)) {
      status.textContent = "Choose a PNG, JPEG or WebP image.";
      return;
    }
    if (file.size > AVATAR_MAX_BYTES) {
      status.textContent = "That image is larger than 2 MB.";
      return;
    }
    status.textContent = "Uploading…";
    try {
      const user = await ctx.api.uploadAvatar(file);
      preview.replaceChildren(avatar(user, "lg"));
      status.textContent = "Picture updated.";
      onSaved(user);
    } catch (err) {
      status.textContent = err.message;
    }
  });
  return h(
    "div",
    { class: "avatar-picker" },
    preview,
    h(
      "div",
      {},
      input,
      h("label", { for: input.id, class: "btn btn-secondary file-label" }, "Change picture"),
      h("p", { class: "field-hint" }, "PNG, JPEG or WebP, up to 2 MB."),
      status,
    ),
  );
}

/**
 * onSaved(user) runs after each successful change (picture or fields); onDone
 * after Save succeeded; onCancel, if given, adds a Cancel button.
 */
export function profileEditor(ctx, { onSaved, onDone, onCancel }) {
  const me = ctx.session.me;
  const nameInput = h("input", {
    id: uid("display-name"),
    name: "display_name",
    autocomplete: "name",
    value: me.display_name ?? "",
  });
  const bioInput = h("textarea", { id: uid("bio"), name: "bio", rows: 3 });
  bioInput.value = me.bio ?? "";
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save");

  async function submit(event) {
    event.preventDefault();
    save.disabled = true;
    error.hidden = true;
    try {
      const user = await ctx.api.updateMe({ display_name: nameInput.value, bio: bioInput.value });
      ctx.announce("Profile saved.");
      onSaved(user);
      onDone?.();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  }

  return h(
    "form",
    { class: "profile-editor", onsubmit: submit, "aria-label": "Edit profile" },
    avatarPicker(ctx, onSaved),
    field({ label: "Display name", input: nameInput, max: DISPLAY_NAME_MAX_CHARS }),
    field({ label: "Bio", input: bioInput, max: BIO_MAX_CHARS }),
    error,
    h(
      "div",
      { class: "form-actions" },
      onCancel
        ? h("button", { type: "button", class: "btn btn-secondary", onclick: onCancel }, "Cancel")
        : null,
      save,
    ),
  );
}
