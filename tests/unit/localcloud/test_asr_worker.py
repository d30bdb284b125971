"""Recognition in a worker process (localcloud's DashScope Recognizer), with a scripted plug-in engine.

The engine (scripted_engine.py) reads no audio; each file's name says what it should do. No sockets: the
worker speaks over pipes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from localcloud.services.dashscope.errors import RecognitionFailure
from localcloud.services.dashscope.recognition import Recognizer, _language_message
from localcloud.services.dashscope.worker import EngineDescription, WorkerStopped
from tests.unit.localcloud.scripted_engine import SPEC, heard_pid

REPOSITORY = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def recognizer() -> Iterator[Recognizer]:
    shared = Recognizer(SPEC)
    yield shared
    shared.close()


def _recognize(recognizer: Recognizer, path: Path, language: str | None = "en") -> int:
    return heard_pid(recognizer.recognize(path, language=language, channel=0, enable_words=True))


def _failure(recognizer: Recognizer, path: Path, language: str | None = "en") -> RecognitionFailure:
    with pytest.raises(RecognitionFailure) as caught:
        recognizer.recognize(path, language=language, channel=0, enable_words=True)
    return caught.value


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_recognition_runs_in_one_worker_process_not_in_localclouds_own(
    recognizer: Recognizer, tmp_path: Path
) -> None:
    first = _recognize(recognizer, tmp_path / "pid.wav")
    second = _recognize(recognizer, tmp_path / "pid.wav")

    assert first == second
    assert first != os.getpid()


def test_the_engines_name_and_languages_come_from_the_worker(recognizer: Recognizer) -> None:
    assert recognizer.description == EngineDescription("scripted", frozenset({"en", "fr"}))


@pytest.mark.parametrize(
    ("stem", "code"),
    [
        ("language", "UNSUPPORTED_LANGUAGE"),
        ("channel", "CHANNEL_ID_OUT_OF_RANGE"),
        ("media", "FILE_DECODE_FAILED"),
    ],
)
def test_what_the_engine_refuses_keeps_its_code_across_the_process_boundary(
    recognizer: Recognizer, tmp_path: Path, stem: str, code: str
) -> None:
    path = tmp_path / f"{stem}.wav"

    failure = _failure(recognizer, path, language="de")

    assert failure.code == code
    assert str(path) not in failure.message


def test_an_unsupported_language_is_explained_with_the_engines_languages(
    recognizer: Recognizer, tmp_path: Path
) -> None:
    failure = _failure(recognizer, tmp_path / "language.wav", language="de")

    assert "English (en), French (fr) only, not 'de'" in failure.message
    assert "LOCALCLOUD_ASR_ENGINE" in failure.message


def test_an_unexpected_engine_error_is_an_internal_error_logged_with_its_traceback(
    recognizer: Recognizer, tmp_path: Path
) -> None:
    with capture_logs() as logs:
        failure = _failure(recognizer, tmp_path / "boom.wav")

    assert failure.code == "InternalError"
    assert "RuntimeError" in failure.message
    [entry] = [entry for entry in logs if entry["event"] == "dashscope.recognition.engine_failed"]
    assert "the model crashed" in entry["traceback"]
    assert "scripted_engine.py" in entry["traceback"]


def test_a_model_the_engine_cannot_set_up_is_an_internal_error_that_says_why(
    recognizer: Recognizer, tmp_path: Path
) -> None:
    failure = _failure(recognizer, tmp_path / "config.wav")

    assert failure.code == "InternalError"
    assert failure.message == "no recognition engine: the model joined from its parts has the wrong sha256"


def test_an_english_whisper_refusing_a_language_points_at_the_multilingual_model() -> None:
    english = EngineDescription("whisper", frozenset({"en"}))
    routed = EngineDescription("whisper", frozenset({"en", "zh"}))

    assert "`make install-multilingual`" in _language_message("zh", english)
    assert "LOCALCLOUD_ASR_ENGINE" in _language_message("zh", english)
    assert "make install-multilingual" not in _language_message("fil", routed)


@pytest.mark.parametrize("stem", ["unpicklable", "wrong-type"])
def test_an_answer_that_is_not_a_recognition_is_an_internal_error(
    recognizer: Recognizer, tmp_path: Path, stem: str
) -> None:
    failure = _failure(recognizer, tmp_path / f"{stem}.wav")

    assert failure.code == "InternalError"


def test_an_answer_this_process_cannot_load_costs_that_answer_only(
    recognizer: Recognizer, tmp_path: Path
) -> None:
    failure = _failure(recognizer, tmp_path / "foreign.wav")

    assert failure.code == "InternalError"
    assert "foreign_text_for_audiochain" in failure.message
    assert _recognize(recognizer, tmp_path / "pid.wav") != os.getpid()


def test_what_an_engine_prints_does_not_disturb_the_answers(recognizer: Recognizer, tmp_path: Path) -> None:
    pid = _recognize(recognizer, tmp_path / "chatty.wav")

    assert pid != os.getpid()
    assert _recognize(recognizer, tmp_path / "pid.wav") == pid


def test_a_worker_that_dies_is_replaced_and_the_call_tried_again(
    recognizer: Recognizer, tmp_path: Path
) -> None:
    before = _recognize(recognizer, tmp_path / "pid.wav")

    after = _recognize(recognizer, tmp_path / "die-once.wav")

    assert (tmp_path / "die-once.died").exists(), "the first worker should have died"
    assert after != before
    assert not _process_exists(before)


def test_a_call_that_kills_every_worker_fails_and_the_next_call_still_works(
    recognizer: Recognizer, tmp_path: Path
) -> None:
    failure = _failure(recognizer, tmp_path / "die.wav")

    assert failure.code == "InternalError"
    assert "died twice" in failure.message
    assert _recognize(recognizer, tmp_path / "pid.wav") != os.getpid()


def test_an_engine_that_cannot_be_built_fails_every_call_naming_the_spec(tmp_path: Path) -> None:
    broken = Recognizer("no_such_package_for_audiochain.engine:make")
    try:
        for _ in range(2):
            with pytest.raises(RecognitionFailure) as caught:
                broken.check_language("en")
            assert caught.value.code == "InternalError"
            assert "cannot import 'no_such_package_for_audiochain.engine'" in caught.value.message
        assert _failure(broken, tmp_path / "pid.wav").code == "InternalError"
    finally:
        broken.close()


def test_a_closed_recognizer_refuses_work_and_its_process_has_ended(tmp_path: Path) -> None:
    closing = Recognizer(SPEC)
    pid = _recognize(closing, tmp_path / "pid.wav")

    closing.close()

    assert not _process_exists(pid)
    with pytest.raises(WorkerStopped):
        closing.recognize(tmp_path / "pid.wav", language="en", channel=0, enable_words=False)


def test_a_recognizer_closed_before_any_use_starts_no_process(tmp_path: Path) -> None:
    unused = Recognizer(SPEC)
    unused.close()

    with pytest.raises(WorkerStopped):
        unused.check_language("en")


def test_a_script_without_a_main_guard_runs_once_and_recognises(tmp_path: Path) -> None:
    # multiprocessing's spawn would run this script again in the worker, and the recognition would fail.
    script = tmp_path / "try_localcloud.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            from localcloud.services.dashscope.recognition import Recognizer, _language_message

            print("script started")
            recognizer = Recognizer({SPEC!r})
            heard = recognizer.recognize(Path("pid.wav"), language="en", channel=0, enable_words=False)
            print("heard:", heard.text)
            recognizer.close()
            """
        )
    )
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}

    finished = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.count("script started") == 1
    assert "heard: Process " in finished.stdout
