/**
 * Light and dark themes. "system" follows prefers-color-scheme; a choice made
 * with the toggle is kept in localStorage. theme-boot.js applies it before
 * first paint; this module changes it afterwards.
 */

const STORAGE_KEY = "townhall.theme";
const DARK_QUERY = "(prefers-color-scheme: dark)";

export function storedTheme() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

export function effectiveTheme() {
  const stored = storedTheme();
  if (stored !== "system") return stored;
  return window.matchMedia(DARK_QUERY).matches ? "dark" : "light";
}

export function setTheme(choice) {
  try {
    if (choice === "system") localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // Private mode may refuse storage: the theme still changes for this page.
  }
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  window.dispatchEvent(new CustomEvent("townhall:theme"));
}

/** Calls back when the effective theme may change (toggle or OS setting) until signal aborts. */
export function onThemeChange(callback, { signal } = {}) {
  window.addEventListener("townhall:theme", callback, { signal });
  window.matchMedia(DARK_QUERY).addEventListener("change", callback, { signal });
}
