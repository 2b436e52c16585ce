/** A user's picture, or a coloured circle with their initial when they have none. */

import { h } from "../dom.js";
import { displayName } from "../format.js";

const HUES = [262, 200, 150, 25, 330, 45, 180, 290];

function hueFor(key) {
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return HUES[hash % HUES.length];
}

/** Only our own media paths or http(s) URLs become an <img src>. */
function safeImageUrl(url) {
  if (typeof url !== "string" || !url) return null;
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function initialCircle(user, size) {
  const initial = [...displayName(user).trim()][0]?.toUpperCase() ?? "?";
  const circle = h(
    "span",
    { class: `avatar avatar-${size} avatar-initial`, "aria-hidden": "true" },
    initial,
  );
  // Through the CSSOM, not a style attribute: the Content-Security-Policy allows no inline style.
  circle.style.setProperty("--avatar-hue", String(hueFor(user?.username ?? "?")));
  return circle;
}

/** Decorative: the name is always shown beside it, so it has empty alt text. */
export function avatar(user, size = "md") {
  const src = safeImageUrl(user?.avatar_url);
  if (!src) return initialCircle(user, size);
  const img = h("img", {
    class: `avatar avatar-${size}`,
    src,
    alt: "",
    loading: "lazy",
    decoding: "async",
  });
  img.addEventListener("error", () => img.replaceWith(initialCircle(user, size)), { once: true });
  return img;
}
