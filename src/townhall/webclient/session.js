/** Who is logged in and how many notifications are unread; the shell listens for "change". */

export class Session extends EventTarget {
  #me = null;
  #unread = 0;

  get me() {
    return this.#me;
  }

  get unread() {
    return this.#unread;
  }

  setMe(user) {
    this.#me = user;
    if (!user) this.#unread = 0;
    this.dispatchEvent(new CustomEvent("change"));
  }

  setUnread(count) {
    this.#unread = Math.max(0, count);
    this.dispatchEvent(new CustomEvent("change"));
  }

  isMe(username) {
    return Boolean(this.#me) && this.#me.username.toLowerCase() === String(username).toLowerCase();
  }
}
