"""The word error rate that judges captions: the same words written another way are not
errors; real mistakes still are."""

import pytest

from tests.media.transcripts import normalise, word_error_rate


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("The library opens at 9 in the morning.", "the library opens at nine in the morning"),
        ("At 9:30, or 10:00?", "at nine thirty or ten"),
        ("It cost 1,250 or 20.", "it cost one thousand two hundred fifty or twenty"),
        (
            "We'll go, won't we? I'm sure you're right.",
            "we will go will not we i am sure you are right",
        ),
        ("Mr. Smith's favourite colour", "mister smith's favorite color"),
        ("A follow-up, um, today", "a follow up today"),
        ("It\u2019s late", "it's late"),
    ],
)
def test_the_same_words_written_another_way_normalise_alike(written: str, normalised: str) -> None:
    assert normalise(written) == normalised


def test_real_mistakes_still_count() -> None:
    reference = "Tickets cost the same as before."
    assert word_error_rate(reference, "tickets cost the same as before") == 0.0
    assert word_error_rate(reference, "Take it across the same as before.") == pytest.approx(3 / 6)
    assert word_error_rate("The library opens at nine.", "The library opens at 9!") == 0.0
    assert word_error_rate("The library opens at nine.", "The library opens at night.") == 0.2
    assert word_error_rate("", "") == 0.0 and word_error_rate("", "words") == 1.0
