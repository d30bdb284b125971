"""Word error rate: how far a recognised transcript is from the text that was spoken.

Both texts are normalised first (lowercase, punctuation removed, numbers kept as written), then aligned
word by word with a Levenshtein alignment whose edits are counted by kind. Chinese, Japanese and Korean
ideographs are compared one character at a time, since those scripts do not separate words with spaces.

    >>> word_error_rate("The cat sat on the mat.", "the cat sat on a mat")
    0.16666666666666666
    >>> wer_report("hello world", "hello there world")
    WerReport(substitutions=0, deletions=0, insertions=1, reference_words=2, wer=0.5)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shared.errors import InvalidRequestError

__all__ = ["WerReport", "normalise", "wer_report", "word_error_rate"]

# A number as written: digits with inner separators ("3.5", "1,000", "10:30") stay one token.
_NUMBER = r"\d+(?:[.,:/]\d+)*(?![^\W_])"
# A word: letters and digits, with inner apostrophes kept ("don't", "o'clock").
_WORD = r"[^\W_]+(?:['\u2019][^\W_]+)*"
_TOKEN = re.compile(f"{_NUMBER}|{_WORD}")


def _is_ideograph(char: str) -> bool:
    return unicodedata.category(char) == "Lo" and unicodedata.name(char, "").startswith(
        ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HIRAGANA", "KATAKANA", "HANGUL SYLLABLE")
    )


def normalise(text: str) -> list[str]:
    """Split text into comparable words: lowercase, no punctuation, numbers kept as written.

    >>> normalise("Well-known facts: it's 3.5 km, isn't it?")
    ['well', 'known', 'facts', "it's", '3.5', 'km', "isn't", 'it']
    """
    words: list[str] = []
    folded = unicodedata.normalize("NFKC", text).lower()
    for raw in _TOKEN.findall(folded):
        token = raw.replace("\u2019", "'")
        if any(_is_ideograph(char) for char in token):
            words.extend(_split_ideographs(token))
        else:
            words.append(token)
    return words


def _split_ideographs(token: str) -> list[str]:
    """Each ideograph is its own unit; runs of other letters inside the token stay together."""
    units: list[str] = []
    run = ""
    for char in token:
        if _is_ideograph(char):
            if run:
                units.append(run)
                run = ""
            units.append(char)
        else:
            run += char
    if run:
        units.append(run)
    return units


@dataclass(frozen=True)
class WerReport:
    """Edit counts of one alignment (or the sum of several) and the resulting rate."""

    substitutions: int
    deletions: int
    insertions: int
    reference_words: int
    wer: float

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    def __add__(self, other: WerReport) -> WerReport:
        """Pool two reports, as corpus WER is computed: total edits over total reference words."""
        return _report(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.reference_words + other.reference_words,
        )


def _report(substitutions: int, deletions: int, insertions: int, reference_words: int) -> WerReport:
    edits = substitutions + deletions + insertions
    wer = edits / reference_words if reference_words else 0.0
    return WerReport(substitutions, deletions, insertions, reference_words, wer)


def wer_report(reference: str, hypothesis: str) -> WerReport:
    """Align hypothesis against reference and count substitutions, deletions and insertions.

    Raises InvalidRequestError when the reference has no words: the rate would divide by zero.
    """
    ref = normalise(reference)
    hyp = normalise(hypothesis)
    if not ref:
        raise InvalidRequestError.single(
            "reference", "required", "the reference text has no words, so a word error rate is undefined"
        )
    # Each cell holds (edits, substitutions, deletions, insertions) for ref[:i] against hyp[:j];
    # tuples compare by total edits first, so the minimum is a cheapest alignment.
    previous = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i, ref_word in enumerate(ref, start=1):
        current = [(i, 0, i, 0)]
        for j, hyp_word in enumerate(hyp, start=1):
            diag = previous[j - 1]
            match = diag if ref_word == hyp_word else (diag[0] + 1, diag[1] + 1, diag[2], diag[3])
            up = previous[j]
            deletion = (up[0] + 1, up[1], up[2] + 1, up[3])
            left = current[j - 1]
            insertion = (left[0] + 1, left[1], left[2], left[3] + 1)
            current.append(min(match, deletion, insertion))
        previous = current
    _, substitutions, deletions, insertions = previous[-1]
    return _report(substitutions, deletions, insertions, len(ref))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / number of reference words, after normalising both.

    >>> word_error_rate("one two three", "one two three")
    0.0
    """
    return wer_report(reference, hypothesis).wer
