/**
 * A small menu button (WAI-ARIA menu button pattern): Enter/Space/ArrowDown
 * open it on the first item, arrows move, Escape closes and returns focus.
 * items() returns the current entries: [{label, onSelect, danger?}].
 */

import { h } from "../dom.js";
import { icon } from "./icons.js";

export function menuButton({ label, items }) {
  const menu = h("div", { class: "menu", role: "menu", hidden: true, "aria-label": label });
  const button = h(
    "button",
    {
      type: "button",
      class: "btn btn-icon",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-label": label,
      title: label,
    },
    icon("more", 20),
  );

  const entries = () => [...menu.querySelectorAll("[role=menuitem]")];

  function close({ focusButton = false } = {}) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", onOutside, true);
    if (focusButton) button.focus();
  }

  function open(focusLast = false) {
    menu.replaceChildren(
      ...items().map((item) =>
        h(
          "button",
          {
            type: "button",
            role: "menuitem",
            tabindex: "-1",
            class: item.danger ? "menu-item danger" : "menu-item",
            onclick: () => {
              close({ focusButton: true });
              item.onSelect();
            },
          },
          item.label,
        ),
      ),
    );
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", onOutside, true);
    const all = entries();
    (focusLast ? all.at(-1) : all[0])?.focus();
  }

  function onOutside(event) {
    if (!menu.contains(event.target) && !button.contains(event.target)) close();
  }

  button.addEventListener("click", () => (menu.hidden ? open() : close()));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      open(event.key === "ArrowUp");
    }
  });
  menu.addEventListener("keydown", (event) => {
    const all = entries();
    const index = all.indexOf(document.activeElement);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: all.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      all[(moves[event.key] + all.length) % all.length]?.focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      close({ focusButton: true });
    } else if (event.key === "Tab") {
      close();
    }
  });

  return h("div", { class: "menu-wrap" }, button, menu);
}
