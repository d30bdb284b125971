"""list_page against a plain model of OSS listing: prefix, delimiter, page size and resuming after `last`."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from localcloud.services.oss.listing import list_page
from localcloud.services.oss.store import ObjectStore
from localcloud.state import StateStore

PARTS = ("a", "b", "jobs", "x1", "é", "文", "_due")


def _model(keys: list[str], prefix: str, delimiter: str) -> list[str]:
    """Every entry a full walk lists: keys, and each common prefix once (a trailing '/' marks those)."""
    entries: list[str] = []
    for key in sorted(keys):
        if not key.startswith(prefix):
            continue
        index = key.find(delimiter, len(prefix)) if delimiter else -1
        entry = key if index < 0 else key[: index + len(delimiter)]
        if not entries or entries[-1] != entry:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[ObjectStore, list[str]]:
    objects = ObjectStore(StateStore(Path(tmp_path_factory.mktemp("listing"))))
    objects.create_bucket("media")
    rng = random.Random(7)
    keys = sorted(
        {"/".join(rng.choice(PARTS) for _ in range(rng.randint(1, 4))) for _ in range(300)}
        # A folder fuller than one delimited batch, and keys continuing with the last code point: the walk
        # must resume past every key of a common prefix, not at "prefix + U+10FFFF".
        | {f"a/{n:02d}" for n in range(20)}
        | {"a/\U0010ffffz", "b/\U0010ffff/x"}
    )
    for key in keys:
        objects.put_stream("media", key, io.BytesIO(b"x"))
    return objects, keys


@pytest.mark.parametrize("seed", range(30))
def test_paged_walk_lists_what_the_model_lists(store: tuple[ObjectStore, list[str]], seed: int) -> None:
    objects, keys = store
    rng = random.Random(seed)
    prefix = rng.choice(("", "a/", "jobs/", "b/a", "文/", "nothing/"))
    delimiter = rng.choice(("", "/", "/"))
    max_keys = rng.choice((1, 2, 3, 7, 20, 1000))
    listed: list[str] = []
    after = ""
    for _ in range(len(keys) + 2):
        page = list_page(objects, "media", prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys)
        assert page.count <= max_keys
        listed += [record.key for record in page.objects] + page.prefixes
        if not page.truncated:
            break
        after = page.last
    assert len(listed) == len(set(listed)), "an entry was listed twice"
    assert sorted(listed) == sorted(_model(keys, prefix, delimiter))
