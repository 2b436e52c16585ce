"""Believable demo data, made through the same use cases a real user goes through."""

import random
from collections.abc import Callable

from townhall.domain.errors import Conflict
from townhall.services import accounts, posts, social
from townhall.services.context import ServiceContext
from townhall.types import UserId

DEMO_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("ada", "Ada Okafor", "Podcaster. Talks about open-source hardware every Thursday."),
    ("bruno", "Bruno Costa", "Jazz bassist, late-night Spaces host."),
    ("chen_li", "Chen Li", "Climate reporter. Ask me about heat pumps."),
    ("dana", "Dana Whitfield", "Indie game dev; shipping one bug at a time."),
    ("emeka", "Emeka Obi", "Football tactics nerd. Weekly match debriefs."),
    ("farah", "Farah Haddad", "Product designer. Accessibility first."),
    ("gus", "Gus Lindqvist", "Runs the neighbourhood makerspace."),
    ("hana", "Hana Sato", "Translator and language-exchange host."),
    ("ivan", "Ivan Petrov", "Astronomy club. Clear skies!"),
    ("jules", "Jules Moreau", "Bakery owner, sourdough evangelist."),
)

DEMO_POSTS: tuple[str, ...] = (
    "Going live tonight at 8 to talk about {topic}. Bring questions!",
    "Hot take: {topic} is underrated and I will die on this hill.",
    "Thanks everyone who joined yesterday's Space on {topic} - 140 listeners!",
    "Reading list on {topic}, reply with yours.",
    "Does anyone have a good intro to {topic}? Asking for a friend (me).",
    "Recording of the {topic} chat is up. The Q&A at minute 40 is gold.",
    "Small wins: finally understood {topic} well enough to explain it.",
)

TOPICS = (
    "open hardware",
    "modal jazz",
    "heat pumps",
    "game jams",
    "pressing systems",
    "colour contrast",
    "laser cutters",
    "false friends",
    "Jupiter's moons",
    "rye starters",
)


def load_demo(
    ctx: ServiceContext, password: str, progress: Callable[[str], None] = lambda _m: None
) -> str:
    rng = random.Random(2026)
    ids: dict[str, UserId] = {}
    created = 0
    for username, display_name, bio in DEMO_PEOPLE:
        try:
            signed_in = accounts.do_signup(ctx, username, password, display_name)
            accounts.do_update_profile(ctx, UserId(signed_in.user.id), None, bio)
            ids[username] = UserId(signed_in.user.id)
            created += 1
            progress(f"created @{username}")
        except Conflict:
            ids[username] = UserId(accounts.get_user(ctx, username, None).id)
            progress(f"@{username} already exists")
    names = list(ids)
    follows = 0
    for username in names:
        for other in rng.sample([n for n in names if n != username], k=6):
            social.do_follow(ctx, ids[username], other)
            follows += 1
    post_count = 0
    for index, username in enumerate(names):
        if posts.user_posts(ctx, username, None, 1).data:
            continue
        for template in rng.sample(DEMO_POSTS, k=4):
            posts.do_create_post(
                ctx, ids[username], template.format(topic=TOPICS[index]), None, None
            )
            post_count += 1
    progress(f"posts written: {post_count}")
    return (
        f"demo ready: {created} new users ({len(names)} in all), {follows} follows checked, "
        f"{post_count} posts; log in as any of {', '.join(names)} with password {password!r}"
    )
