"""`python -m localcloud run [FILE ...]` (`make run`): the whole chain on this machine, start to finish.

It starts localcloud in process (every service, and the functions of template.yaml on the local FC
runtime) on a free loopback port, so it never collides with a `localcloud up` on 9000. It uploads each
file to the pipeline bucket's inbox (`audiochain/inbox/<run id>/<name>`) with audiochain's own
OssClient, and the OSS trigger starts the chain by itself: on_upload → OSS audio/convert → MNS
notification → on_notify → DashScope recognition → fetch_results → transcripts. The run only plays the
clock: it fires the fetch_results timer every `tick` seconds (the deployed timer fires every minute)
and follows each job through audiochain's HTTP API, printing a line whenever a job's steps change.

Without files it speaks three English samples with eSpeak NG (see `localcloud.run.inputs`), so it knows
what was said and reports each transcript's word error rate. At the end: a summary per file, the
transcripts copied to `<out>/<name>/transcript.{json,srt,vtt,txt}`, and `<out>/run-summary.json`.
Everything else stays in the data directory (default `.localcloud/run`, kept between runs; the run's
log is `run.log` there). Exit status: 0 when every file produced a transcript, 1 otherwise (a file that
could not be used, a failed job, the timeout), 2 when localcloud could not start, 130 after Ctrl-C.
Once the run has begun the summary is written, after a timeout or Ctrl-C too.

Modules beside this one: inputs.py (samples, checking the user's files), session.py (upload, follow, copy),
watch.py (the API, matching jobs to uploads, progress lines), report.py (the summary).

    >>> execute(RunOptions(files=("talk.mp3",), out_dir=Path("out")))  # doctest: +SKIP
    0

run-summary.json (version 1):

    {
      "version": 1,
      "run_id": "run-20250115-083045",
      "ok": true,                        # every file produced a transcript
      "started_at": "2025-01-15T08:30:45Z", "finished_at": "...", "seconds": 14.2,
      "endpoint": "http://127.0.0.1:41234", "bucket": "audiochain",
      "data_dir": ".localcloud/run", "out_dir": "out", "log": ".localcloud/run/run.log",
      "timed_out": false, "interrupted": false,   # the timeout struck; Ctrl-C
      "failure": null,                   # why the run stopped early (the API or localcloud failed)
      "pending": [],                     # names of files whose job had not finished
      "files": [{
        "name": "podcast-intro.mp3",     # unique in the run; the inbox key's last part
        "origin": null,                  # the path given on the command line; null for a generated sample
        "generated": true,
        "state": "succeeded",   # succeeded | failed | pending | not_started | invalid | upload_failed
        "transcript": true,              # the transcripts exist and were copied
        "audio": "11.8 s, mp3float 22050 Hz mono",
        "note": null,                    # e.g. an unaccepted suffix uploaded as a FLAC copy
        "key": "audiochain/inbox/run-20250115-083045/podcast-intro.mp3",
        "job_id": "j7ybr1kner7g0gmvjatt30jdj11",
        "seconds": 3.4,                  # upload to the job's end
        "error": null,                   # {"code", "message"} of a failed job or an unusable input
        "steps": [{"name": "convert", "state": "succeeded", "attempts": 1, "seconds": 0.1}, ...],
        "outputs": {"json": "audiochain/outputs/run-.../podcast-intro.mp3/transcript.json", ...},
        "downloads": {"json": "out/podcast-intro/transcript.json", ...},
        "excerpt": "Welcome back to the show. ...",     # the transcript's first ~160 characters
        "reference": "Welcome back to the show. ...",   # generated samples only
        "wer": {"wer": 0.04, "errors": 1, "reference_words": 28,
                "substitutions": 1, "deletions": 0, "insertions": 0}   # generated samples only
      }]
    }
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from localcloud.config import LocalCloudConfig
from localcloud.run.inputs import SAMPLES
from localcloud.run.report import FileResult, render_result, shown_path, write_summary
from localcloud.run.session import RunSession, SessionSettings
from localcloud.run.watch import RunFailure
from localcloud.server import LocalCloud
from shared.errors import ConfigurationError, InvalidRequestError
from shared.logging import configure_logging, reset_logging
from shared.pipeline.recognition import UploadRule

__all__ = ["DEFAULT_OUT_DIR", "DEFAULT_RUN_DATA_DIR", "RunOptions", "execute", "options_from_arguments"]

DEFAULT_RUN_DATA_DIR = Path(".localcloud/run")
DEFAULT_OUT_DIR = Path("out")
SUMMARY_NAME = "run-summary.json"
LATEST_NAME = "latest"
LOG_NAME = "run.log"
EXIT_OK, EXIT_FAILED, EXIT_NOT_STARTED, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class RunOptions:
    """What to run. No files and no samples named: every generated sample."""

    files: tuple[str, ...] = ()
    samples: tuple[str, ...] = ()
    data_dir: Path = DEFAULT_RUN_DATA_DIR
    out_dir: Path = DEFAULT_OUT_DIR
    port: int = 0
    timeout: float = 300.0
    tick: float = 2.0
    template: Path | None = None
    # How the run's uploads are recognised (an upload rule for the run's inbox folder); None: the defaults.
    language: str | None = None
    channels: tuple[int, ...] | None = None

    def upload_rules(self, run_id: str) -> list[dict[str, Any]]:
        """The template's UploadRules for this run: its folder, with the language and channels asked for."""
        rule: dict[str, Any] = {"prefix": f"{run_id}/"}
        if self.language is not None:
            rule["language"] = self.language
        if self.channels is not None:
            rule["channels"] = list(self.channels)
        return [rule] if len(rule) > 1 else []


class _Console:
    """Plain lines, flushed at once (they read the same in a terminal and in a CI log)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def say(self, line: str = "") -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


def execute(options: RunOptions, out: TextIO | None = None) -> int:
    """Run the chain over the files (or samples), printing to `out`; the exit status (module docstring)."""
    console = _Console(out or sys.stdout)
    template = _template_path(options.template)
    if template is None:
        where = options.template or "the working directory or beside the localcloud package"
        console.say(f"localcloud run: no template.yaml in {where}")
        return EXIT_NOT_STARTED
    options.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = options.data_dir / LOG_NAME
    # Every line the services and functions log goes to the run's log; the terminal gets progress only.
    with log_path.open("w", encoding="utf-8") as log_file:
        configure_logging(fmt="json", level="info", stream=log_file)
        try:
            return _run(options, template, log_path, console)
        finally:
            reset_logging()


def _template_path(given: Path | None) -> Path | None:
    if given is not None:
        return given if given.is_file() else None
    for candidate in (Path("template.yaml"), Path(__file__).resolve().parents[1] / "template.yaml"):
        if candidate.is_file():
            return candidate
    return None


def _start(options: RunOptions, template: Path, console: _Console, run_id: str) -> LocalCloud | None:
    """localcloud with every service and the template's functions, started; None (said why) if not."""
    rules = options.upload_rules(run_id)
    parameters = {"UploadRules": json.dumps(rules)} if rules else None
    try:
        config = LocalCloudConfig.from_environment(port=options.port, data_dir=options.data_dir)
        cloud = LocalCloud(config, template=template, functions_dir="functions", parameters=parameters)
    except (ConfigurationError, ValueError) as error:
        console.say(f"localcloud run: {error}")
        return None
    try:
        cloud.start()
    except OSError as error:  # the port: the services run already, the functions not yet
        cloud.stop()
        console.say(f"localcloud run: cannot serve on port {options.port}: {error}")
        return None
    except ConfigurationError as error:  # the functions' start; LocalCloud has stopped itself
        console.say(f"localcloud run: the functions did not start: {error}")
        return None
    return cloud


def _run(options: RunOptions, template: Path, log_path: Path, console: _Console) -> int:
    started = time.monotonic()
    started_at = datetime.now(timezone.utc).replace(microsecond=0)
    run_id = started_at.strftime("run-%Y%m%d-%H%M%S")
    cloud = _start(options, template, console, run_id)
    if cloud is None:
        return EXIT_NOT_STARTED
    # Each run keeps its own folder; `latest` points at the newest, so earlier results are never overwritten.
    run_out = options.out_dir / run_id
    run_out.mkdir(parents=True, exist_ok=True)
    _point_latest(options.out_dir, run_id)
    settings = SessionSettings(
        run_id, options.files, options.samples, run_out, log_path, options.timeout, options.tick
    )
    timed_out, failure, interrupted = False, None, False
    try:
        session = RunSession(cloud, settings, console.say)
        console.say(f"audiochain run {run_id}")
        console.say(
            f"  localcloud  {cloud.endpoint}  (every service; the functions of {shown_path(template)})"
        )
        console.say(f"  data        {shown_path(options.data_dir)}  (kept; log: {shown_path(log_path)})")
        console.say(
            f"  outputs     {shown_path(run_out)}  (also {shown_path(options.out_dir / LATEST_NAME)})"
        )
        try:
            timed_out = session.run()
        except KeyboardInterrupt:
            interrupted = True
            console.say("interrupted: stopping localcloud")
        except RunFailure as error:
            failure = str(error)
            console.say(f"localcloud run: {failure}")
    except RunFailure as error:
        console.say(f"localcloud run: {error}")
        return EXIT_FAILED
    finally:
        cloud.stop()
    results = session.results()
    ok = bool(results) and all(result.transcript for result in results)
    header: dict[str, Any] = {
        "run_id": run_id,
        "ok": ok and failure is None and not interrupted,
        "started_at": _utc_text(started_at),
        "finished_at": _utc_text(datetime.now(timezone.utc).replace(microsecond=0)),
        "seconds": round(time.monotonic() - started, 2),
        "endpoint": cloud.endpoint,
        "bucket": session.bucket,
        "data_dir": shown_path(options.data_dir),
        "out_dir": shown_path(run_out),
        "log": shown_path(log_path),
        "timed_out": timed_out,
        "interrupted": interrupted,
        "failure": failure,
        "pending": [result.name for result in results if result.state in ("pending", "not_started")],
    }
    summary_path = run_out / SUMMARY_NAME
    write_summary(summary_path, header, results)
    _print_summary(console, run_id, header["seconds"], results, summary_path)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if header["ok"] else EXIT_FAILED


def _point_latest(out_dir: Path, run_id: str) -> None:
    """`<out>/latest` -> `<run id>` (relative, so the folder can move); replaced atomically."""
    link = out_dir / LATEST_NAME
    temporary = out_dir / f".{LATEST_NAME}-{run_id}"
    temporary.unlink(missing_ok=True)
    try:
        temporary.symlink_to(run_id, target_is_directory=True)
        os.replace(temporary, link)
    except OSError:  # no symlinks here (some Windows set-ups): the run's own folder is still named
        temporary.unlink(missing_ok=True)


def _print_summary(
    console: _Console, run_id: str, seconds: float, results: Sequence[FileResult], summary_path: Path
) -> None:
    console.say()
    console.say(f"Summary of {run_id} ({seconds:.1f} s in all)")
    for result in results:
        for line in render_result(result):
            console.say(line)
    done = sum(result.transcript for result in results)
    console.say(f"{done} of {len(results)} files transcribed. Summary JSON: {shown_path(summary_path)}")


def _utc_text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def options_from_arguments(
    files: Sequence[str],
    *,
    samples: Sequence[str] = (),
    data: str | None = None,
    out: str | None = None,
    port: int = 0,
    timeout: float = 300.0,
    tick: float = 2.0,
    template: str | None = None,
    language: str | None = None,
    channels: str | None = None,
) -> RunOptions:
    """RunOptions from the command line's values; InvalidRequestError naming the option when one is wrong."""
    if timeout <= 0:
        raise InvalidRequestError.single("--timeout", "positive", f"must be above 0 seconds, got {timeout:g}")
    if not 0 < tick <= 60:
        raise InvalidRequestError.single("--tick", "range", f"must be above 0 and at most 60 s, got {tick:g}")
    if not 0 <= port <= 65535:
        raise InvalidRequestError.single("--port", "range", f"must be 0 (any free port) to 65535, got {port}")
    known = [sample.stem for sample in SAMPLES]
    unknown = [name for name in samples if name not in known]
    if unknown:
        raise InvalidRequestError.single(
            "--sample", "one_of", f"unknown sample {unknown[0]!r}; the samples are {', '.join(known)}"
        )
    rule = _recognition_options(language, channels)
    return RunOptions(
        language=rule.language.value if rule.language is not None else None,
        channels=rule.channels,
        files=tuple(files),
        samples=tuple(samples),
        data_dir=Path(data) if data else DEFAULT_RUN_DATA_DIR,
        out_dir=Path(out) if out else DEFAULT_OUT_DIR,
        port=port,
        timeout=timeout,
        tick=tick,
        template=Path(template) if template else None,
    )


def _recognition_options(language: str | None, channels: str | None) -> UploadRule:
    """--language and --channels checked by the rule model the chain itself uses."""
    values: dict[str, Any] = {"prefix": "run/"}
    if language is not None:
        values["language"] = language.strip().lower()
    if channels is not None:
        try:
            values["channels"] = [int(part) for part in channels.split(",")]
        except ValueError:
            raise InvalidRequestError.single(
                "--channels", "format", f"must be channel numbers from 0 such as 0,1; got {channels!r}"
            ) from None
    try:
        return UploadRule.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        option = "--language" if first["loc"][0] == "language" else "--channels"
        raise InvalidRequestError.single(option, "invalid", str(first["msg"])) from None
