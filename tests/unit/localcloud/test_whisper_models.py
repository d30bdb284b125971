"""Finding and assembling the Whisper models, on small fake part packages made here (no real model)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from localcloud.engines import whisper_models
from localcloud.engines.whisper_models import (
    WHISPER_BASE,
    SplitModel,
    model_cache_dir,
    multilingual_installed,
    multilingual_model_path,
)
from shared.errors import ConfigurationError

SMALL_FILES = {"config.json": b'{"fake": true}', "tokenizer.json": b"{}", "vocabulary.txt": b"a\nb\n"}
PART1 = b"first half of model.bin " * 1000
PART2 = b"second half " * 700


def _fake_model(name: str = "fake-base") -> SplitModel:
    joined = PART1 + PART2
    return SplitModel(
        name=name,
        packages=("fake_whisper_part1", "fake_whisper_part2"),
        distributions=("fake-whisper-part1==1.0", "fake-whisper-part2==1.0"),
        files=tuple(SMALL_FILES),
        sha256=hashlib.sha256(joined).hexdigest(),
        size=len(joined),
    )


def _install(site: Path, package: str, files: dict[str, bytes]) -> None:
    data = site / package / "data"
    data.mkdir(parents=True)
    (site / package / "__init__.py").write_text('"""Model data only."""\n')
    for name, content in files.items():
        (data / name).write_bytes(content)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path with both fake part packages installed in it."""
    site = tmp_path / "site-packages"
    _install(site, "fake_whisper_part1", {**SMALL_FILES, "model.bin.part1": PART1})
    _install(site, "fake_whisper_part2", {"model.bin.part2": PART2})
    monkeypatch.syspath_prepend(str(site))
    return site


def _everything_under(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


def test_the_parts_are_joined_into_a_directory_named_by_the_hash(site: Path, tmp_path: Path) -> None:
    model = _fake_model()
    cache = tmp_path / "cache"

    path = multilingual_model_path(model, cache_dir=cache)

    assert path == cache / f"fake-base-{model.sha256[:12]}"
    assert (path / "model.bin").read_bytes() == PART1 + PART2
    assert {name: (path / name).read_bytes() for name in SMALL_FILES} == SMALL_FILES
    inside = sorted([*SMALL_FILES, "model.bin"])
    assert _everything_under(cache) == [path.name, *(f"{path.name}/{name}" for name in inside)]


def test_a_hash_that_does_not_match_the_pin_is_refused_and_leaves_nothing_behind(
    site: Path, tmp_path: Path
) -> None:
    model = replace(_fake_model(), sha256="0" * 64)
    cache = tmp_path / "cache"

    with pytest.raises(ConfigurationError) as caught:
        multilingual_model_path(model, cache_dir=cache)

    message = str(caught.value)
    assert "fake-whisper-part1==1.0" in message and "fake-whisper-part2==1.0" in message
    assert f"expected {'0' * 64}" in message
    assert hashlib.sha256(PART1 + PART2).hexdigest() in message
    assert "make install-multilingual" in message
    assert _everything_under(cache) == []


def test_a_second_call_reuses_the_assembled_model(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _fake_model()
    first = multilingual_model_path(model, cache_dir=tmp_path)

    def must_not_assemble(*args: object) -> None:
        raise AssertionError("assembled again")

    monkeypatch.setattr(whisper_models, "_assemble", must_not_assemble)
    assert multilingual_model_path(model, cache_dir=tmp_path) == first


def test_a_model_bin_of_the_wrong_size_is_assembled_again(site: Path, tmp_path: Path) -> None:
    model = _fake_model()
    path = multilingual_model_path(model, cache_dir=tmp_path)
    assert path is not None
    (path / "model.bin").write_bytes(PART1)  # as if someone had cut it short

    assert multilingual_model_path(model, cache_dir=tmp_path) == path
    assert (path / "model.bin").read_bytes() == PART1 + PART2


def test_processes_that_assemble_at_once_each_write_their_own_file_and_agree(
    site: Path, tmp_path: Path
) -> None:
    model = _fake_model()
    results: list[Path | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(multilingual_model_path(model, cache_dir=tmp_path)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1 and results[0] is not None
    assert (results[0] / "model.bin").read_bytes() == PART1 + PART2
    assert not [path for path in tmp_path.rglob("*") if path.name.endswith(".partial")]


def test_missing_part_packages_mean_no_multilingual_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    _install(site, "fake_whisper_part1", {**SMALL_FILES, "model.bin.part1": PART1})
    monkeypatch.syspath_prepend(str(site))
    model = _fake_model()

    assert not multilingual_installed(model)
    assert multilingual_model_path(model, cache_dir=tmp_path / "cache") is None
    assert not (tmp_path / "cache").exists()
    assert multilingual_model_path(replace(model, packages=("no_such_part1", "no_such_part2"))) is None


def test_a_cache_that_cannot_be_written_is_a_configuration_error_naming_the_variable(
    site: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    with pytest.raises(ConfigurationError) as caught:
        multilingual_model_path(_fake_model(), cache_dir=blocker)

    assert "LOCALCLOUD_MODEL_CACHE" in str(caught.value) and str(blocker) in str(caught.value)


def test_the_cache_directory_follows_the_variable_then_xdg_then_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("LOCALCLOUD_MODEL_CACHE", raising=False)

    assert model_cache_dir() == Path("/home/someone/.cache/audiochain/models")
    assert model_cache_dir({"XDG_CACHE_HOME": "/x", "LOCALCLOUD_MODEL_CACHE": "~/models"}) == Path(
        "/home/someone/models"
    )
    assert model_cache_dir({"XDG_CACHE_HOME": "", "LOCALCLOUD_MODEL_CACHE": ""}) == Path(
        "/home/someone/.cache/audiochain/models"
    )


def test_the_real_pin_names_what_requirements_install() -> None:
    pins = (Path(__file__).resolve().parents[3] / "requirements" / "models-multilingual.txt").read_text()
    for distribution in WHISPER_BASE.distributions:
        assert distribution in pins
    assert WHISPER_BASE.directory_name == "whisper-base-d01c3014881c"
