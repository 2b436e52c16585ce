"""Link-preview tags for a Space's share page, so `/s/{id}` unfurls in chats and posts.

Crawlers do not run JavaScript: the title, host and state must be in the HTML itself.
Every value is HTML-escaped (titles and names are user input).
"""

from html import escape

from townhall.services.space_views import SpaceView

SITE_NAME = "Townhall"


def state_line(view: SpaceView) -> str:
    """What a preview says about the Space's state, in words."""
    if view.state == "live":
        listeners = view.participant_count
        return f"Live now · {listeners} listening" if listeners != 1 else "Live now · 1 listening"
    if view.state == "scheduled" and view.scheduled_start is not None:
        return "Scheduled for " + view.scheduled_start.strftime("%d %b %Y, %H:%M UTC")
    return "Ended" + (" · recording available" if view.recording else "")


def host_name(view: SpaceView) -> str:
    if view.host is None:
        return ""
    return view.host.display_name or view.host.username


def share_meta_tags(view: SpaceView, base_url: str) -> str:
    """Open Graph and Twitter Card tags for the share page of `view`; `base_url` (this
    server, no trailing slash) makes the URLs absolute, as crawlers want them."""
    page_url = base_url + view.share_url
    host = host_name(view)
    title = view.title or "A Space"
    description = " · ".join(
        part for part in (f"Hosted by {host}" if host else "", state_line(view)) if part
    )
    tags = [
        ("property", "og:type", "website"),
        ("property", "og:site_name", SITE_NAME),
        ("property", "og:title", title),
        ("property", "og:description", description),
        ("property", "og:url", page_url),
        ("name", "twitter:card", "summary"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", description),
        ("name", "townhall:space_state", view.state),
    ]
    if view.host is not None and view.host.avatar_url:
        image = base_url + view.host.avatar_url
        tags += [("property", "og:image", image), ("name", "twitter:image", image)]
    return "\n".join(
        f'    <meta {attr}="{escape(key)}" content="{escape(value, quote=True)}" />'
        for attr, key, value in tags
    )


def with_share_meta(shell_html: str, view: SpaceView, base_url: str) -> str:
    """The client shell with the Space's title and preview tags in its head."""
    title = escape(view.title or "A Space")
    html = shell_html.replace("<title>Townhall</title>", f"<title>{title} · Townhall</title>", 1)
    return html.replace("</head>", share_meta_tags(view, base_url) + "\n  </head>", 1)
