/**
 * Polls in a Space: moderators open one (2-4 options, 1 minute to a day),
 * participants vote once, and everyone watches the bars move as votes come in.
 * Results show once you voted, to the hosts, and when the poll has closed.
 */

import { h, uid } from "../dom.js";
import { plural } from "../format.js";
import { icon } from "./icons.js";
import { syncKeyed } from "./keyed-list.js";
import { isModerator } from "./space-people.js";

const MIN_OPTIONS = 2;
const MAX_OPTIONS = 4;
const OPTION_MAX_CHARS = 25;
const QUESTION_MAX_CHARS = 140;
const DURATIONS = [
  [300, "5 minutes"],
  [900, "15 minutes"],
  [3600, "1 hour"],
  [86_400, "24 hours"],
];
const DEFAULT_DURATION_S = 900;

export function pollIsOpen(poll, nowMs = Date.now()) {
  return poll.state === "open" && new Date(poll.closes_at).getTime() > nowMs;
}

function timeLeft(poll) {
  const seconds = Math.round((new Date(poll.closes_at).getTime() - Date.now()) / 1000);
  if (seconds < 60) return "less than a minute left";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} ${plural(minutes, "minute", "minutes")} left`;
  const hours = Math.round(minutes / 60);
  return `${hours} ${plural(hours, "hour", "hours")} left`;
}

function pollForm(room, onDone) {
  const questionId = uid("poll-question");
  const question = h("input", {
    id: questionId,
    maxlength: QUESTION_MAX_CHARS,
    required: true,
    autocomplete: "off",
  });
  const optionList = h("ol", { class: "poll-form-options" });
  const addOption = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small" },
    icon("plus", 16),
    "Add option",
  );
  const durationId = uid("poll-duration");
  const duration = h(
    "select",
    { id: durationId },
    DURATIONS.map(([value, label]) =>
      h("option", { value, selected: value === DEFAULT_DURATION_S }, label),
    ),
  );
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Start poll");
  const cancel = h("button", { type: "button", class: "btn btn-secondary" }, "Cancel");

  function optionInputs() {
    return [...optionList.querySelectorAll("input")];
  }

  function addOptionField(focus) {
    const n = optionInputs().length + 1;
    const id = uid("poll-option");
    const input = h("input", {
      id,
      maxlength: OPTION_MAX_CHARS,
      autocomplete: "off",
      required: n <= MIN_OPTIONS,
    });
    optionList.append(h("li", { class: "field" }, h("label", { for: id }, `Option ${n}`), input));
    addOption.hidden = n >= MAX_OPTIONS;
    if (focus) input.focus();
  }

  for (let i = 0; i < MIN_OPTIONS; i += 1) addOptionField(false);
  addOption.addEventListener("click", () => addOptionField(true));
  cancel.addEventListener("click", onDone);

  const form = h(
    "form",
    { class: "poll-form" },
    h("div", { class: "field" }, h("label", { for: questionId }, "Question"), question),
    optionList,
    addOption,
    h("div", { class: "field" }, h("label", { for: durationId }, "Poll length"), duration),
    error,
    h("div", { class: "form-actions" }, cancel, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const options = optionInputs()
      .map((input) => input.value.trim())
      .filter(Boolean);
    if (options.length < MIN_OPTIONS) {
      error.textContent = `A poll needs at least ${MIN_OPTIONS} options.`;
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    error.hidden = true;
    try {
      const poll = await room.ctx.api.openPoll(room.id, {
        question: question.value.trim(),
        options,
        duration_s: Number(duration.value),
      });
      room.upsertPoll(poll);
      room.ctx.announce("Your poll is open.");
      onDone();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return { node: form, focus: () => question.focus() };
}

/**
 * One option's row: a vote button while you can vote, else a result. Its bar,
 * percentage and count are updated in place, so a focused button keeps focus
 * while other people's votes come in.
 */
function optionRow(room, poll, index, canVote) {
  const bar = h("span", { class: "poll-bar", "aria-hidden": "true" });
  const text = h("span", { class: "poll-option-text" }, poll.options[index].text);
  const mine = h("span", { class: "poll-mine", hidden: true }, " · your vote");
  const pct = h("strong", {});
  const votes = h("span", { class: "visually-hidden" });
  const count = h("span", { class: "poll-option-count" }, pct, votes);
  const body = [bar, h("span", { class: "poll-option-label" }, text, mine), count];
  const row = canVote
    ? h(
        "button",
        {
          type: "button",
          class: "poll-option poll-vote",
          "aria-label": `Vote for ${poll.options[index].text}`,
          onclick: () => room.vote(poll, index),
        },
        body,
      )
    : h("div", { class: "poll-option" }, body);
  const item = h("li", {}, row);
  item.update = (next, total, showResults) => {
    const option = next.options[index];
    const share = total ? Math.round((option.votes * 100) / total) : 0;
    const chosen = next.my_vote === index;
    row.classList.toggle("mine", chosen);
    row.classList.toggle("with-results", showResults);
    mine.hidden = !chosen;
    bar.style.setProperty("--pct", showResults ? `${share}%` : "0%");
    count.hidden = !showResults;
    pct.textContent = `${share}%`;
    votes.textContent = `, ${option.votes} ${plural(option.votes, "vote", "votes")}`;
  };
  return item;
}

/** One poll: its question, a row per option, how many voted and how long is left. */
function pollNode(room) {
  const question = h("h3", { class: "poll-question", tabindex: "-1" });
  const options = h("ul", { class: "poll-results" });
  const total = h("span", { class: "poll-total" });
  const when = h("span", { class: "poll-when" });
  const node = h(
    "li",
    { class: "poll" },
    question,
    options,
    h("p", { class: "poll-meta" }, total, " · ", when),
  );
  let voting = null;
  node.update = (poll) => {
    const open = pollIsOpen(poll);
    const sum = poll.options.reduce((acc, option) => acc + option.votes, 0);
    const canVote = open && poll.my_vote === null && room.isParticipant();
    // Results once you voted (or can't), and always for the hosts running it.
    const showResults = !canVote || isModerator(room.me());
    node.dataset.pollId = poll.id;
    node.dataset.state = open ? "open" : "closed";
    question.textContent = poll.question;
    options.setAttribute(
      "aria-label",
      canVote && !showResults ? `Options: ${poll.question}` : `Results: ${poll.question}`,
    );
    if (canVote !== voting) {
      const hadFocus = options.contains(document.activeElement);
      options.replaceChildren(...poll.options.map((_, i) => optionRow(room, poll, i, canVote)));
      voting = canVote;
      if (hadFocus) question.focus();
    }
    for (const item of options.children) item.update(poll, sum, showResults);
    total.textContent = `${sum} ${plural(sum, "vote", "votes")}`;
    when.textContent = open ? timeLeft(poll) : "Final results";
  };
  return node;
}

export function pollsPanel(room) {
  const titleId = uid("polls-title");
  const list = h("ol", { class: "poll-list", "aria-labelledby": titleId });
  const empty = h("p", { class: "feed-note small" }, "No polls yet.");
  const formSlot = h("div", { class: "poll-form-slot" });
  const newPoll = h(
    "button",
    { type: "button", class: "btn btn-secondary btn-small", "aria-expanded": "false" },
    icon("poll", 16),
    "New poll",
  );

  function closeForm() {
    formSlot.replaceChildren();
    newPoll.setAttribute("aria-expanded", "false");
    newPoll.hidden = !canOpen();
    newPoll.focus();
  }

  function canOpen() {
    return isModerator(room.me()) && room.space.state === "live";
  }

  newPoll.addEventListener("click", () => {
    if (formSlot.childElementCount) return closeForm();
    const form = pollForm(room, closeForm);
    formSlot.replaceChildren(form.node);
    newPoll.setAttribute("aria-expanded", "true");
    newPoll.hidden = true;
    form.focus();
  });

  const node = h(
    "section",
    { class: "card room-polls", "aria-labelledby": titleId },
    h("div", { class: "section-head" }, h("h2", { id: titleId }, "Polls"), newPoll),
    formSlot,
    list,
    empty,
  );

  function paint() {
    const polls = room.pollList();
    syncKeyed(list, polls, {
      key: (poll) => poll.id,
      create: () => pollNode(room),
      update: (item, poll) => item.update(poll),
    });
    empty.hidden = polls.length > 0;
    if (!formSlot.childElementCount) newPoll.hidden = !canOpen();
    else if (!canOpen()) formSlot.replaceChildren();
  }

  return { node, paint };
}
