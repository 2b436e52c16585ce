/**
 * /moderation (admins): the queue of open reports, newest first, each with the
 * actions that fit what it is about (remove the post, suspend the account, end
 * the Space, or dismiss), and the audit log of every moderation action.
 */

import { isAbort } from "../api.js";
import { h } from "../dom.js";
import { confirmDialog } from "../components/dialog.js";
import { pagedList } from "../components/feed.js";
import { profilePath, timeAgo } from "../components/post.js";
import { REPORT_REASONS } from "../components/report-dialog.js";

const REASON_TEXT = Object.fromEntries(REPORT_REASONS);
const TYPE_TEXT = { user: "Account", post: "Post", space: "Space" };

function who(summary, fallbackId) {
  return summary
    ? h("a", { href: profilePath(summary.username) }, `@${summary.username}`)
    : `user ${fallbackId}`;
}

function reportItem(ctx, report, onActed) {
  const { target } = report;
  const status = h("p", { class: "field-hint", role: "status" });
  const node = h("article", { class: "card report", "data-report-id": report.id });

  /** Runs one action; on success the report leaves the queue. */
  async function act(button, work, done, confirm = null) {
    if (confirm && !(await confirmDialog({ ...confirm, danger: true }))) return;
    button.disabled = true;
    try {
      await work();
      ctx.announce(done);
      node.closest("li")?.remove();
      onActed();
    } catch (err) {
      status.textContent = err.message;
      button.disabled = false;
    }
  }

  function action(label, work, done, { danger = false, confirm = null } = {}) {
    const button = h(
      "button",
      { type: "button", class: danger ? "btn btn-danger btn-small" : "btn btn-secondary btn-small" },
      label,
    );
    button.addEventListener("click", () => act(button, work, done, confirm));
    return button;
  }

  const api = ctx.api;
  const owner = target.owner_id;
  const suspendOwner = (label) =>
    action(
      label,
      async () => {
        await api.suspendUser(owner, `report ${report.id}: ${report.reason}`, null);
        await api.resolveReport(report.id).catch(() => {}); // settled by the suspension
      },
      "Account suspended: logged out everywhere, live Space ended.",
      {
        danger: true,
        confirm: {
          title: "Suspend this account?",
          message: "They are logged out everywhere, their live Space ends and they cannot log in.",
          confirmLabel: "Suspend",
        },
      },
    );
  const actions = [];
  if (target.exists && target.type === "post") {
    actions.push(
      action("Remove post", () => api.removePost(target.id, report.id), "Post removed.", {
        danger: true,
      }),
    );
  }
  if (target.exists && target.type === "space") {
    actions.push(
      action("End Space", () => api.adminEndSpace(target.id, report.id), "Space ended.", {
        danger: true,
      }),
    );
  }
  if (target.exists && owner) {
    actions.push(suspendOwner(target.type === "user" ? "Suspend account" : "Suspend owner"));
  }
  actions.push(action("Resolve", () => api.resolveReport(report.id), "Report resolved."));
  actions.push(action("Dismiss", () => api.dismissReport(report.id), "Report dismissed."));

  node.append(
    h(
      "header",
      { class: "report-head" },
      h("span", { class: "chip" }, TYPE_TEXT[target.type] ?? target.type),
      h("strong", {}, REASON_TEXT[report.reason] ?? report.reason),
      h("span", { class: "sep", "aria-hidden": "true" }, "·"),
      timeAgo(report.created_at),
    ),
    h(
      "p",
      { class: "report-target" },
      target.exists
        ? target.type === "space"
          ? h("a", { href: `/s/${target.id}` }, target.label)
          : target.label
        : h("em", {}, "Already gone."),
    ),
    report.note ? h("p", { class: "report-note" }, "Note: ", report.note) : null,
    h("p", { class: "small muted" }, "Reported by ", who(report.reporter, report.reporter_id)),
    h("div", { class: "notice-actions report-actions" }, actions),
    status,
  );
  return node;
}

function logItem(entry) {
  const detail = entry.detail ?? {};
  const what = detail.username ? `@${detail.username}` : (detail.title ?? detail.text ?? "");
  return h(
    "article",
    { class: "log-entry", "data-log-id": entry.id },
    h("strong", {}, entry.action),
    " ",
    h("span", {}, `${entry.target_type} ${entry.target_id}`),
    what ? h("span", { class: "muted" }, ` (${String(what).slice(0, 80)})`) : null,
    " by ",
    entry.actor ? `@${entry.actor.username}` : "the townhall command",
    " · ",
    timeAgo(entry.created_at),
  );
}

export function moderationPage(ctx) {
  ctx.setTitle("Moderation");
  const queue = pagedList({
    load: (cursor, signal) => ctx.api.adminReports("open", cursor, signal),
    renderItem: (report) => reportItem(ctx, report, () => auditLog.reload()),
    label: "Open reports",
    empty: "No open reports. All clear.",
    signal: ctx.signal,
  });
  const auditLog = pagedList({
    load: (cursor, signal) => ctx.api.auditLog(cursor, signal),
    renderItem: logItem,
    label: "Audit log",
    empty: "No moderation actions yet.",
    signal: ctx.signal,
  });
  const denied = h("p", { class: "notice", role: "alert", hidden: true });
  const sections = h(
    "div",
    {},
    h(
      "section",
      { class: "moderation-queue", "aria-labelledby": "moderation-queue-title" },
      h("h2", { id: "moderation-queue-title", class: "section-title" }, "Open reports"),
      queue.node,
    ),
    h(
      "section",
      { class: "moderation-log", "aria-labelledby": "moderation-log-title" },
      h("h2", { id: "moderation-log-title", class: "section-title" }, "Audit log"),
      auditLog.node,
    ),
  );
  ctx.api.adminStatus(ctx.signal).then(
    ({ is_admin: admin }) => {
      if (admin) return;
      sections.hidden = true;
      denied.textContent = "Only the server's admins can see this page.";
      denied.hidden = false;
    },
    (err) => {
      if (!isAbort(err)) ctx.announce(err.message, { error: true });
    },
  );
  return h(
    "section",
    { class: "page" },
    h("header", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Moderation")),
    denied,
    sections,
  );
}
