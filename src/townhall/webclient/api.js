/**
 * The REST client: same-origin fetch with the session cookie, the CSRF header
 * on every write, and the error envelope turned into a thrown ApiError.
 */

const CSRF_COOKIE = "townhall_csrf";
const SAFE_METHODS = new Set(["GET", "HEAD"]);

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export function isAbort(error) {
  return error?.name === "AbortError";
}

function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

const user = (username) => `/api/v1/users/${encodeURIComponent(username)}`;
const spacePath = (id) => `/api/v1/spaces/${encodeURIComponent(id)}`;
const conversationPath = (id) => `/api/v1/conversations/${encodeURIComponent(id)}`;

/**
 * Builds the client. onUnauthenticated runs when a call meant for a logged-in
 * user gets a 401 (the session ended); login and signup report theirs instead.
 */
export function createApi({ onUnauthenticated }) {
  async function request(method, path, options = {}) {
    const { json, body, contentType, query, signal, keepalive, expectAuth = true } = options;
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", signal, keepalive };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (body !== undefined) {
      headers["Content-Type"] = contentType;
      init.body = body;
    }
    if (!SAFE_METHODS.has(method)) headers["X-CSRF-Token"] = csrfToken();

    let response;
    try {
      response = await fetch(withQuery(path, query), init);
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new ApiError(0, "network", "Could not reach the server. Check your connection.");
    }
    const text = response.status === 204 ? "" : await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const envelope = data?.error;
      const error = new ApiError(
        response.status,
        envelope?.code ?? `http_${response.status}`,
        envelope?.message ?? `The server answered ${response.status}.`,
      );
      if (response.status === 401 && expectAuth) onUnauthenticated(error);
      throw error;
    }
    return data;
  }

  return {
    me: (signal) => request("GET", "/api/v1/me", { signal, expectAuth: false }),
    signup: (fields) =>
      request("POST", "/api/v1/auth/signup", {
        json: { ...fields, session: "cookie" },
        expectAuth: false,
      }),
    login: (fields) =>
      request("POST", "/api/v1/auth/login", {
        json: { ...fields, session: "cookie" },
        expectAuth: false,
      }),
    logout: () => request("POST", "/api/v1/auth/logout", { expectAuth: false }),
    updateMe: (fields) => request("PATCH", "/api/v1/me", { json: fields }),
    uploadAvatar: (file) =>
      request("PUT", "/api/v1/me/avatar", { body: file, contentType: file.type }),

    user: (username, signal) => request("GET", user(username), { signal }),
    userPosts: (username, cursor, signal) =>
      request("GET", `${user(username)}/posts`, { query: { cursor }, signal }),
    followers: (username, cursor, signal) =>
      request("GET", `${user(username)}/followers`, { query: { cursor }, signal }),
    following: (username, cursor, signal) =>
      request("GET", `${user(username)}/following`, { query: { cursor }, signal }),
    follow: (username) => request("POST", `${user(username)}/follow`),
    unfollow: (username) => request("DELETE", `${user(username)}/follow`),
    block: (username) => request("POST", `${user(username)}/block`),
    unblock: (username) => request("DELETE", `${user(username)}/block`),

    createPost: (text, spaceId) =>
      request("POST", "/api/v1/posts", { json: spaceId ? { text, space_id: spaceId } : { text } }),
    post: (id, signal) => request("GET", `/api/v1/posts/${encodeURIComponent(id)}`, { signal }),
    timeline: (cursor, signal) => request("GET", "/api/v1/timeline", { query: { cursor }, signal }),

    liveSpacesOfFollowed: (signal) => request("GET", "/api/v1/timeline/live-spaces", { signal }),

    conversations: (cursor, signal) =>
      request("GET", "/api/v1/conversations", { query: { cursor }, signal }),
    /** to: {username} or {user_ids: [id]}; the existing conversation when there is one. */
    startConversation: (to) => request("POST", "/api/v1/conversations", { json: to }),
    conversation: (id, signal) => request("GET", conversationPath(id), { signal }),
    messages: (id, cursor, signal) =>
      request("GET", `${conversationPath(id)}/messages`, { query: { cursor }, signal }),
    /** fields: {text, space_id?, invite_role?} */
    sendMessage: (id, fields) =>
      request("POST", `${conversationPath(id)}/messages`, { json: fields }),
    markConversationRead: (id) => request("POST", `${conversationPath(id)}/read`),

    notifications: (cursor, signal, limit) =>
      request("GET", "/api/v1/notifications", { query: { cursor, limit }, signal }),
    markNotificationsRead: () => request("POST", "/api/v1/notifications/read"),

    spaces: (query, signal) => request("GET", "/api/v1/spaces", { query, signal }),
    searchTranscripts: (q, signal) =>
      request("GET", "/api/v1/search/transcripts", { query: { q }, signal, expectAuth: false }),
    createSpace: (fields) => request("POST", "/api/v1/spaces", { json: fields }),
    space: (id, signal) => request("GET", spacePath(id), { signal, expectAuth: false }),
    updateSpace: (id, fields) => request("PATCH", spacePath(id), { json: fields }),
    cancelSpace: (id) => request("DELETE", spacePath(id)),
    startSpace: (id) => request("POST", `${spacePath(id)}/start`),
    endSpace: (id) => request("POST", `${spacePath(id)}/end`),
    remindMe: (id) => request("POST", `${spacePath(id)}/reminders`),
    joinSpace: (id) => request("POST", `${spacePath(id)}/join`),
    leaveSpace: (id) => request("POST", `${spacePath(id)}/leave`),
    participants: (id, signal) =>
      request("GET", `${spacePath(id)}/participants`, { signal, expectAuth: false }),
    raiseHand: (id) => request("POST", `${spacePath(id)}/speak-requests`),
    lowerHand: (id) => request("DELETE", `${spacePath(id)}/speak-requests/me`),
    approveRequest: (id, userId) =>
      request("POST", `${spacePath(id)}/speak-requests/${encodeURIComponent(userId)}/approve`),
    denyRequest: (id, userId) =>
      request("POST", `${spacePath(id)}/speak-requests/${encodeURIComponent(userId)}/deny`),
    invite: (id, userId, role) =>
      request("POST", `${spacePath(id)}/invites`, { json: { user_id: userId, role } }),
    acceptInvite: (id) => request("POST", `${spacePath(id)}/invites/accept`),
    declineInvite: (id) => request("POST", `${spacePath(id)}/invites/decline`),
    setRole: (id, userId, role) =>
      request("POST", `${spacePath(id)}/participants/${encodeURIComponent(userId)}/role`, {
        json: { role },
      }),
    mute: (id, userId) =>
      request("POST", `${spacePath(id)}/participants/${encodeURIComponent(userId)}/mute`),
    setSelfMuted: (id, muted) =>
      request("POST", `${spacePath(id)}/participants/me/${muted ? "mute" : "unmute"}`),
    removeParticipant: (id, userId, block) =>
      request("POST", `${spacePath(id)}/participants/${encodeURIComponent(userId)}/remove`, {
        json: { block },
      }),
    react: (id, emoji) => request("POST", `${spacePath(id)}/reactions`, { json: { emoji } }),
    pin: (id, postId) => request("POST", `${spacePath(id)}/pins`, { json: { post_id: postId } }),
    unpin: (id, postId) => request("DELETE", `${spacePath(id)}/pins/${encodeURIComponent(postId)}`),
    sharedPosts: (id, signal) =>
      request("GET", `${spacePath(id)}/shared-posts`, { signal, expectAuth: false }),
    polls: (id, signal) => request("GET", `${spacePath(id)}/polls`, { signal, expectAuth: false }),
    transcript: (id, signal) =>
      request("GET", `${spacePath(id)}/transcript`, { signal, expectAuth: false }),
    openPoll: (id, fields) => request("POST", `${spacePath(id)}/polls`, { json: fields }),
    /** Live audio: an SDP offer in, the server's answer (with its candidates) out. */
    rtcPublish: (id, offer, signal) =>
      request("POST", `${spacePath(id)}/rtc/publish`, { json: offer, signal }),
    rtcListen: (id, offer, signal) =>
      request("POST", `${spacePath(id)}/rtc/listen`, { json: offer, signal }),
    /** keepalive lets the hang-up outlive the page (leaving, closing the tab). */
    hangUp: (id, sessionId, { keepalive = false } = {}) =>
      request("DELETE", `${spacePath(id)}/rtc/sessions/${encodeURIComponent(sessionId)}`, {
        keepalive,
        expectAuth: false,
      }),
    recording: (id, signal) =>
      request("GET", `${spacePath(id)}/recording`, { signal, expectAuth: false }),
    deleteRecording: (id) => request("DELETE", `${spacePath(id)}/recording`),
    replayEvents: (id, signal) =>
      request("GET", `${spacePath(id)}/replay-events`, { signal, expectAuth: false }),
    /** fields: {start_offset_ms?, duration_s?}; the last 30 s by default. */
    clip: (id, fields = {}) => request("POST", `${spacePath(id)}/clips`, { json: fields }),
    recordedSpaces: (username, cursor, signal) =>
      request("GET", `${user(username)}/spaces`, {
        query: { recorded: "true", cursor },
        signal,
        expectAuth: false,
      }),
    /** Moderation: anyone reports; admins work the queue (docs/api-extensions.md). */
    report: (targetType, targetId, reason, note) =>
      request("POST", "/api/v1/reports", {
        json: { target_type: targetType, target_id: targetId, reason, note: note || null },
      }),
    adminStatus: (signal) => request("GET", "/api/v1/admin/status", { signal }),
    adminReports: (state, cursor, signal) =>
      request("GET", "/api/v1/admin/reports", { query: { state, cursor }, signal }),
    resolveReport: (reportId) =>
      request("POST", `/api/v1/admin/reports/${encodeURIComponent(reportId)}/resolve`),
    dismissReport: (reportId) =>
      request("POST", `/api/v1/admin/reports/${encodeURIComponent(reportId)}/dismiss`),
    suspendUser: (userId, reason, reportId) =>
      request("POST", `/api/v1/admin/users/${encodeURIComponent(userId)}/suspend`, {
        json: { reason: reason || null, report_id: reportId ?? null },
      }),
    unsuspendUser: (userId) =>
      request("POST", `/api/v1/admin/users/${encodeURIComponent(userId)}/unsuspend`),
    removePost: (postId, reportId) =>
      request("POST", `/api/v1/admin/posts/${encodeURIComponent(postId)}/remove`, {
        json: { report_id: reportId ?? null },
      }),
    adminEndSpace: (spaceId, reportId) =>
      request("POST", `/api/v1/admin/spaces/${encodeURIComponent(spaceId)}/end`, {
        json: { report_id: reportId ?? null },
      }),
    auditLog: (cursor, signal) =>
      request("GET", "/api/v1/admin/log", { query: { cursor }, signal }),
    /** A host's ban list: kept out of all their Spaces. */
    bans: (signal) => request("GET", "/api/v1/me/bans", { signal }),
    ban: (username) => request("POST", "/api/v1/me/bans", { json: { username } }),
    liftBan: (userId) => request("DELETE", `/api/v1/me/bans/${encodeURIComponent(userId)}`),
    vote: (id, pollId, option) =>
      request("POST", `${spacePath(id)}/polls/${encodeURIComponent(pollId)}/votes`, {
        json: { option },
      }),
  };
}
