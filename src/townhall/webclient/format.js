/** Text helpers: character counts as people count them, and times as people read them. */

/** Code points, as the server counts post length (an emoji is one character). */
export function charCount(text) {
  return [...text].length;
}

const MINUTE_S = 60;
const HOUR_S = 60 * MINUTE_S;
const DAY_S = 24 * HOUR_S;
const WEEK_S = 7 * DAY_S;

/** "now", "5m", "3h", "2d", then a date: short enough to sit beside a name. */
export function relativeTime(iso, nowMs = Date.now()) {
  const then = new Date(iso);
  const seconds = Math.round((nowMs - then.getTime()) / 1000);
  if (Number.isNaN(seconds)) return "";
  if (seconds < 45) return "now";
  if (seconds < HOUR_S) return `${Math.max(1, Math.round(seconds / MINUTE_S))}m`;
  if (seconds < DAY_S) return `${Math.floor(seconds / HOUR_S)}h`;
  if (seconds < WEEK_S) return `${Math.floor(seconds / DAY_S)}d`;
  const sameYear = then.getFullYear() === new Date(nowMs).getFullYear();
  return then.toLocaleDateString(undefined, {
    month: "short",
    day: "numeric",
    year: sameYear ? undefined : "numeric",
  });
}

export function fullTime(iso) {
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return "";
  return then.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
}

export function plural(count, one, many) {
  return count === 1 ? one : many;
}

/** The name to show for a user: their display name, or their username when they set none. */
export function displayName(user) {
  return user?.display_name?.trim() ? user.display_name : (user?.username ?? "Unknown");
}
