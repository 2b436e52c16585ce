/** Who is who in a Space: names for participants, role labels, stage order. */

import { h } from "../dom.js";
import { displayName } from "../format.js";

export const ROLE_LABEL = {
  host: "Host",
  cohost: "Co-host",
  speaker: "Speaker",
  listener: "Listener",
};
const STAGE_ORDER = { host: 0, cohost: 1, speaker: 2, listener: 3 };
const SHORT_ID_CHARS = 4;

export function isOnStage(participant) {
  return participant.role !== "listener";
}

export function isModerator(participant) {
  return participant?.role === "host" || participant?.role === "cohost";
}

/**
 * The user behind a participant. Participants embed `user`; should one not,
 * a short id stands in so the room still renders.
 */
export function userOf(participant) {
  if (participant.user) return participant.user;
  const id = String(participant.user_id ?? "");
  return { id, username: null, display_name: `User …${id.slice(-SHORT_ID_CHARS)}` };
}

/** "Ada (@ada)" for menus and announcements; the short id when that is all we know. */
export function nameOf(user) {
  const name = displayName(user);
  return user.username && name !== user.username ? `${name} (@${user.username})` : name;
}

/** Just the @handle when there is one (buttons' accessible names stay short). */
export function handleOf(user) {
  return user.username ? `@${user.username}` : displayName(user);
}

/** Host, co-hosts, speakers, then listeners; earlier arrivals first within each. */
export function compareParticipants(a, b) {
  const byRole = STAGE_ORDER[a.role] - STAGE_ORDER[b.role];
  if (byRole) return byRole;
  return String(a.joined_at).localeCompare(String(b.joined_at));
}

export function roleBadge(role) {
  return h("span", { class: `role-badge role-${role}` }, ROLE_LABEL[role] ?? role);
}
