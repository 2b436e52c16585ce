/** /login and /signup: the two ways in. */

import { h } from "../dom.js";
import { authForm } from "../components/authform.js";

/** Where to go after logging in: the page that sent us here, if it is one of ours. */
export function nextPath(url) {
  const next = url.searchParams.get("next") ?? "";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/home";
}

function withNext(path, url) {
  const next = url.searchParams.get("next");
  return next ? `${path}?${new URLSearchParams({ next })}` : path;
}

function authPage(ctx, { kind, title, intro, submit, switchText, switchLabel, switchPath }) {
  ctx.setTitle(title);
  const signedIn = (user) => {
    ctx.signedIn(user);
    ctx.navigate(nextPath(ctx.url), { replace: true });
  };
  return h(
    "section",
    { class: "auth-page card" },
    h("img", { class: "auth-logo", src: "/static/favicon.svg", alt: "", width: 48, height: 48 }),
    h("h1", { tabindex: "-1" }, title),
    h("p", { class: "muted" }, intro),
    authForm({ kind, submit, onDone: signedIn }),
    h(
      "p",
      { class: "auth-switch" },
      switchText,
      " ",
      h("a", { href: withNext(switchPath, ctx.url) }, switchLabel),
    ),
  );
}

export function loginPage(ctx) {
  return authPage(ctx, {
    kind: "login",
    title: "Log in to Townhall",
    intro: "Live conversations with the people you follow.",
    submit: async (values) => (await ctx.api.login(values)).user,
    switchText: "New here?",
    switchLabel: "Create an account",
    switchPath: "/signup",
  });
}

export function signupPage(ctx) {
  return authPage(ctx, {
    kind: "signup",
    title: "Create your account",
    intro: "Pick a username; you can change your display name and picture later.",
    submit: async (values) => (await ctx.api.signup(values)).user,
    switchText: "Already have an account?",
    switchLabel: "Log in",
    switchPath: "/login",
  });
}
