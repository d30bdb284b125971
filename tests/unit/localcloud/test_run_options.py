"""`localcloud run`'s recognition options and sidecar references, checked without running anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.run import options_from_arguments
from localcloud.run.inputs import sidecar_reference
from shared.errors import InvalidRequestError


def test_language_and_channels_become_an_upload_rule_for_the_runs_folder() -> None:
    options = options_from_arguments([], language=" EN ", channels="0,1")

    assert (options.language, options.channels) == ("en", (0, 1))
    assert options.upload_rules("run-1") == [{"prefix": "run-1/", "language": "en", "channels": [0, 1]}]
    assert options_from_arguments([]).upload_rules("run-1") == []


@pytest.mark.parametrize(
    ("language", "channels", "option"),
    [("klingon", None, "--language"), (None, "left,right", "--channels"), (None, "0,0", "--channels"),
     (None, "9", "--channels")],
)  # fmt: skip
def test_a_bad_recognition_option_is_refused_naming_it(
    language: str | None, channels: str | None, option: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        options_from_arguments([], language=language, channels=channels)

    assert caught.value.field == option


def test_a_sidecar_text_beside_the_audio_is_its_reference(tmp_path: Path) -> None:
    audio = tmp_path / "talk.wav"
    (tmp_path / "talk.txt").write_text("Hello  there,\nworld.\n", encoding="utf-8")

    assert sidecar_reference(audio) == ("Hello there, world.", None)


def test_an_unusable_sidecar_is_noted_not_used(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "b.txt").write_text(" ... \n", encoding="utf-8")

    assert sidecar_reference(tmp_path / "a.wav")[0] is None
    assert "cannot be read as UTF-8" in str(sidecar_reference(tmp_path / "a.wav")[1])
    assert sidecar_reference(tmp_path / "b.wav") == (None, "reference b.txt not used: it has no words")
