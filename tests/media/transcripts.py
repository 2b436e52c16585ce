"""Word error rate, to judge captions against the text espeak-ng was given.

Both texts go through the same normalisation before they are compared, as speech
recognition evaluations do (Whisper's papers score normalised text), so that the same words
written another way are not counted as errors. `normalise` documents what it folds.
"""

import re

ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
CONTRACTIONS = {
    "n't": " not",
    "'ll": " will",
    "'re": " are",
    "'ve": " have",
    "'m": " am",
}
"""Endings with one reading; "'s" (is, has, possessive) and "'d" (had, would) have several
and stay as written."""
IRREGULAR_NEGATIONS = {
    "won't": "will not",
    "can't": "can not",
    "cannot": "can not",
    "shan't": "shall not",
}
SPELLINGS = {
    "mr": "mister",
    "mrs": "missus",
    "dr": "doctor",
    "ok": "okay",
    "colour": "color",
    "favourite": "favorite",
    "neighbour": "neighbor",
    "centre": "center",
    "theatre": "theater",
    "metre": "meter",
    "organise": "organize",
    "realise": "realize",
    "travelled": "traveled",
    "grey": "gray",
}
"""Titles written out, and British spellings in American (both are right; espeak-ng's
voices say them alike)."""
HESITATIONS = frozenset({"uh", "um", "umm", "hmm", "mm", "er", "erm", "ah"})


def number_words(number: int) -> str:
    """0 to 999,999 in words, the way they are said ("one hundred twenty three")."""
    if number < 20:
        return ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return TENS[tens] + (f" {ONES[ones]}" if ones else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return f"{ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    if number < 1_000_000:
        thousands, rest = divmod(number, 1000)
        return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")
    return " ".join(ONES[int(digit)] for digit in str(number))


def _spoken_number(match: re.Match[str]) -> str:
    hours, minutes = match.group(1).replace(",", ""), match.group(2)
    said = number_words(int(hours))
    if minutes and minutes != "00":
        said += " " + ("oh " if minutes.startswith("0") else "") + number_words(int(minutes))
    return f" {said} "


def normalise(text: str) -> str:
    """Lower case; typographic apostrophes made plain; numbers in digits (1,000, 9:30) in
    words; the contractions of CONTRACTIONS and IRREGULAR_NEGATIONS written out; SPELLINGS
    replaced; hyphens, slashes and other punctuation made spaces (apostrophes inside a word
    kept); HESITATIONS dropped."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\b(\d{1,3}(?:,\d{3})+|\d+)(?::(\d\d))?\b", _spoken_number, text)
    for contraction, full in IRREGULAR_NEGATIONS.items():
        text = re.sub(rf"\b{contraction}\b", full, text)
    for ending, full in CONTRACTIONS.items():
        text = re.sub(rf"(?<=[a-z]){ending}\b", full, text)
    found = re.findall(r"[a-z0-9]+(?:'[a-z]+)*", text)
    return " ".join(SPELLINGS.get(word, word) for word in found if word not in HESITATIONS)


def words(text: str) -> list[str]:
    return normalise(text).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / words in the reference (Levenshtein),
    both normalised."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return float(bool(hyp))
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (ref_word != hyp_word),
                )
            )
        previous = current
    return previous[-1] / len(ref)
