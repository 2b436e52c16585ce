"""What a username, display name, bio, password and post may be."""

import pytest

from townhall.domain import posts, users
from townhall.domain.errors import Invalid


@pytest.mark.parametrize("name", ["a", "A_b_9", "x" * 15, "_____", "Ada2026"])
def test_usernames_of_one_to_fifteen_word_characters_are_accepted(name: str) -> None:
    assert users.check_username(name) == name


@pytest.mark.parametrize("name", ["", "x" * 16, "has space", "dash-ed", "émile", "a.b", "👋"])
def test_other_usernames_are_refused(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        users.check_username(name)
    assert caught.value.code == "invalid_username"


def test_usernames_are_unique_regardless_of_case() -> None:
    assert users.username_key("AdaLove") == users.username_key("adalove")


def test_display_names_are_stored_as_given_up_to_the_limit() -> None:
    given = "<script>alert(1)</script> & 'quotes'"
    assert users.check_display_name(given) == given
    with pytest.raises(Invalid):
        users.check_display_name("x" * (users.DISPLAY_NAME_MAX_CHARS + 1))


def test_bios_may_have_newlines_but_not_control_characters() -> None:
    assert users.check_bio("line one\nline two") == "line one\nline two"
    with pytest.raises(Invalid):
        users.check_bio("bell\x07")
    with pytest.raises(Invalid):
        users.check_bio("x" * (users.BIO_MAX_CHARS + 1))


def test_passwords_must_be_at_least_eight_characters() -> None:
    with pytest.raises(Invalid):
        users.check_password("short")
    assert users.check_password("long enough")


def test_post_length_counts_code_points_not_bytes() -> None:
    emoji_post = "🔥" * posts.POST_MAX_CHARS
    assert len(emoji_post.encode()) > posts.POST_MAX_CHARS
    assert posts.check_post_text(emoji_post) == emoji_post
    with pytest.raises(Invalid) as caught:
        posts.check_post_text("🔥" * (posts.POST_MAX_CHARS + 1))
    assert caught.value.code == "post_too_long"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_a_post_needs_some_text(text: str) -> None:
    with pytest.raises(Invalid):
        posts.check_post_text(text)
