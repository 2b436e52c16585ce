/**
 * The frame around every page: brand, main navigation with the unread badge,
 * the live-connection indicator, the theme toggle and Log out. Logged out, it
 * shrinks to the brand and the theme toggle.
 */

import { h } from "../dom.js";
import { effectiveTheme, onThemeChange, setTheme } from "../theme.js";
import { icon } from "./icons.js";
import { profilePath } from "./post.js";

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

function navLink(href, iconName, label, extra = null) {
  return h(
    "li",
    {},
    h(
      "a",
      { class: "nav-link", href, dataset: { section: iconName } },
      icon(iconName),
      h("span", { class: "nav-label" }, label),
      extra,
    ),
  );
}

function themeToggle() {
  const button = h("button", { type: "button", class: "btn btn-icon theme-toggle" });
  const paint = () => {
    const dark = effectiveTheme() === "dark";
    button.replaceChildren(icon(dark ? "sun" : "moon", 20));
    const label = dark ? "Switch to light theme" : "Switch to dark theme";
    button.setAttribute("aria-label", label);
    button.title = label;
  };
  button.addEventListener("click", () => setTheme(effectiveTheme() === "dark" ? "light" : "dark"));
  onThemeChange(paint);
  paint();
  return button;
}

/** onLogout() runs when Log out is pressed. */
export function createShell({ session, events, onLogout }) {
  const badgeCount = h("span", { class: "badge-count" });
  const badge = h(
    "span",
    { class: "badge", hidden: true },
    badgeCount,
    h("span", { class: "visually-hidden" }, " unread"),
  );
  const messagesCount = h("span", { class: "badge-count" });
  const messagesBadge = h(
    "span",
    { class: "badge", hidden: true },
    messagesCount,
    h("span", { class: "visually-hidden" }, " unread"),
  );
  const profileLink = navLink("/home", "user", "Profile");
  const moderationLink = navLink("/moderation", "flag", "Moderation");
  moderationLink.hidden = true;
  const nav = h(
    "nav",
    { class: "main-nav", "aria-label": "Main" },
    h(
      "ul",
      {},
      navLink("/home", "home", "Home"),
      navLink("/spaces", "spaces", "Spaces"),
      navLink("/notifications", "bell", "Notifications", badge),
      navLink("/messages", "mail", "Messages", messagesBadge),
      profileLink,
      navLink("/settings", "settings", "Settings"),
      moderationLink,
    ),
  );
  const connText = h("span", { class: "conn-text" });
  const connection = h(
    "p",
    { class: "conn", role: "status", title: "Live updates" },
    h("span", { class: "conn-dot", "aria-hidden": "true" }),
    h("span", { class: "visually-hidden" }, "Live updates: "),
    connText,
  );
  const logout = h(
    "button",
    { type: "button", class: "btn btn-icon logout", "aria-label": "Log out", title: "Log out" },
    icon("logout", 20),
    h("span", { class: "logout-label" }, "Log out"),
  );
  logout.addEventListener("click", onLogout);

  const tools = h("div", { class: "shell-tools" }, connection, themeToggle(), logout);
  const header = h(
    "header",
    { class: "shell" },
    h(
      "a",
      { class: "brand", href: "/" },
      h("img", { src: "/static/favicon.svg", alt: "", width: 32, height: 32 }),
      h("span", { class: "brand-name" }, "Townhall"),
    ),
    nav,
    tools,
  );

  function paintSession() {
    const me = session.me;
    document.body.classList.toggle("logged-out", !me);
    nav.hidden = !me;
    connection.hidden = !me;
    logout.hidden = !me;
    if (me) profileLink.querySelector("a").href = profilePath(me.username);
    const unread = session.unread;
    badge.hidden = unread === 0;
    badgeCount.textContent = unread > 99 ? "99+" : String(unread);
    const dms = session.messagesUnread;
    messagesBadge.hidden = dms === 0;
    messagesCount.textContent = dms > 99 ? "99+" : String(dms);
  }

  function paintConnection() {
    connection.dataset.state = events.state;
    connText.textContent = CONNECTION_TEXT[events.state] ?? events.state;
  }

  session.addEventListener("change", paintSession);
  events.addEventListener("status", paintConnection);
  paintSession();
  paintConnection();

  return {
    node: header,
    /** Admins get the Moderation page in the navigation. */
    setAdmin(admin) {
      moderationLink.hidden = !admin;
    },
    /** Marks the nav link of the section the current page belongs to. */
    setCurrent(pathname) {
      for (const link of nav.querySelectorAll("a.nav-link")) {
        const path = new URL(link.href).pathname;
        const exact = path === pathname;
        const within = path !== "/home" && pathname.startsWith(`${path}/`);
        const spaces = link.dataset.section === "spaces" && pathname.startsWith("/s/");
        link.classList.toggle("current", exact || within || spaces);
        if (exact) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      }
    },
  };
}
