"""Polls: two to four options, open one minute to a day, one vote per person."""

from datetime import datetime, timedelta

from townhall.domain.errors import Conflict, Invalid
from townhall.domain.text import has_control_chars

MIN_OPTIONS = 2
MAX_OPTIONS = 4
OPTION_MAX_CHARS = 25
QUESTION_MAX_CHARS = 140
MIN_DURATION_S = 60
MAX_DURATION_S = 24 * 60 * 60


def check_poll(question: str, options: list[str], duration_s: int) -> tuple[str, list[str]]:
    question = question.strip()
    if not question or len(question) > QUESTION_MAX_CHARS:
        raise Invalid(
            f"A question is 1 to {QUESTION_MAX_CHARS} characters.", code="invalid_question"
        )
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise Invalid(f"A poll has {MIN_OPTIONS} to {MAX_OPTIONS} options.", code="invalid_options")
    cleaned = [option.strip() for option in options]
    if any(not option or len(option) > OPTION_MAX_CHARS for option in cleaned):
        raise Invalid(f"Options are 1 to {OPTION_MAX_CHARS} characters.", code="invalid_options")
    if has_control_chars(question) or any(has_control_chars(option) for option in cleaned):
        raise Invalid("Polls cannot hold control characters.", code="invalid_poll_text")
    if len(set(cleaned)) != len(cleaned):
        raise Invalid("Options must differ.", code="invalid_options")
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise Invalid("A poll runs from 1 minute to 24 hours.", code="invalid_duration")
    return question, cleaned


def closes_at(now: datetime, duration_s: int) -> datetime:
    return now + timedelta(seconds=duration_s)


def check_vote(option: int, option_count: int, is_open: bool, already_voted: bool) -> None:
    if not is_open:
        raise Conflict("This poll is closed.", code="poll_closed")
    if not 0 <= option < option_count:
        raise Invalid(f"Choose an option from 0 to {option_count - 1}.", code="invalid_option")
    if already_voted:
        raise Conflict("You have already voted in this poll.", code="already_voted")
