"""Plug-in recognition engines for tests (`tests.unit.localcloud.scripted_engine:make_engine`, ...).

It reads no audio: the file's name (its stem) says what to do, so tests can make the engine succeed,
refuse, fail or die inside localcloud's worker process.

    pid          hear "Process <the id of the process the engine runs in>."
    chatty       print to stdout and stderr, then as "pid"
    die-once     end the process abruptly the first time (a "<stem>.died" file beside it remembers)
    die          end the process abruptly, every time
    boom         raise RuntimeError
    language     raise UnsupportedLanguage
    channel      raise InvalidRequestError naming channel_id
    media        raise MediaError
    config       raise ConfigurationError (as a model the engine assembles on first use may)
    unpicklable  return a Recognition that cannot be pickled
    foreign      return a Recognition holding an object of a module only the worker can import
    wrong-type   return something that is not a Recognition
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from localcloud.engines.asr import Recognition, RecognizedSentence, UnsupportedLanguage
from localcloud.engines.errors import MediaError
from shared.errors import ConfigurationError, InvalidRequestError

SPEC = f"{__name__}:make_engine"
FAILING_SPEC = f"{__name__}:make_failing_engine"
EXIT_STATUS = 3


class ScriptedEngine:
    name = "scripted"
    languages = frozenset({"en", "fr"})

    def recognize(
        self, audio_path: str, *, language: str | None = None, channel: int = 0, enable_words: bool = True
    ) -> Recognition:
        path = Path(audio_path)
        action = path.stem
        if action == "chatty":
            print("the scripted engine talks on stdout")
            print("and on stderr", file=sys.stderr)
        elif action == "die-once":
            marker = path.with_suffix(".died")
            if not marker.exists():
                marker.touch()
                os._exit(EXIT_STATUS)
        elif action == "die":
            os._exit(EXIT_STATUS)
        elif action == "boom":
            raise RuntimeError("the model crashed")
        elif action == "language":
            raise UnsupportedLanguage(language or "?", self.name, self.languages)
        elif action == "channel":
            raise InvalidRequestError.single(
                "channel_id", "out_of_range", f"channel {channel} does not exist in '{audio_path}'"
            )
        elif action == "media":
            raise MediaError(MediaError.INVALID_SOURCE, f"{audio_path}: not a readable media file")
        elif action == "config":
            raise ConfigurationError("the model joined from its parts has the wrong sha256")
        elif action == "unpicklable":
            sentence = RecognizedSentence(0, 1000, "Hello.", words=[lambda: None])  # type: ignore[list-item]
            return Recognition(language or "en", 1000, 16000, "wav", [sentence])
        elif action == "foreign":
            (path.parent / "foreign_text_for_audiochain.py").write_text("class ForeignText(str):\n    pass\n")
            sys.path.insert(0, str(path.parent))
            foreign = importlib.import_module("foreign_text_for_audiochain")
            sentence = RecognizedSentence(0, 1000, foreign.ForeignText("Hello."))
            return Recognition(language or "en", 1000, 16000, "wav", [sentence])
        elif action == "wrong-type":
            return "Hello."  # type: ignore[return-value]
        sentence = RecognizedSentence(0, 1000, f"Process {os.getpid()}.")
        return Recognition(language or "en", 1000, 16000, "wav", [sentence])


class FailingEngine:
    """Fails whatever it is given (localcloud names its fetched copies itself, so names cannot script it)."""

    name = "failing"
    languages = frozenset({"en"})

    def recognize(
        self, audio_path: str, *, language: str | None = None, channel: int = 0, enable_words: bool = True
    ) -> Recognition:
        raise RuntimeError("the model crashed")


def make_engine() -> ScriptedEngine:
    return ScriptedEngine()


def make_failing_engine() -> FailingEngine:
    return FailingEngine()


def heard_pid(recognition: Recognition) -> int:
    """The process id a "pid" recognition reports."""
    return int(recognition.text.removeprefix("Process ").removesuffix("."))
