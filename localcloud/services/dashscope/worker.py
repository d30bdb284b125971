"""Speech recognition in a worker process, so that decoding does not stall localcloud's other requests.

PocketSphinx decodes in C but holds the GIL much of the time: run on a thread of localcloud's own process,
it slowed every other request (a HEAD of a small object took 300-800 ms instead of 2 ms while a long file
was recognised). A RecognitionWorker runs the configured engine in one child process instead, started on
first use, which builds the engine once from its spec string. One process, one engine: calls run one at
a time, as they did under the engine's own lock.

The child is a fresh interpreter (`python -c`, `sys.executable`) that speaks pickles over its stdin and
stdout; its own output goes to stderr. Not multiprocessing's `spawn`: that re-runs the parent's main
script in the child, so a script that starts localcloud without an `if __name__ == "__main__":` guard
would run twice and its recognitions fail.

Only plain picklable values come back: the Recognition dataclasses, an EngineDescription, or a
WorkerFailure. Engine exceptions are translated inside the worker: exception classes with their own
`__init__` (UnsupportedLanguage, MediaError) do not survive pickling reliably.

A plug-in engine (`package.module:factory`, see localcloud/engines/asr.py) is imported and built in the
worker, which starts with the parent's `sys.path`, environment and working directory: its module must be
importable from there (not defined in `__main__` or created at run time), and what its `recognize`
returns must pickle (the Recognition dataclasses do).

If the worker dies (killed, or crashed in native code), it is replaced and the call tried once more on a
fresh worker; a second death is reported as a failure. After `close()` nothing more is accepted: calls
raise WorkerStopped.

    >>> worker = RecognitionWorker("pocketsphinx")                                     # doctest: +SKIP
    >>> worker.describe()                                                              # doctest: +SKIP
    EngineDescription(name='pocketsphinx', languages=frozenset({'en'}))
    >>> worker.recognize("/tmp/a.wav", language="en", channel=0, enable_words=True)   # doctest: +SKIP
    Recognition(language='en', duration_ms=2480, ...)
    >>> worker.close()                                                                 # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import IO, Literal

from localcloud.engines.asr import Recognition, RecognitionEngine, UnsupportedLanguage
from localcloud.engines.errors import MediaError
from localcloud.engines.recognizers import load_engine
from shared.errors import ConfigurationError, InvalidRequestError
from shared.logging import get_logger

__all__ = ["EngineDescription", "FailureKind", "RecognitionWorker", "WorkerFailure", "WorkerStopped", "serve"]

log = get_logger("localcloud.dashscope")

FailureKind = Literal["unsupported_language", "invalid_request", "media", "no_engine", "crashed"]
# Every message is a frame: its length (8 bytes, big-endian), then a pickle. A pickle that cannot be
# loaded (a class the parent cannot import) then costs that answer only, not the rest of the stream.
_LENGTH_BYTES = 8
# Run by the child. Answers go out on the real stdout; from here on, whatever anything prints goes to
# stderr. The parent's sys.path (the first frame) is taken before anything of localcloud is imported.
_BOOTSTRAP = """
import os, pickle, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
answers = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)
requests = sys.stdin.buffer
path, spec = pickle.loads(requests.read(int.from_bytes(requests.read(8), "big")))
sys.path[:] = path
from localcloud.services.dashscope.worker import serve
serve(spec, requests, answers)
"""
_EXIT_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class EngineDescription:
    """What the parent needs to know of the engine without running it: its name and languages."""

    name: str
    languages: frozenset[str]


@dataclass(frozen=True)
class WorkerFailure:
    """Why the worker could not recognise: `kind`, a message, the request field to blame (if any), and
    for a crash the traceback (`detail`) to log in the parent."""

    kind: FailureKind
    message: str
    field: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class _Describe:
    pass


@dataclass(frozen=True)
class _Recognize:
    audio_path: str
    language: str | None
    channel: int
    enable_words: bool


class WorkerStopped(RuntimeError):
    """The worker was closed (localcloud is stopping): the call was not run."""

    def __init__(self) -> None:
        super().__init__("the recognition worker has been stopped")


class _WorkerDied(Exception):
    """The child process ended, or its answer could not be read."""


class RecognitionWorker:
    """The configured engine in one child process, started on first use; thread-safe."""

    def __init__(self, spec: str, *, threads: int | None = None) -> None:
        self.spec = spec
        self._threads = threads
        self._process: _ChildProcess | None = None
        self._closed = threading.Event()
        self._calls = threading.Lock()  # one call at a time; close() waits for the one in progress

    def describe(self) -> EngineDescription | WorkerFailure:
        """The engine's name and languages, as the worker built it (or why it could not)."""
        answer = self._call(_Describe())
        if not isinstance(answer, (EngineDescription, WorkerFailure)):
            return WorkerFailure("crashed", f"the worker answered {type(answer).__name__}")
        return answer

    def recognize(
        self, audio_path: str, *, language: str | None, channel: int, enable_words: bool
    ) -> Recognition | WorkerFailure:
        """One channel of a local file, recognised in the worker."""
        answer = self._call(_Recognize(audio_path, language, channel, enable_words))
        if not isinstance(answer, (Recognition, WorkerFailure)):
            return WorkerFailure("crashed", f"the worker answered {type(answer).__name__}")
        return answer

    def close(self) -> None:
        """Refuse new calls, let the one in progress finish, then end the child process."""
        self._closed.set()
        with self._calls:
            process, self._process = self._process, None
        if process is not None:
            process.stop()

    def _call(self, request: _Describe | _Recognize) -> object:
        for attempt in (1, 2):
            with self._calls:
                if self._closed.is_set():
                    raise WorkerStopped()
                if self._process is None:
                    try:
                        self._process = _ChildProcess(self.spec, self._threads)
                    except OSError as exc:
                        return WorkerFailure("crashed", f"cannot start the recognition worker: {exc}")
                process = self._process
                try:
                    return process.ask(request)
                except _WorkerDied as died:
                    self._process = None
                    process.kill()
                    if attempt == 2:
                        return WorkerFailure("crashed", f"the recognition worker process died twice: {died}")
                    log.warning("dashscope.worker.died_restarting", reason=str(died))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises


class _ChildProcess:
    """The parent's handle on one child: pickles out on its stdin, pickles back from its stdout."""

    def __init__(self, spec: str, threads: int | None) -> None:
        environment = dict(os.environ)
        if threads is not None:
            # Native engines (CTranslate2, ONNX Runtime) size their thread pools from this: with one worker
            # per core, a worker that took every core would make the others wait on it.
            environment["OMP_NUM_THREADS"] = str(threads)
        self._popen = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Its own session: a Ctrl-C in the terminal is for localcloud, which then stops the worker.
            start_new_session=os.name == "posix",
        )
        with contextlib.suppress(OSError):  # it died at once: the first ask finds out and says so
            self._send((list(sys.path), spec))

    def ask(self, request: _Describe | _Recognize) -> object:
        assert self._popen.stdout is not None
        try:
            self._send(request)
            data = _read_frame(self._popen.stdout)
        except OSError as exc:
            data, reason = None, type(exc).__name__
        else:
            reason = "its output ended"
        if data is None:
            code = self._popen.poll()
            raise _WorkerDied(f"exit status {code}" if code is not None else reason)
        try:
            return pickle.loads(data)
        except Exception as exc:
            return WorkerFailure("crashed", f"the worker's answer cannot be read here: {exc}")

    def stop(self) -> None:
        """End an idle child: it exits when its stdin closes."""
        if self._popen.stdin is not None:
            with contextlib.suppress(OSError):  # it is gone already
                self._popen.stdin.close()
        try:
            self._popen.wait(_EXIT_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_pipes()

    def kill(self) -> None:
        self._popen.kill()
        self._popen.wait()
        self._close_pipes()

    def _send(self, message: object) -> None:
        assert self._popen.stdin is not None
        _write_frame(self._popen.stdin, pickle.dumps(message))

    def _close_pipes(self) -> None:
        for pipe in (self._popen.stdin, self._popen.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a broken pipe has nothing left to flush
                    pipe.close()


# --- in the worker process ------------------------------------------------------------------------------


def serve(spec: str, requests: IO[bytes], answers: IO[bytes]) -> None:
    """The child's loop (started by RecognitionWorker's bootstrap): build the engine, then answer
    requests until `requests` ends. Not for other callers."""
    engine, problem = _build(spec)
    while (frame := _read_frame(requests)) is not None:  # None: the parent closed the pipe, or died
        answer = _answer(engine, problem, pickle.loads(frame))
        try:
            data = pickle.dumps(answer)
        except Exception as exc:
            data = pickle.dumps(WorkerFailure("crashed", f"the engine's answer cannot be sent back: {exc}"))
        try:
            _write_frame(answers, data)
        except OSError:
            return  # the parent is gone


def _write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(len(data).to_bytes(_LENGTH_BYTES, "big") + data)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's pickle, or None when the stream ends before a whole frame came."""
    header = stream.read(_LENGTH_BYTES)
    if len(header) < _LENGTH_BYTES:
        return None
    size = int.from_bytes(header, "big")
    data = stream.read(size)
    return data if len(data) == size else None


def _build(spec: str) -> tuple[RecognitionEngine | None, str]:
    try:
        return load_engine(spec), ""
    except ConfigurationError as exc:
        return None, str(exc)
    except Exception as exc:  # load_engine translates the expected failures; keep the worker alive anyway
        return None, f"building the engine {spec!r} failed: {type(exc).__name__}: {exc}"


def _answer(engine: RecognitionEngine | None, problem: str, request: object) -> object:
    if engine is None:
        return WorkerFailure("no_engine", problem)
    if isinstance(request, _Describe):
        return EngineDescription(str(engine.name), frozenset(str(code) for code in engine.languages))
    if not isinstance(request, _Recognize):
        return WorkerFailure("crashed", f"unknown request {type(request).__name__}")
    try:
        result = engine.recognize(
            request.audio_path,
            language=request.language,
            channel=request.channel,
            enable_words=request.enable_words,
        )
    except UnsupportedLanguage as exc:
        return WorkerFailure("unsupported_language", exc.problems[0].message, "language")
    except InvalidRequestError as exc:
        return WorkerFailure("invalid_request", exc.problems[0].message, exc.field)
    except MediaError as exc:
        return WorkerFailure("media", exc.message)
    except ConfigurationError as exc:  # a model the engine builds on first use is missing or corrupt
        return WorkerFailure("no_engine", str(exc))
    except Exception as exc:
        return WorkerFailure("crashed", f"{type(exc).__name__}: {exc}", detail=traceback.format_exc())
    if not isinstance(result, Recognition):
        return WorkerFailure("crashed", f"the engine returned {type(result).__name__}, not a Recognition")
    return result
