"""The end of `python -m localcloud run`: transcripts copied out of localcloud, one summary per file as
text for the terminal and as JSON (`out/run-summary.json`, its shape is in `localcloud.run`'s docstring).

    downloads = download_transcripts(oss, "audiochain", view, Path("out/podcast-intro"))
    result = file_result(tracked, downloads, bucket="audiochain")
    print("\\n".join(render_result(result)))
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from localcloud.engines.wer import wer_report
from localcloud.run.inputs import InputProblem, describe_audio
from localcloud.run.watch import Tracked
from shared.clients.oss import OssClient
from shared.jobs.model import JobView, StepView

__all__ = [
    "EXCERPT_CHARS",
    "TRANSCRIPT_FORMATS",
    "FileResult",
    "download_transcripts",
    "excerpt",
    "file_result",
    "problem_result",
    "render_result",
    "shown_path",
    "write_summary",
]

TRANSCRIPT_FORMATS = ("json", "srt", "vtt", "txt")
EXCERPT_CHARS = 160
SUMMARY_VERSION = 1


@dataclass
class FileResult:
    """One file's line in the summary (the `files[]` entries of run-summary.json)."""

    name: str
    state: str  # succeeded | failed | pending | not_started | invalid | upload_failed
    transcript: bool
    origin: str | None = None
    generated: bool = False
    audio: str | None = None
    note: str | None = None
    key: str | None = None
    job_id: str | None = None
    seconds: float | None = None
    error: dict[str, str] | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    downloads: dict[str, str] = field(default_factory=dict)
    excerpt: str | None = None
    reference: str | None = None
    wer: dict[str, float | int] | None = None


def download_transcripts(oss: OssClient, bucket: str, view: JobView, folder: Path) -> dict[str, Path]:
    """Copy a finished job's transcripts to `folder/transcript.<ext>`; the local paths by format."""
    folder.mkdir(parents=True, exist_ok=True)
    copies: dict[str, Path] = {}
    for fmt in TRANSCRIPT_FORMATS:
        key = view.outputs.get(fmt)
        if key is not None:
            target = folder / f"transcript.{fmt}"
            oss.download_to(bucket, key, target)
            # The client writes downloads private (0600, via a temporary file); these are the user's to share.
            target.chmod(0o644)
            copies[fmt] = target
    return copies


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The text on one line, cut at a word boundary near `limit` characters.

    >>> excerpt("one two   three", 9)
    'one two…'
    """
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut + "…"


def file_result(tracked: Tracked, downloads: dict[str, Path], *, bucket: str) -> FileResult:
    """The summary of a file that was uploaded (whatever became of its job)."""
    item, view = tracked.item, tracked.view
    result = FileResult(
        name=item.name,
        state="not_started" if view is None else ("pending" if not view.state.is_final else view.state.value),
        transcript=False,
        origin=item.origin,
        generated=item.origin is None,
        audio=describe_audio(item.info),
        note=item.note,
        key=f"{bucket}/{tracked.key}",
        job_id=tracked.job_id,
        reference=item.reference,
    )
    if tracked.finished_at is not None:
        result.seconds = round(tracked.finished_at - tracked.uploaded_at, 2)
    if view is None:
        return result
    result.steps = [_step_summary(step) for step in view.steps]
    if view.error is not None:
        result.error = {"code": view.error.code, "message": view.error.message}
    result.outputs = {
        fmt: f"{bucket}/{view.outputs[fmt]}" for fmt in TRANSCRIPT_FORMATS if fmt in view.outputs
    }
    result.downloads = {fmt: shown_path(path) for fmt, path in downloads.items()}
    text_path = downloads.get("txt")
    if text_path is not None:
        text = text_path.read_text(encoding="utf-8")
        result.transcript = True
        result.excerpt = excerpt(text)
        if item.reference is not None:
            report = wer_report(item.reference, text)
            result.wer = {
                "wer": round(report.wer, 3),
                "errors": report.errors,
                "reference_words": report.reference_words,
                "substitutions": report.substitutions,
                "deletions": report.deletions,
                "insertions": report.insertions,
            }
    return result


def problem_result(problem: InputProblem) -> FileResult:
    return FileResult(
        name=problem.name,
        origin=problem.name,
        state="invalid",
        transcript=False,
        error={"code": "InvalidInput", "message": problem.message},
    )


def _step_summary(step: StepView) -> dict[str, Any]:
    seconds = None
    if step.started_at is not None and step.finished_at is not None:
        seconds = round((step.finished_at - step.started_at).total_seconds(), 2)
    return {"name": step.name.value, "state": step.state.value, "attempts": step.attempt, "seconds": seconds}


def render_result(result: FileResult) -> list[str]:
    """The file's block of the text summary."""
    if result.state in ("invalid", "upload_failed"):
        reason = result.error["message"] if result.error else result.state
        return [f"  {result.name}  NOT RUN: {reason}"]
    took = f" in {result.seconds:.1f} s" if result.seconds is not None else ""
    lines = [f"  {result.name}  {result.state.upper()}{took}  job {result.job_id or '(none yet)'}"]
    if result.audio:
        lines.append(f"    audio      {result.audio}" + (f"  ({result.note})" if result.note else ""))
    if result.steps:
        lines.append("    steps      " + " · ".join(_render_step(step) for step in result.steps))
    if result.error is not None:
        lines.append(f"    error      {result.error['code']}: {result.error['message']}")
    if result.outputs:
        lines.append(f"    in bucket  {_grouped(list(result.outputs.values()))}")
    if result.downloads:
        lines.append(f"    copied to  {_grouped(list(result.downloads.values()))}")
    if result.excerpt is not None:
        heard = json.dumps(result.excerpt, ensure_ascii=False) if result.excerpt else "(no speech recognised)"
        lines.append(f"    transcript {heard}")
    if result.wer is not None:
        words = result.wer["reference_words"]
        lines.append(
            f"    WER        {result.wer['wer']:.2f} ({result.wer['errors']} errors in {words} words "
            "of the reference text)"
        )
    return lines


def _render_step(step: dict[str, Any]) -> str:
    seconds = f" {step['seconds']:.1f} s" if step["seconds"] is not None else ""
    state = "" if step["state"] == "succeeded" else f" {step['state']}"
    retried = f" ({step['attempts']} attempts)" if step["attempts"] > 1 else ""
    return f"{step['name']}{state}{seconds}{retried}"


def _grouped(paths: Sequence[str]) -> str:
    """'out/a/transcript.{json,srt,vtt,txt}' when the paths differ only by extension."""
    stems = {path.rsplit(".", 1)[0] for path in paths}
    if len(paths) > 1 and len(stems) == 1:
        return f"{stems.pop()}.{{{','.join(path.rsplit('.', 1)[1] for path in paths)}}}"
    return ", ".join(paths)


def shown_path(path: Path) -> str:
    """The path relative to the working directory when it is inside it, else absolute."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return os.fspath(absolute)


def write_summary(path: Path, header: dict[str, Any], results: Sequence[FileResult]) -> None:
    """run-summary.json: the run's header fields, then `files`, written whole (temporary file, rename)."""
    document = {"version": SUMMARY_VERSION, **header, "files": [asdict(result) for result in results]}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)
