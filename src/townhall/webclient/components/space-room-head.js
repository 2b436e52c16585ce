/**
 * The room's header: state, how many are here, the connection, the title and
 * host, and Share / Leave / End. Share copies the absolute link, or shows it
 * in a field to copy by hand where the clipboard is refused.
 */

import { h, replace } from "../dom.js";
import { displayName, plural } from "../format.js";
import { avatar } from "./avatar.js";
import { icon } from "./icons.js";
import { openReportDialog } from "./report-dialog.js";
import { userOf } from "./space-people.js";

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};
const STATE_TEXT = { live: "Live", scheduled: "Scheduled", ended: "Ended" };
const COPIED_MS = 3000;

/** onShare, when given, replaces the plain copy-the-link Share (the share dialog). */
export function roomHeader(room, { onLeave, onEnd, onShare = null }) {
  const heading = h("h1", { tabindex: "-1", class: "room-title" }, "Loading Space…");
  const stateChip = h("span", { class: "state-chip" });
  const count = h("span", { class: "room-count" });
  const connText = h("span", { class: "conn-text" });
  const conn = h(
    "p",
    { class: "conn room-conn", role: "status", hidden: true },
    h("span", { class: "conn-dot", "aria-hidden": "true" }),
    h("span", { class: "visually-hidden" }, "Room connection: "),
    connText,
  );
  const hostLine = h("p", { class: "room-host" });
  const topics = h("p", { class: "room-topics" });
  const shareButton = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small" },
    icon("share", 16),
    "Share",
  );
  const copied = h("span", { class: "copied", role: "status" });
  const shareField = h("input", {
    readonly: true,
    class: "share-field",
    "aria-label": "Link to this Space",
    hidden: true,
  });
  const leaveButton = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small room-leave", hidden: true },
    "Leave",
  );
  const endButton = h(
    "button",
    { type: "button", class: "btn btn-danger btn-small room-leave", hidden: true },
    "End",
  );
  const reportButton = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small room-report", hidden: true },
    "Report",
  );
  reportButton.addEventListener("click", () =>
    openReportDialog(room.ctx, { type: "space", id: room.id, label: room.space?.title }),
  );
  let copiedTimer = null;

  async function share() {
    const url = new URL(room.space.share_url || `/s/${room.id}`, location.origin).href;
    clearTimeout(copiedTimer);
    try {
      await navigator.clipboard.writeText(url);
      shareField.hidden = true;
      copied.textContent = "Copied";
    } catch {
      shareField.value = url;
      shareField.hidden = false;
      shareField.focus();
      shareField.select();
      copied.textContent = "Copy the link below";
    }
    copiedTimer = setTimeout(() => {
      copied.textContent = "";
    }, COPIED_MS);
  }

  shareButton.addEventListener("click", () => (onShare ? onShare() : share()));
  leaveButton.addEventListener("click", onLeave);
  endButton.addEventListener("click", onEnd);

  const node = h(
    "header",
    { class: "page-head room-head" },
    h("div", { class: "room-status-row" }, stateChip, count, conn),
    heading,
    hostLine,
    topics,
    h(
      "div",
      { class: "room-actions" },
      shareButton,
      copied,
      leaveButton,
      endButton,
      reportButton,
    ),
    shareField,
  );

  return {
    node,
    heading,
    paintConnection(state) {
      conn.dataset.state = state;
      connText.textContent = CONNECTION_TEXT[state] ?? state;
    },
    paint() {
      const space = room.space;
      const me = room.me();
      heading.textContent = space.title;
      stateChip.dataset.state = space.state;
      replace(
        stateChip,
        space.state === "live" ? h("span", { class: "live-dot", "aria-hidden": "true" }) : null,
        STATE_TEXT[space.state] ?? space.state,
      );
      const n = space.participant_count;
      replace(count, icon("people", 16), ` ${n} ${plural(n, "person", "people")} here`);
      count.hidden = space.state !== "live";
      const hostParticipant = [...room.people.values()].find((p) => p.role === "host");
      const host = hostParticipant ? userOf(hostParticipant) : (space.host ?? null);
      replace(
        hostLine,
        host
          ? [
              avatar(host, "sm"),
              h("span", {}, "Hosted by ", h("strong", {}, displayName(host))),
              host.username ? h("span", { class: "handle" }, `@${host.username}`) : null,
            ]
          : null,
      );
      replace(
        topics,
        (space.topic_ids ?? []).map((topic) => h("span", { class: "chip" }, topic)),
      );
      const live = space.state === "live";
      conn.hidden = !room.myId || space.state === "ended";
      leaveButton.hidden = !(live && me && me.role !== "host");
      endButton.hidden = !(live && me?.role === "host");
      shareButton.hidden = space.state === "ended";
      // Anyone logged in may report a Space but their own.
      reportButton.hidden = !room.myId || space.creator_id === room.myId;
    },
  };
}
