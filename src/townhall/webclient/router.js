/**
 * Client-side routing: a route table of path patterns ("/u/:username"),
 * history.pushState navigation, and same-origin link clicks intercepted so
 * pages change without a reload. The server answers every page path with the
 * same shell, so reloading any page works too.
 */

const SERVER_PREFIXES = ["/api/", "/static/", "/media/", "/spaces/", "/clips/", "/2/", "/openapi", "/docs"];

function compile(pattern) {
  const names = [];
  const source = pattern
    .split("/")
    .map((part) => {
      if (!part.startsWith(":")) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(part.slice(1));
      return "([^/]+)";
    })
    .join("/");
  return { regex: new RegExp(`^${source}/?$`), names };
}

export class Router {
  #routes;
  #onRoute;

  /** routes: [{path, ...anything}]; onRoute({route, params, url}) renders the match. */
  constructor(routes, onRoute) {
    this.#routes = routes.map((route) => ({ ...route, ...compile(route.path) }));
    this.#onRoute = onRoute;
  }

  match(pathname) {
    for (const route of this.#routes) {
      const found = route.regex.exec(pathname);
      if (!found) continue;
      const params = {};
      try {
        route.names.forEach((name, i) => {
          params[name] = decodeURIComponent(found[i + 1]);
        });
      } catch {
        return null;
      }
      return { route, params };
    }
    return null;
  }

  start() {
    window.addEventListener("popstate", () => this.render());
    document.addEventListener("click", (event) => this.#onClick(event));
    this.render();
  }

  navigate(to, { replace = false } = {}) {
    const url = new URL(to, location.origin);
    const target = url.pathname + url.search + url.hash;
    if (replace) history.replaceState(null, "", target);
    else if (target !== location.pathname + location.search + location.hash) {
      history.pushState(null, "", target);
    }
    this.render({ fromNavigation: true });
  }

  render({ fromNavigation = false } = {}) {
    const url = new URL(location.href);
    this.#onRoute({ found: this.match(url.pathname), url, fromNavigation });
  }

  #onClick(event) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest?.("a[href]");
    if (!link || link.hasAttribute("download") || link.dataset.native !== undefined) return;
    if (link.target && link.target !== "_self") return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin) return;
    if (SERVER_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) return;
    event.preventDefault();
    this.navigate(url.href);
  }
}
