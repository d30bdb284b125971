"""One `python -m localcloud run` against a started LocalCloud: prepare the inputs, upload them, follow
their jobs while firing the fetch_results timer, copy the transcripts out, collect one result per file.

    session = RunSession(cloud, settings, console)       # cloud: LocalCloud with template.yaml, started
    timed_out = session.run()                            # prints progress lines as it goes
    results = session.results()                          # FileResult per file, usable or not
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localcloud.config import DEFAULT_ACCESS_KEY_ID
from localcloud.engines.media import probe
from localcloud.run.inputs import (
    SAMPLES,
    VOICE,
    InputProblem,
    RunInput,
    check_user_files,
    describe_audio,
    synthesize_sample,
)
from localcloud.run.report import FileResult, download_transcripts, file_result, problem_result, shown_path
from localcloud.run.watch import (
    Completions,
    JobsApi,
    JobWatcher,
    RunFailure,
    Tracked,
    heartbeats,
    progress_line,
)
from localcloud.runtime.execution import InvocationFailed
from localcloud.server import LocalCloud
from shared.auth import Credentials
from shared.clients.oss import OssClient
from shared.errors import InvalidRequestError, ServiceError
from shared.logging import get_logger
from shared.pipeline.settings import DEFAULT_SUFFIXES

__all__ = ["API_FUNCTION", "SWEEP_FUNCTION", "RunSession", "SessionSettings"]

API_FUNCTION = "api"
SWEEP_FUNCTION = "fetch_results"
POLL_SECONDS = 0.25
# How long the end of a run waits for a sweep still running (it stops within its budget anyway).
SWEEP_JOIN_SECONDS = 60.0

log = get_logger(__name__)


@dataclass(frozen=True)
class SessionSettings:
    """What a session needs from the run's options."""

    run_id: str
    files: tuple[str, ...]
    samples: tuple[str, ...]  # sample stems; with no files and no samples, every sample runs
    out_dir: Path
    log_path: Path
    timeout: float
    tick: float


class RunSession:
    """See the module docstring. Progress goes to `say`, one plain line at a time."""

    def __init__(self, cloud: LocalCloud, settings: SessionSettings, say: Callable[[str], None]) -> None:
        runtime = cloud.runtime
        if runtime is None:
            raise RunFailure("localcloud runs no functions: it was started without template.yaml")
        self.runtime, self.settings, self.say = runtime, settings, say
        parameters = runtime.template.parameters
        self.bucket = parameters["BucketName"]
        self.folder = f"{parameters['InboxPrefix']}{settings.run_id}/"
        token = runtime.local_parameters.get("ApiToken")
        if not token:
            raise RunFailure("the template's ApiToken has no local value, so its API cannot be called")
        key_id = DEFAULT_ACCESS_KEY_ID if DEFAULT_ACCESS_KEY_ID in cloud.config.credentials else ""
        key_id = key_id or sorted(cloud.config.credentials)[0]
        credentials = Credentials(key_id, cloud.config.credentials[key_id])
        self.oss = OssClient(cloud.endpoint, cloud.config.region, credentials)
        self.api = JobsApi(runtime.http_url(API_FUNCTION), token)
        if not cloud.running("mns"):
            raise RunFailure("localcloud runs no MNS, so the chain's notifications cannot flow")
        self.mns = cloud.mns()
        self.output_topic = parameters["OutputTopic"]
        self.subscription = f"localcloud-{settings.run_id}"
        self.completions = Completions()
        self.watcher = JobWatcher(self.api, self.completions)
        self._sweep: threading.Thread | None = None
        self.problems: list[InputProblem] = []
        self.failed_uploads: list[FileResult] = []
        self.tracked: list[Tracked] = []
        self.downloads: dict[str, dict[str, Path]] = {}
        self.out_folders: dict[str, str] = {}
        self.width = 0  # of the longest file name, for aligned progress lines
        self.zero = time.monotonic()  # progress lines count from the first upload

    def run(self) -> bool:
        """Prepare, upload and follow every file; True when the timeout struck first."""
        # Subscribed before the first upload, so no job's completion message can be missed.
        self.mns.subscribe_local(
            self.output_topic, self.subscription, self.completions.deliver, content_format="STREAM"
        )
        try:
            with tempfile.TemporaryDirectory(prefix="localcloud-run-") as scratch:
                self._upload(self._prepare(Path(scratch)))
            return self._follow()
        finally:
            if self._sweep is not None:
                self._sweep.join(SWEEP_JOIN_SECONDS)
            self.mns.unsubscribe_local(self.output_topic, self.subscription, drop_pending=True)
            self.api.close()
            self.oss.close()

    def results(self) -> list[FileResult]:
        """One result per file named or generated, in the order they were taken up."""
        results = [problem_result(problem) for problem in self.problems] + list(self.failed_uploads)
        for tracked in self.tracked:
            downloads = self.downloads.get(tracked.item.name, {})
            results.append(file_result(tracked, downloads, bucket=self.bucket))
        return results

    # Preparing and uploading ---------------------------------------------------------------------------

    def _prepare(self, scratch: Path) -> list[RunInput]:
        settings, say = self.settings, self.say
        inputs: list[RunInput] = []
        if settings.files:
            say(f"Checking {len(settings.files)} file(s):")
            inputs, self.problems = check_user_files(settings.files, DEFAULT_SUFFIXES, scratch)
            for problem in self.problems:
                say(f"  {problem.name}: {problem.message} (not run)")
        chosen = [sample for sample in SAMPLES if sample.stem in settings.samples]
        if not settings.files and not settings.samples:
            chosen = list(SAMPLES)
        if chosen:
            say(f"Speaking {len(chosen)} English sample(s) with eSpeak NG (voice {VOICE}):")
        for sample in chosen:
            path = synthesize_sample(sample, settings.out_dir / sample.stem)
            inputs.append(RunInput(sample.file_name, path, probe(path), reference=sample.text))
        width = max((len(item.name) for item in inputs), default=0)
        for item in inputs:
            where = f"  {shown_path(item.path)}" if item.origin is None else ""
            note = f"  ({item.note})" if item.note else ""
            say(f"  {item.name:<{width}}  {describe_audio(item.info)}{where}{note}")
        return inputs

    def _upload(self, inputs: list[RunInput]) -> None:
        if not inputs:
            return
        self.width = max(len(item.name) for item in inputs)
        self.say(
            f"Uploading to {self.bucket}/{self.folder} (the OSS trigger starts each job); "
            f"fetch_results fires every {self.settings.tick:g} s (deployed: every minute)."
        )
        self.zero = time.monotonic()
        for item in inputs:
            key = self.folder + item.name
            try:
                with item.path.open("rb") as body:
                    etag = self.oss.put_object(self.bucket, key, body).etag
            except (ServiceError, InvalidRequestError, OSError) as error:
                self.say(self._line(item.name, f"upload failed: {error}"))
                failure = {"code": "UploadFailed", "message": str(error)}
                self.failed_uploads.append(
                    FileResult(item.name, "upload_failed", False, origin=item.origin, error=failure)
                )
                continue
            self.tracked.append(Tracked(item, key, etag, self._elapsed()))
            self.out_folders[item.name] = _unique_folder(item.stem, set(self.out_folders.values()))
            size = item.path.stat().st_size
            self.say(self._line(item.name, f"uploaded to {self.bucket}/{key} ({size / 1000:.0f} kB)"))

    # Following the jobs --------------------------------------------------------------------------------

    def _follow(self) -> bool:
        if not self.tracked:
            return False
        deadline = self.zero + self.settings.timeout
        last_tick = time.monotonic()
        last_said: dict[str, float] = {}  # upload key -> when a line last said something about it
        while not all(tracked.finished for tracked in self.tracked):
            if time.monotonic() >= deadline:
                self._report_timeout()
                return True
            elapsed = self._elapsed()
            for tracked, text in self.watcher.poll(self.tracked, elapsed):
                self.say(self._line(tracked.item.name, text))
                last_said[tracked.key] = elapsed
                if tracked.succeeded:
                    self._copy_transcripts(tracked)
            for tracked, text in heartbeats(self.tracked, last_said, elapsed):
                self.say(self._line(tracked.item.name, text))
            if time.monotonic() - last_tick >= self.settings.tick and self._start_sweep():
                last_tick = time.monotonic()
            time.sleep(POLL_SECONDS)
        return False

    def _start_sweep(self) -> bool:
        """Start a fetch_results sweep unless the last one still runs; whether one started.

        Deployed, the timer fires every minute and a sweep stops within its budget (the function's
        timeout less a reserve), so sweeps never overlap. The run ticks every few seconds: firing
        regardless would start sweeps on top of a slow one, each polling and recording the same due jobs
        (at 200 files, five stored transcriptions per job)."""
        if self._sweep is not None and self._sweep.is_alive():
            return False
        self._sweep = threading.Thread(target=self._sweep_once, name="localcloud-run-sweep", daemon=True)
        self._sweep.start()
        return True

    def _sweep_once(self) -> None:
        try:
            self.runtime.run_timer(SWEEP_FUNCTION)
        except InvocationFailed as failure:
            # The function logged what went wrong; the next tick sweeps again, as a deployed timer would.
            log.warning("run.sweep.failed", error=str(failure))

    def _copy_transcripts(self, tracked: Tracked) -> None:
        assert tracked.view is not None
        folder = self.settings.out_dir / self.out_folders[tracked.item.name]
        try:
            copies = download_transcripts(self.oss, self.bucket, tracked.view, folder)
        except (ServiceError, InvalidRequestError, OSError) as error:
            self.say(
                self._line(tracked.item.name, f"the transcripts could not be copied to {folder}: {error}")
            )
            return
        self.downloads[tracked.item.name] = copies

    def _report_timeout(self) -> None:
        waiting = []
        for tracked in self.tracked:
            if tracked.finished:
                continue
            view = tracked.view
            if view is None:
                waiting.append(f"{tracked.item.name} (no job yet)")
                continue
            step = view.steps[view.current_step] if view.current_step is not None else None
            where = f"{step.name.value}: {step.state.value}" if step is not None else view.state.value
            waiting.append(f"{tracked.item.name} ({where})")
        self.say(
            f"TIMEOUT after {self.settings.timeout:g} s; still pending: {', '.join(waiting)}. "
            f"{shown_path(self.settings.log_path)} shows what the functions did."
        )

    def _elapsed(self) -> float:
        return time.monotonic() - self.zero

    def _line(self, name: str, text: str) -> str:
        return progress_line(self._elapsed(), name, self.width, text)


def _unique_folder(stem: str, taken: set[str]) -> str:
    """`stem`, or `stem-2`, `stem-3` … (two files may share a stem: a.mp3 and a.wav)."""
    name, number = stem, 2
    while name in taken:
        name, number = f"{stem}-{number}", number + 1
    return name
