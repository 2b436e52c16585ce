/**
 * What the room knows about its Space, and how each event of the Space's
 * stream changes it. The page owns the stream and the painting; this module
 * owns the state, so applying events to what was fetched gives what a fresh
 * fetch would (docs/events.md).
 */

import {
  compareParticipants,
  isModerator,
  isOnStage,
  nameOf,
  ROLE_LABEL,
  userOf,
} from "./space-people.js";

const MY_NEW_ROLE = {
  host: "You're the host.",
  cohost: "You're a co-host now.",
  speaker: "You're a speaker now. You're muted until you unmute.",
  listener: "You moved to the listeners.",
};

/** A participant from an event's data, keeping who they are if the event does not say. */
export function participantFrom(data, previous) {
  const { participant_count: _count, actor_id: _actor, ...fields } = data;
  return { ...previous, ...fields, user: fields.user ?? previous?.user ?? null };
}

/**
 * The room's state. onChange() asks the page to repaint after an action
 * changed it here (the matching event will arrive too and change nothing).
 */
export function createRoom(ctx, id, { onChange }) {
  const myId = ctx.session.me?.id ?? null;
  return {
    ctx,
    id,
    myId,
    space: null,
    people: new Map(),
    polls: new Map(),
    pinned: new Map(),
    shared: [],
    /** {role, actorId} while you hold an invitation to the stage. */
    invite: null,
    /** {blocked} once a host removed you. */
    removed: null,
    /** Why joining was refused (blocked, banned), to show instead of a Join button. */
    joinError: null,

    me() {
      return myId ? (this.people.get(myId) ?? null) : null;
    },
    isParticipant() {
      return Boolean(this.me());
    },
    sorted() {
      return [...this.people.values()].sort(compareParticipants);
    },
    pollList() {
      return [...this.polls.values()].sort((a, b) =>
        String(b.id).localeCompare(String(a.id), undefined, { numeric: true }),
      );
    },
    upsert(participant) {
      const previous = this.people.get(participant.user_id);
      this.people.set(participant.user_id, participantFrom(participant, previous));
    },
    /** Polls from events carry no my_vote; yours is kept from what you fetched or cast. */
    setPoll(poll) {
      const previous = this.polls.get(poll.id);
      this.polls.set(poll.id, { ...poll, my_vote: previous?.my_vote ?? poll.my_vote ?? null });
    },
    /** Runs an action; says success out loud, or the server's reason it failed. */
    async act(run, success) {
      try {
        const result = await run();
        if (success) ctx.announce(success);
        return result;
      } catch (err) {
        ctx.announce(err.message, { error: true });
        return undefined;
      }
    },
    async vote(poll, option) {
      try {
        await ctx.api.vote(id, poll.id, option);
        const current = this.polls.get(poll.id) ?? poll;
        const options = current.options.map((o, i) =>
          i === option && current.my_vote === null ? { ...o, votes: o.votes + 1 } : o,
        );
        // The poll.updated event brings the real tally; this shows the vote at once.
        this.polls.set(poll.id, { ...current, options, my_vote: option });
        onChange();
        ctx.announce(`You voted for ${poll.options[option].text}.`);
      } catch (err) {
        ctx.announce(err.message, { error: true });
      }
    },
    upsertPoll(poll) {
      this.setPoll(poll);
      onChange();
    },
    addPin(post) {
      this.pinned.set(post.id, post);
      onChange();
    },
    removePin(postId) {
      this.pinned.delete(postId);
      onChange();
    },
    addShared(post) {
      if (this.shared.some((p) => p.id === post.id)) return;
      this.shared = [post, ...this.shared];
      onChange();
    },
  };
}

function applyParticipant(room, frame, { announce, say }) {
  const data = frame.data;
  const previous = room.people.get(data.user_id);
  room.upsert(data);
  const now = room.people.get(data.user_id);
  const name = nameOf(userOf(now));
  const isMe = data.user_id === room.myId;
  if (frame.type === "participant.role_changed") {
    if (isMe) {
      room.invite = null;
      announce(MY_NEW_ROLE[now.role] ?? `You're now a ${now.role}.`);
    } else {
      say(`${name} is now ${ROLE_LABEL[now.role]?.toLowerCase() ?? now.role}.`);
    }
  } else if (frame.type === "participant.muted") {
    if (isMe && data.actor_id && data.actor_id !== room.myId) announce("A host muted you.");
    else if (!isMe) say(`${name} is muted.`);
  } else if (frame.type === "participant.unmuted") {
    if (!isMe) say(`${name} unmuted.`);
  } else if (frame.type === "participant.joined" && !previous && isOnStage(now) && !isMe) {
    say(`${name} joined the stage.`);
  }
}

/**
 * Applies one frame. effects: announce(text) for what concerns you (a toast),
 * say(text) for quieter changes (screen readers only), react(item) for a
 * reaction, speaking({user_id, level}) while someone talks, caption({user_id,
 * text, final, offset_ms}), started() /
 * ended() / leftUnasked() for the page to act on.
 * Returns true when the room needs repainting.
 */
export function applyFrame(room, frame, effects) {
  const { announce, say } = effects;
  const data = frame.data ?? {};
  if (typeof data.participant_count === "number") {
    room.space.participant_count = data.participant_count;
  }
  switch (frame.type) {
    case "space.updated":
    case "space.ended": {
      const before = room.space.state;
      const fallback = frame.type === "space.ended" ? "ended" : before;
      room.space = data.space ?? { ...room.space, state: fallback };
      if (room.space.state === "ended") effects.ended();
      else if (before === "scheduled" && room.space.state === "live") effects.started();
      return true;
    }
    case "participant.joined":
    case "participant.role_changed":
    case "participant.muted":
    case "participant.unmuted":
      applyParticipant(room, frame, effects);
      return true;
    case "participant.left":
      room.people.delete(data.user_id);
      if (data.user_id === room.myId) effects.leftUnasked();
      return true;
    case "participant.removed":
      room.people.delete(data.user_id);
      if (data.user_id === room.myId) {
        room.removed = { blocked: Boolean(data.blocked) };
        announce(
          data.blocked
            ? "You were removed and blocked from this Space."
            : "You were removed from this Space.",
        );
      }
      return true;
    case "speak_request.raised":
    case "speak_request.lowered": {
      const person = room.people.get(data.user_id);
      const raised = frame.type === "speak_request.raised";
      if (person) room.people.set(data.user_id, { ...person, hand_raised: raised });
      if (data.user_id === room.myId && data.denied) {
        announce("A host declined your request to speak.");
      } else if (raised && person && isModerator(room.me())) {
        announce(`${nameOf(userOf(person))} asked to speak.`);
      }
      return true;
    }
    case "invite.sent":
      if (data.user_id !== room.myId) return false;
      room.invite = { role: data.role, actorId: data.actor_id };
      {
        const from = room.people.get(data.actor_id);
        const who = from ? nameOf(userOf(from)) : "A host";
        announce(`${who} invited you to ${data.role === "cohost" ? "co-host" : "speak"}.`);
      }
      return true;
    case "pin.added": {
      const post = data.post ?? room.shared.find((p) => p.id === data.post_id);
      if (post) room.pinned.set(post.id, post);
      say("A post was pinned.");
      return true;
    }
    case "pin.removed":
      room.pinned.delete(data.post_id);
      return true;
    case "poll.opened":
    case "poll.updated":
    case "poll.closed":
      if (!data.poll) return false;
      room.setPoll(data.poll);
      if (frame.type === "poll.opened") announce(`New poll: ${data.poll.question}`);
      if (frame.type === "poll.closed") say(`The poll "${data.poll.question}" has closed.`);
      return true;
    case "post.shared":
      // Not sent by the server yet (the page refreshes shared posts meanwhile).
      if (!data.post || room.shared.some((p) => p.id === data.post.id)) return false;
      room.shared = [data.post, ...room.shared];
      return true;
    case "reaction":
      effects.react(data);
      return false;
    case "reactions":
      for (const item of data.items ?? []) effects.react(item);
      return false;
    case "speaking":
      effects.speaking?.(data);
      return false;
    case "caption":
      effects.caption?.(data);
      return false;
    case "media.moved":
      effects.mediaMoved?.();
      return false;
    default:
      return false;
  }
}
