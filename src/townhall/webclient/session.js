/**
 * Who is logged in, how many notifications and direct messages are unread; the
 * shell listens for "change".
 */

export class Session extends EventTarget {
  #me = null;
  #unread = 0;
  #messagesUnread = 0;

  get me() {
    return this.#me;
  }

  get unread() {
    return this.#unread;
  }

  /** Unread direct messages, summed over your most recent conversations. */
  get messagesUnread() {
    return this.#messagesUnread;
  }

  setMe(user) {
    this.#me = user;
    if (!user) {
      this.#unread = 0;
      this.#messagesUnread = 0;
    }
    this.dispatchEvent(new CustomEvent("change"));
  }

  setUnread(count) {
    this.#unread = Math.max(0, count);
    this.dispatchEvent(new CustomEvent("change"));
  }

  setMessagesUnread(count) {
    this.#messagesUnread = Math.max(0, count);
    this.dispatchEvent(new CustomEvent("change"));
  }

  isMe(username) {
    return Boolean(this.#me) && this.#me.username.toLowerCase() === String(username).toLowerCase();
  }
}
