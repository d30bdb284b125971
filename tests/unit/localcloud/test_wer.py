from __future__ import annotations

import pytest

from localcloud.engines.wer import WerReport, normalise, wer_report, word_error_rate
from shared.errors import InvalidRequestError


def test_identical_texts_have_no_errors() -> None:
    assert word_error_rate("the quick brown fox", "the quick brown fox") == 0.0


def test_case_and_punctuation_do_not_count_as_errors() -> None:
    assert word_error_rate("Hello, World! How are you?", "hello world how are you") == 0.0


def test_one_wrong_word_in_six_is_a_rate_of_one_sixth() -> None:
    report = wer_report("the cat sat on the mat", "the cat sat on a mat")

    assert report == WerReport(substitutions=1, deletions=0, insertions=0, reference_words=6, wer=1 / 6)


def test_missing_and_extra_words_are_counted_as_deletions_and_insertions() -> None:
    assert wer_report("one two three four", "one three four") == WerReport(0, 1, 0, 4, 0.25)
    assert wer_report("one two three", "one two and three") == WerReport(0, 0, 1, 3, 1 / 3)


def test_an_empty_hypothesis_deletes_every_reference_word() -> None:
    assert wer_report("three little words", "") == WerReport(0, 3, 0, 3, 1.0)


def test_insertions_can_push_the_rate_above_one() -> None:
    assert word_error_rate("yes", "no no no") == 3.0


def test_the_cheapest_alignment_is_found_when_words_shift() -> None:
    # "a b c d" against "b c d e": drop "a", add "e" (2 edits), not four substitutions.
    assert wer_report("a b c d", "b c d e").errors == 2


def test_an_empty_reference_is_refused_because_the_rate_is_undefined() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        word_error_rate(" ... ", "anything")

    assert caught.value.field == "reference"
    assert caught.value.rule == "required"


def test_normalising_keeps_numbers_as_written_and_inner_apostrophes() -> None:
    assert normalise("It's 3.5 km, about 1,000 steps; the 3rd time!") == [
        "it's",
        "3.5",
        "km",
        "about",
        "1,000",
        "steps",
        "the",
        "3rd",
        "time",
    ]


def test_normalising_splits_hyphenated_words_and_folds_curly_apostrophes() -> None:
    assert normalise("A well-known DON\u2019T") == ["a", "well", "known", "don't"]


def test_chinese_is_compared_character_by_character() -> None:
    assert normalise("你好，世界。") == ["你", "好", "世", "界"]  # noqa: RUF001
    assert wer_report("今天天气很好", "今天天气不好") == WerReport(1, 0, 0, 6, 1 / 6)


def test_reports_pool_into_a_corpus_rate() -> None:
    pooled = wer_report("a b c d", "a b c x") + wer_report("e f", "")

    assert pooled == WerReport(substitutions=1, deletions=2, insertions=0, reference_words=6, wer=0.5)
