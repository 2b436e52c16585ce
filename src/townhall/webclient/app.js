/**
 * Boots the web client: asks who is logged in, builds the shell, routes pages
 * and keeps the personal event stream open while someone is logged in.
 *
 *   index.html -> app.js -> router.js (path -> page)
 *                   |-> api.js      (REST, CSRF, error envelope)
 *                   |-> events.js   (WebSocket, reconnects)
 *                   |-> session.js  (me, unread count)
 *                   '-> pages/*.js  build a page from ctx; components/*.js are their parts
 *
 * Every page gets a fresh ctx whose AbortSignal fires when the page is left,
 * which cancels its requests and removes its event listeners.
 */

import { createApi } from "./api.js";
import { refreshRings } from "./components/live-ring.js";
import { openReportDialog } from "./components/report-dialog.js";
import { createShell } from "./components/shell.js";
import { h } from "./dom.js";
import { EventStream, eventsUrl } from "./events.js";
import { relativeTime } from "./format.js";
import { followersPage, followingPage } from "./pages/connections.js";
import { homePage } from "./pages/home.js";
import { loginPage, nextPath, signupPage } from "./pages/login.js";
import { conversationPage, messagesPage } from "./pages/messages.js";
import { moderationPage } from "./pages/moderation.js";
import { notFoundPage } from "./pages/notfound.js";
import { notificationsPage } from "./pages/notifications.js";
import { profilePage } from "./pages/profile.js";
import { settingsPage } from "./pages/settings.js";
import { spaceRoomPage } from "./pages/space-room.js";
import { spacesPage } from "./pages/spaces.js";
import { Router } from "./router.js";
import { Session } from "./session.js";

const ROUTES = [
  { path: "/", redirect: (me) => (me ? "/home" : "/login") },
  { path: "/login", page: loginPage, guest: true },
  { path: "/signup", page: signupPage, guest: true },
  { path: "/home", page: homePage },
  { path: "/notifications", page: notificationsPage },
  { path: "/messages", page: messagesPage },
  { path: "/messages/:conversation_id", page: conversationPage },
  { path: "/spaces", page: spacesPage },
  { path: "/settings", page: settingsPage },
  { path: "/moderation", page: moderationPage },
  { path: "/u/:username", page: profilePage },
  { path: "/u/:username/followers", page: followersPage },
  { path: "/u/:username/following", page: followingPage },
  // Public: a logged-out visitor gets the Space's preview and "Log in to join".
  { path: "/s/:space_id", page: spaceRoomPage, public: true },
];
const NOTIFICATIONS_PATH = "/notifications";
const UNREAD_SCAN_LIMIT = 50;
const RELATIVE_TIME_REFRESH_MS = 60_000;
/** How often the live rings on screen check that their Spaces are still live. */
const RING_REFRESH_MS = 10_000;
const TOAST_MS = 4000;

function createAnnouncer(region) {
  let timer = null;
  /** Shows a short message and reads it to screen readers. */
  return function announce(message, { error = false } = {}) {
    clearTimeout(timer);
    region.textContent = "";
    region.dataset.kind = error ? "error" : "info";
    // A fresh text node in the next frame, so repeating a message is announced again.
    requestAnimationFrame(() => {
      region.textContent = message;
      timer = setTimeout(() => {
        region.textContent = "";
      }, TOAST_MS);
    });
  };
}

function describeNotification(frame) {
  const notification = frame.data ?? {};
  const who = notification.actor ? `@${notification.actor.username}` : "Someone";
  switch (notification.kind) {
    case "follow":
      return `${who} followed you.`;
    case "space_live":
      return `${who} is live in a Space.`;
    case "space_reminder":
      return "A Space you're waiting for is starting.";
    case "invite":
      return `${who} invited you to speak in a Space.`;
    default:
      return "New notification.";
  }
}

async function boot() {
  const session = new Session();
  const events = new EventStream(eventsUrl(location));
  const main = document.getElementById("main");
  const announce = createAnnouncer(document.getElementById("toast"));
  let router = null;
  let shell = null;
  let view = null;
  let firstRender = true;
  let pageTitle = "Townhall";

  function paintTitle() {
    const unread = session.unread ? `(${session.unread}) ` : "";
    document.title = `${unread}${pageTitle} · Townhall`;
  }

  function signedIn(user) {
    session.setMe(user);
    events.start();
    refreshUnread();
    refreshMessagesUnread();
    paintOwnPosts();
    refreshAdmin();
  }

  /** Your own posts have no Report button: one style rule, whatever list shows them. */
  function paintOwnPosts() {
    const me = session.me;
    ownPosts.replaceSync(
      me ? `.post[data-author-id="${CSS.escape(me.id)}"] .post-report { display: none; }` : "",
    );
  }

  async function refreshAdmin() {
    try {
      const { is_admin: admin } = await api.adminStatus();
      shell?.setAdmin(admin);
    } catch {
      shell?.setAdmin(false);
    }
  }

  function signedOut({ expired }) {
    if (!session.me) return;
    events.stop();
    session.setMe(null);
    shell?.setAdmin(false);
    if (expired) {
      const here = location.pathname + location.search;
      router.navigate(`/login?${new URLSearchParams({ next: here })}`, { replace: true });
      announce("Your session has ended. Log in again.");
    } else {
      router.navigate("/login");
    }
  }

  async function logout() {
    try {
      await api.logout();
    } catch {
      // Logged out already (or offline): forget the session here either way.
    }
    signedOut({ expired: false });
  }

  async function refreshUnread() {
    if (location.pathname === NOTIFICATIONS_PATH) return;
    try {
      const page = await api.notifications(null, undefined, UNREAD_SCAN_LIMIT);
      if (location.pathname !== NOTIFICATIONS_PATH) {
        session.setUnread(page.data.filter((n) => !n.read).length);
      }
    } catch {
      // The badge stays as it was; the next event or page load corrects it.
    }
  }

  let messagesTimer = null;
  /** Sums the unread counts of your latest conversations; coalesces bursts of events. */
  function refreshMessagesUnread() {
    clearTimeout(messagesTimer);
    messagesTimer = setTimeout(async () => {
      if (!session.me) return;
      try {
        const page = await api.conversations(null);
        session.setMessagesUnread(page.data.reduce((sum, c) => sum + c.unread_count, 0));
      } catch {
        // The badge stays as it was; the next message or page load corrects it.
      }
    }, 250);
  }

  const api = createApi({ onUnauthenticated: () => signedOut({ expired: true }) });
  // A constructed sheet, not a <style> element: the Content-Security-Policy allows no
  // inline style elements.
  const ownPosts = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, ownPosts];
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-report-post]");
    if (!button || !session.me) return;
    const text = button.closest(".post")?.querySelector(".post-text")?.textContent ?? "";
    openReportDialog({ api, announce }, { type: "post", id: button.dataset.reportPost, label: text });
  });

  events.addEventListener("notification", (event) => {
    if (location.pathname === NOTIFICATIONS_PATH) return;
    session.setUnread(session.unread + 1);
    announce(describeNotification(event.detail));
  });
  events.addEventListener("conversation.read", refreshMessagesUnread);
  events.addEventListener("message", (event) => {
    refreshMessagesUnread();
    const message = event.detail.data ?? {};
    if (message.sender_id === session.me?.id) return;
    if (location.pathname.startsWith("/messages")) return;
    const who = message.sender ? `@${message.sender.username}` : "Someone";
    announce(message.space_id ? `${who} sent you a Space.` : `New message from ${who}.`);
  });
  events.addEventListener("resync", refreshUnread);
  events.addEventListener("resync", refreshMessagesUnread);
  events.addEventListener("unauthenticated", () => signedOut({ expired: true }));
  session.addEventListener("change", paintTitle);

  function render({ found, url, fromNavigation }) {
    const route = found?.route;
    const me = session.me;
    if (route?.redirect) return router.navigate(route.redirect(me), { replace: true });
    if (route?.guest && me) return router.navigate(nextPath(url), { replace: true });
    if (!route?.guest && !route?.public && !me) {
      const next = url.pathname + url.search;
      const login = next === "/" ? "/login" : `/login?${new URLSearchParams({ next })}`;
      return router.navigate(login, { replace: true });
    }
    view?.abort();
    view = new AbortController();
    const ctx = {
      api,
      session,
      events,
      announce,
      signedIn,
      url,
      params: found?.params ?? {},
      signal: view.signal,
      navigate: (to, options) => router.navigate(to, options),
      setTitle: (title) => {
        pageTitle = title;
        paintTitle();
      },
    };
    main.replaceChildren((route?.page ?? notFoundPage)(ctx));
    shell.setCurrent(url.pathname);
    const autofocus = main.querySelector("[data-autofocus]");
    if (fromNavigation || !firstRender || autofocus) {
      window.scrollTo(0, 0);
      (autofocus ?? main.querySelector("h1") ?? main).focus({ preventScroll: true });
    }
    firstRender = false;
    return undefined;
  }

  try {
    session.setMe(await api.me());
  } catch (err) {
    if (err.status !== 401) {
      main.replaceChildren(
        h(
          "section",
          { class: "page" },
          h("h1", {}, "Townhall is unreachable"),
          h("p", { role: "alert" }, err.message),
          h("button", { class: "btn btn-primary", onclick: () => location.reload() }, "Try again"),
        ),
      );
      return;
    }
  }
  // Built once we know who is here, so the logged-out frame never flashes for a member.
  shell = createShell({ session, events, onLogout: logout });
  main.before(shell.node);
  router = new Router(ROUTES, render);
  if (session.me) signedIn(session.me);
  router.start();

  setInterval(() => {
    if (document.visibilityState === "visible") refreshRings(api, main).catch(() => {});
  }, RING_REFRESH_MS);

  setInterval(() => {
    for (const time of document.querySelectorAll("time[data-relative]")) {
      time.textContent = relativeTime(time.getAttribute("datetime"));
    }
  }, RELATIVE_TIME_REFRESH_MS);
}

boot();
