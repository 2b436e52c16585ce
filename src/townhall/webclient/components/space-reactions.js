/**
 * Reactions: a bar of the Space's emoji (hands in a chosen skin tone) and a
 * layer where everyone's reactions float up. The layer is decorative: with
 * reduced motion an emoji appears briefly in place instead of rising.
 */

import { h, uid } from "../dom.js";

export const REACTIONS = [
  ["💜", "purple heart"],
  ["😂", "laughing"],
  ["😲", "astonished"],
  ["😢", "crying"],
  ["💯", "hundred points"],
  ["👏", "clapping"],
  ["✋", "raised hand"],
  ["👍", "thumbs up"],
  ["👎", "thumbs down"],
  ["🔥", "fire"],
  ["🙏", "folded hands"],
  ["👋", "waving"],
];
const TONED = new Set(["👏", "✋", "👍", "👎", "🙏", "👋"]);
const SKIN_TONES = [
  ["", "Default"],
  ["\u{1F3FB}", "Light"],
  ["\u{1F3FC}", "Medium-light"],
  ["\u{1F3FD}", "Medium"],
  ["\u{1F3FE}", "Medium-dark"],
  ["\u{1F3FF}", "Dark"],
];
const TONE_KEY = "townhall.skinTone";
/** The server allows 5 a second per person; the bar keeps under that itself. */
const SEND_PER_SECOND = 5;
const FLOAT_MS = 2600;
const STILL_MS = 1400;
/** A burst from a big audience shows this many at once; the rest are skipped. */
const MAX_FLOATING = 40;

function savedTone() {
  try {
    return localStorage.getItem(TONE_KEY) ?? "";
  } catch {
    return "";
  }
}

function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/** The layer the emoji float in; put it over the stage. */
export function reactionLayer() {
  const node = h("div", { class: "reaction-layer", "aria-hidden": "true" });
  return {
    node,
    /** Floats one emoji; `from` is an element to rise from (a speaker's tile), if any. */
    show(emoji, from = null) {
      if (node.childElementCount >= MAX_FLOATING) return;
      const still = reducedMotion();
      const box = node.getBoundingClientRect();
      let x = 10 + Math.random() * 80;
      if (from && box.width) {
        const at = from.getBoundingClientRect();
        // A little jitter, so a burst from one speaker fans out instead of stacking.
        x = ((at.left + at.width / 2 - box.left) / box.width) * 100 + (Math.random() - 0.5) * 8;
      }
      const drift = Math.round((Math.random() - 0.5) * 60);
      const bubble = h(
        "span",
        {
          class: still ? "reaction-float still" : "reaction-float",
          "data-emoji": emoji,
        },
        emoji,
      );
      // The CSSOM, not a style attribute: the Content-Security-Policy allows no inline style.
      bubble.style.setProperty("left", `${Math.min(92, Math.max(4, x))}%`);
      bubble.style.setProperty("--drift", `${drift}px`);
      node.append(bubble);
      // A timer rather than animationend: with reduced motion there is no animation.
      setTimeout(() => bubble.remove(), still ? STILL_MS : FLOAT_MS);
    },
  };
}

/** onReact(emoji) sends it; returns the bar. */
export function reactionBar({ onReact }) {
  let tone = savedTone();
  const sent = [];
  const buttons = REACTIONS.map(([emoji, name]) => {
    const button = h(
      "button",
      { type: "button", class: "reaction-button", "aria-label": `React with ${name}`, title: name },
      emoji,
    );
    button.addEventListener("click", () => {
      const now = performance.now();
      while (sent.length && now - sent[0] > 1000) sent.shift();
      if (sent.length >= SEND_PER_SECOND) return;
      sent.push(now);
      onReact(TONED.has(emoji) ? emoji + tone : emoji, button);
    });
    return { emoji, button };
  });

  function paintTone() {
    for (const { emoji, button } of buttons) {
      if (TONED.has(emoji)) button.textContent = emoji + tone;
    }
  }

  const toneId = uid("tone");
  const toneSelect = h(
    "select",
    { id: toneId, class: "tone-select" },
    SKIN_TONES.map(([value, label]) =>
      // The swatch alone keeps the picker small; the label names it for screen readers.
      h("option", { value, selected: value === tone, label: `✋${value}`, title: label }, label),
    ),
  );
  toneSelect.addEventListener("change", () => {
    tone = toneSelect.value;
    try {
      localStorage.setItem(TONE_KEY, tone);
    } catch {
      // Not remembered; still used on this page.
    }
    paintTone();
  });
  paintTone();

  return h(
    "div",
    { class: "reaction-bar", role: "group", "aria-label": "Reactions" },
    h(
      "div",
      { class: "reaction-buttons" },
      buttons.map((b) => b.button),
    ),
    h(
      "span",
      { class: "tone-picker" },
      h("label", { for: toneId, class: "visually-hidden" }, "Skin tone for hands"),
      toneSelect,
    ),
  );
}
