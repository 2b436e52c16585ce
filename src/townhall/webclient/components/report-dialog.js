/**
 * Report a user, a post or a Space to the server's admins: a reason from the
 * fixed list and an optional note. The admins see it in their Moderation queue.
 */

import { h, uid } from "../dom.js";
import { modal } from "./dialog.js";

export const REPORT_REASONS = [
  ["spam", "Spam"],
  ["harassment", "Harassment or bullying"],
  ["hate", "Hateful conduct"],
  ["violence", "Violence or threats"],
  ["sexual", "Sexual content"],
  ["self_harm", "Self-harm or suicide"],
  ["misinformation", "Misleading information"],
  ["other", "Something else"],
];

const WHAT = { user: "this account", post: "this post", space: "this Space" };

/** target: {type: "user"|"post"|"space", id, label}; resolves true once reported. */
export function openReportDialog(ctx, target) {
  return new Promise((resolve) => {
    let reported = false;
    const reasonId = uid("report-reason");
    const noteId = uid("report-note");
    const reason = h(
      "select",
      { id: reasonId, name: "reason", required: true, "data-autofocus": "" },
      REPORT_REASONS.map(([value, label]) => h("option", { value }, label)),
    );
    const note = h("textarea", { id: noteId, name: "note", rows: 3, maxlength: 1000 });
    const status = h("p", { class: "field-hint", role: "status" });
    const submit = h("button", { type: "submit", class: "btn btn-danger" }, "Report");
    const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");
    const form = h(
      "form",
      { class: "report-form" },
      target.label ? h("p", { class: "dialog-text report-target" }, target.label) : null,
      h("div", { class: "field" }, h("label", { for: reasonId }, "Why?"), reason),
      h(
        "div",
        { class: "field" },
        h("label", { for: noteId }, "Anything the admins should know? (optional)"),
        note,
      ),
      status,
      h("div", { class: "form-actions" }, cancel, submit),
    );
    const dialog = modal({
      title: `Report ${WHAT[target.type] ?? "this"}`,
      className: "dialog-report",
      body: form,
      onClose: () => resolve(reported),
    });
    cancel.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        await ctx.api.report(target.type, target.id, reason.value, note.value.trim());
        reported = true;
        ctx.announce("Thanks. The admins will look at your report.");
        dialog.close("reported");
      } catch (err) {
        status.textContent = err.message;
        submit.disabled = false;
      }
    });
    dialog.open();
  });
}
