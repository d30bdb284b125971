"""prefix_range: the index bounds of a prefix listing hold exactly the keys that start with the prefix."""

from __future__ import annotations

import random

import pytest

from localcloud.state import prefix_range

ALPHABET = ("a", "b", "/", "0", "z", "\x7f", "é", "\ud7ff", "\ue000", "文", "\U0010ffff", "\U0001f600")


def _inside(key: str, low: str, high: str | None) -> bool:
    # SQLite compares TEXT as UTF-8 bytes; so does this.
    encoded = key.encode("utf-8")
    return low.encode("utf-8") <= encoded and (high is None or encoded < high.encode("utf-8"))


@pytest.mark.parametrize("seed", range(20))
def test_bounds_select_exactly_the_keys_with_the_prefix(seed: int) -> None:
    rng = random.Random(seed)
    prefix = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 3)))
    low, high = prefix_range(prefix)
    for _ in range(400):
        key = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5)))
        if rng.random() < 0.5:
            key = prefix + key
        assert _inside(key, low, high) == key.startswith(prefix), (prefix, key)


def test_a_prefix_ending_in_the_last_code_point_is_bounded_by_its_parent() -> None:
    assert prefix_range("a\U0010ffff") == ("a\U0010ffff", "b")
    assert prefix_range("\U0010ffff") == ("\U0010ffff", None)
