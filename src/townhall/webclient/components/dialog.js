/**
 * Modal dialogs on the native <dialog> element: it traps focus, closes on
 * Escape and hides the page behind from assistive technology. Focus goes back
 * to whatever had it before the dialog opened.
 */

import { h, uid } from "../dom.js";
import { icon } from "./icons.js";

/**
 * Builds a dialog with a title and a close button; body is its content.
 * Returns {node, open(), close()}; onClose runs however it was closed.
 */
export function modal({ title, body, onClose, className = "" }) {
  const titleId = uid("dialog-title");
  const closeButton = h(
    "button",
    { type: "button", class: "btn btn-icon dialog-close", "aria-label": "Close" },
    icon("close", 20),
  );
  const dialog = h(
    "dialog",
    { class: `dialog ${className}`.trim(), "aria-labelledby": titleId },
    h("header", { class: "dialog-head" }, h("h2", { id: titleId }, title), closeButton),
    body,
  );
  let opener = null;

  closeButton.addEventListener("click", () => dialog.close());
  // A click on the backdrop lands on the dialog element itself, outside its box.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside =
      event.clientX >= box.left &&
      event.clientX <= box.right &&
      event.clientY >= box.top &&
      event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    onClose?.(dialog.returnValue);
    if (opener?.isConnected) opener.focus();
  });

  return {
    node: dialog,
    open() {
      opener = document.activeElement;
      document.body.append(dialog);
      dialog.showModal();
      (dialog.querySelector("[data-autofocus]") ?? closeButton).focus();
    },
    close(value = "") {
      if (dialog.open) dialog.close(value);
    },
  };
}

/** Asks before something that cannot be undone; resolves true when confirmed. */
export function confirmDialog({
  title,
  message,
  confirmLabel,
  cancelLabel = "Cancel",
  danger = false,
}) {
  return new Promise((resolve) => {
    let confirmed = false;
    const yes = h(
      "button",
      { type: "button", class: danger ? "btn btn-danger" : "btn btn-primary" },
      confirmLabel,
    );
    const no = h(
      "button",
      { type: "button", class: "btn btn-secondary", "data-autofocus": "" },
      cancelLabel,
    );
    const dialog = modal({
      title,
      className: "dialog-confirm",
      body: [
        h("p", { class: "dialog-text" }, message),
        h("div", { class: "form-actions" }, no, yes),
      ],
      onClose: () => resolve(confirmed),
    });
    yes.addEventListener("click", () => {
      confirmed = true;
      dialog.close("confirm");
    });
    no.addEventListener("click", () => dialog.close());
    dialog.open();
  });
}
