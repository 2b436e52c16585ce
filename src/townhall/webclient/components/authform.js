/** The log-in and sign-up forms: labelled fields, the server's error shown inline. */

import { h, uid } from "../dom.js";

function input({ label, name, type = "text", autocomplete, hint, required = true, extra = {} }) {
  const id = uid(name);
  const hintId = hint ? uid(`${name}-hint`) : null;
  return {
    name,
    node: h(
      "div",
      { class: "field" },
      h("label", { for: id }, label),
      h("input", {
        id,
        name,
        type,
        autocomplete,
        required,
        "aria-describedby": hintId,
        ...extra,
      }),
      hint ? h("p", { id: hintId, class: "field-hint" }, hint) : null,
    ),
  };
}

/**
 * fields: "login" or "signup"; submit(values) -> Promise<user>; onDone(user)
 * runs after success. Server errors (wrong password, taken username, ...) are
 * shown above the button exactly as the server worded them.
 */
export function authForm({ kind, submit, onDone }) {
  const signup = kind === "signup";
  const fields = [
    input({
      label: "Username",
      name: "username",
      autocomplete: "username",
      hint: signup ? "1 to 15 letters, digits or underscores." : null,
      extra: { maxlength: 15, autocapitalize: "none", spellcheck: "false", "data-autofocus": "" },
    }),
    signup
      ? input({
          label: "Display name",
          name: "display_name",
          autocomplete: "name",
          required: false,
          hint: "Optional. Shown instead of your username.",
        })
      : null,
    input({
      label: "Password",
      name: "password",
      type: "password",
      autocomplete: signup ? "new-password" : "current-password",
      hint: signup ? "At least 8 characters." : null,
    }),
  ].filter(Boolean);
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const label = signup ? "Create account" : "Log in";
  const button = h("button", { type: "submit", class: "btn btn-primary btn-wide" }, label);

  async function onSubmit(event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const values = {};
    for (const field of fields) {
      const value = String(data.get(field.name) ?? "");
      if (field.name !== "display_name" || value.trim()) values[field.name] = value;
    }
    button.disabled = true;
    button.textContent = signup ? "Creating account…" : "Logging in…";
    error.hidden = true;
    try {
      onDone(await submit(values));
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      button.disabled = false;
      button.textContent = label;
    }
  }

  return h(
    "form",
    { class: "auth-form", onsubmit: onSubmit },
    fields.map((field) => field.node),
    error,
    button,
  );
}
