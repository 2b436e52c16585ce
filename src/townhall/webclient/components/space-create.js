/**
 * "Start a Space": a dialog that creates a Space live at once, or scheduled
 * for later when a start time is given (at most 30 days ahead, as the server
 * allows).
 */

import { h, uid } from "../dom.js";
import { modal } from "./dialog.js";

export const TITLE_MAX_CHARS = 70;
const MAX_TOPICS = 10;
const SCHEDULE_AHEAD_DAYS = 30;
const DEFAULT_LEAD_MS = 60 * 60 * 1000;

export const WHO_CAN_SPEAK = [
  ["everyone", "Everyone"],
  ["followed", "People you follow"],
  ["invited", "Only people you invite"],
];

/** "2024-05-01T18:30" in local time, the format of <input type=datetime-local>. */
function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

function field(label, input, hint) {
  const hintId = hint ? uid("hint") : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: input.id }, label),
    input,
    hint ? h("p", { id: hintId, class: "field-hint" }, hint) : null,
  );
}

/** onCreated(space) runs with the server's Space once it exists. */
export function openCreateSpaceDialog(ctx, { onCreated }) {
  const title = h("input", {
    id: uid("space-title"),
    name: "title",
    maxlength: TITLE_MAX_CHARS,
    required: true,
    autocomplete: "off",
    "data-autofocus": "",
  });
  const radioName = uid("who");
  const who = h(
    "fieldset",
    { class: "radio-group" },
    h("legend", {}, "Who can speak"),
    WHO_CAN_SPEAK.map(([value, label], i) => {
      const id = uid("who-option");
      return h(
        "label",
        { class: "radio", for: id },
        h("input", { type: "radio", id, name: radioName, value, checked: i === 0 }),
        " ",
        label,
      );
    }),
  );
  const recordId = uid("record");
  const record = h("input", { type: "checkbox", id: recordId, name: "recording" });
  const scheduleId = uid("schedule");
  const schedule = h("input", { type: "checkbox", id: scheduleId, name: "schedule" });
  const now = new Date();
  const start = h("input", {
    type: "datetime-local",
    id: uid("start"),
    name: "scheduled_start",
    min: localInputValue(now),
    max: localInputValue(new Date(now.getTime() + SCHEDULE_AHEAD_DAYS * 86_400_000)),
    value: localInputValue(new Date(now.getTime() + DEFAULT_LEAD_MS)),
  });
  const startField = field("Start time", start, "Your local time, up to 30 days ahead.");
  startField.hidden = true;
  const topics = h("input", { id: uid("topics"), name: "topics", autocomplete: "off" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Start now");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");

  schedule.addEventListener("change", () => {
    startField.hidden = !schedule.checked;
    start.required = schedule.checked;
    submit.textContent = schedule.checked ? "Schedule" : "Start now";
  });

  const form = h(
    "form",
    { class: "dialog-form", novalidate: false },
    field("Title", title, `What's it about? Up to ${TITLE_MAX_CHARS} characters.`),
    who,
    h("label", { class: "check", for: recordId }, record, " Record it (replay and clips afterwards)"),
    h("label", { class: "check", for: scheduleId }, schedule, " Schedule for later"),
    startField,
    field("Topics (optional)", topics, `Separate with commas, up to ${MAX_TOPICS}.`),
    error,
    h("div", { class: "form-actions" }, cancel, submit),
  );
  const dialog = modal({ title: "Start a Space", body: form });
  cancel.addEventListener("click", () => dialog.close());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const body = {
      title: title.value.trim(),
      who_can_speak: form.querySelector(`input[name="${radioName}"]:checked`)?.value ?? "everyone",
      recording: record.checked,
      topic_ids: topics.value
        .split(",")
        .map((topic) => topic.trim())
        .filter(Boolean)
        .slice(0, MAX_TOPICS),
    };
    if (!body.title) {
      error.textContent = "Give your Space a title.";
      error.hidden = false;
      title.focus();
      return;
    }
    if (schedule.checked) {
      const when = new Date(start.value);
      if (Number.isNaN(when.getTime())) {
        error.textContent = "Pick a start time.";
        error.hidden = false;
        start.focus();
        return;
      }
      body.scheduled_start = when.toISOString();
    }
    const label = submit.textContent;
    submit.disabled = true;
    submit.textContent = schedule.checked ? "Scheduling…" : "Starting…";
    try {
      const space = await ctx.api.createSpace(body);
      dialog.close("created");
      onCreated(space);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = label;
    }
  });

  dialog.open();
  return dialog;
}
