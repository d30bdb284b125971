"""`python -m localcloud run` (what `make run` does): a real subprocess on a small file, the generated
samples' path in process, and the checks it makes before uploading anything."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from localcloud.engines.media import probe
from localcloud.engines.testaudio import write_tone
from localcloud.run import RunOptions, execute, options_from_arguments
from localcloud.run.inputs import SAMPLES, RunInput, check_user_files, unique_name
from localcloud.run.watch import Tracked, describe_change, heartbeats
from shared.errors import InvalidRequestError
from shared.jobs.model import JobView
from shared.pipeline.settings import DEFAULT_SUFFIXES
from tests.e2e.conftest import ROOT, TEMPLATE, WEATHER, as_text, assert_recognised

Speech = Callable[[tuple[str, ...]], bytes]


def test_localcloud_run_in_a_subprocess_transcribes_a_file_and_writes_the_summary(
    tmp_path: Path, speech: Speech
) -> None:
    audio = tmp_path / "weather note.wav"
    audio.write_bytes(speech(WEATHER))
    (tmp_path / "weather note.txt").write_text(as_text(WEATHER) + "\n", encoding="utf-8")  # the reference
    out = tmp_path / "out"
    command = [sys.executable, "-m", "localcloud", "run", str(audio), "--data", str(tmp_path / "data")]
    command += ["--out", str(out), "--timeout", "120", "--tick", "0.5", "--language", "en"]

    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)

    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "weather note.wav" in finished.stdout and "job succeeded" in finished.stdout
    assert "1 of 1 files transcribed" in finished.stdout
    latest = out / "latest"
    assert latest.is_symlink() and (out / summary_run_id(latest)).is_dir()
    summary = json.loads((latest / "run-summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] is True and summary["timed_out"] is False and summary["pending"] == []
    assert latest.resolve() == (out / summary["run_id"]).resolve()
    (entry,) = summary["files"]
    assert (entry["name"], entry["state"], entry["transcript"], entry["generated"]) == (
        "weather note.wav",
        "succeeded",
        True,
        False,
    )
    assert entry["key"].startswith("audiochain/inbox/run-") and entry["key"].endswith("/weather note.wav")
    assert [step["name"] for step in entry["steps"]] == ["convert", "transcribe", "publish_transcripts"]
    assert entry["reference"] == as_text(WEATHER)  # read from the sidecar weather note.txt
    assert entry["wer"]["reference_words"] == len(as_text(WEATHER).split()) and entry["wer"]["wer"] < 0.5
    assert "WER" in finished.stdout
    assert_recognised(as_text(WEATHER), entry["excerpt"])
    for fmt in ("json", "srt", "vtt", "txt"):
        copy = latest / "weather note" / f"transcript.{fmt}"
        assert copy.is_file() and copy.stat().st_size > 0
        assert stat.S_IMODE(copy.stat().st_mode) == 0o644
        assert entry["outputs"][fmt].endswith(f"/weather note.wav/transcript.{fmt}")
    assert (tmp_path / "data" / "run.log").stat().st_size > 0


def test_a_run_reports_missing_and_non_audio_files_by_name_and_still_transcribes_the_sample(
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio at all", encoding="utf-8")
    missing = tmp_path / "missing.mp3"
    out = tmp_path / "out"
    options = RunOptions(
        files=(str(missing), str(notes)),
        samples=("short-note",),
        data_dir=tmp_path / "data",
        out_dir=out,
        tick=0.5,
        timeout=120,
        template=TEMPLATE,
    )
    printed = io.StringIO()

    status = execute(options, printed)

    text = printed.getvalue()
    assert status == 1, text
    assert f"{missing}: no such file" in text and f"{notes}: not audio FFmpeg can decode" in text
    summary = json.loads((out / "latest" / "run-summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] is False
    by_name = {entry["name"]: entry for entry in summary["files"]}
    assert by_name[str(missing)]["state"] == by_name[str(notes)]["state"] == "invalid"
    sample = by_name["short-note.wav"]
    assert (sample["state"], sample["transcript"], sample["generated"]) == ("succeeded", True, True)
    assert sample["reference"] == SAMPLES[0].text
    assert sample["wer"]["reference_words"] == len(SAMPLES[0].text.split())
    assert 0 <= sample["wer"]["wer"] <= 1.5  # the rate itself depends on the recogniser, not the plumbing
    assert (out / "latest" / "short-note" / "short-note.wav").is_file()
    assert (out / "latest" / "short-note" / "transcript.srt").is_file()
    assert "WER" in text and "Summary JSON" in text


def test_a_decodable_file_with_a_suffix_the_inbox_refuses_is_uploaded_as_a_flac_copy(tmp_path: Path) -> None:
    source = tmp_path / "tone.opus"
    write_tone(source, seconds=0.5, sample_rate=48000, channels=1, format="opus")
    renamed = source.rename(tmp_path / "tone.weird")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")

    inputs, problems = check_user_files(
        [str(renamed), str(empty), str(tmp_path)], DEFAULT_SUFFIXES, tmp_path / "copies"
    )

    (item,) = inputs
    assert item.name == "tone.weird.flac" and item.path.suffix == ".flac" and item.path.is_file()
    assert item.note is not None and ".weird is not an inbox suffix" in item.note
    assert [(problem.name, problem.message) for problem in problems] == [
        (str(empty), "is empty (0 bytes)"),
        (str(tmp_path), "is a folder, not a file"),
    ]


def test_files_with_the_same_name_get_distinct_names_in_the_inbox() -> None:
    assert unique_name("a.mp3", set()) == "a.mp3"
    assert unique_name("a.mp3", {"a.mp3", "a-2.mp3"}) == "a-3.mp3"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"timeout": 0}, "--timeout"),
        ({"tick": 0}, "--tick"),
        ({"tick": 61}, "--tick"),
        ({"port": 70000}, "--port"),
        ({"samples": ["podcast"]}, "--sample"),
    ],
)
def test_run_options_out_of_range_are_refused_naming_the_option(
    arguments: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        options_from_arguments([], **arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_the_run_command_line_refuses_a_bad_option_with_exit_status_2(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "localcloud", "run", "--timeout", "-1", "--data", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 2
    assert "--timeout" in finished.stderr


def test_a_progress_line_names_each_step_that_changed_and_the_end_of_the_job() -> None:
    def view(*states: str, state: str = "running", error: dict[str, str] | None = None) -> JobView:
        names = ("convert", "transcribe", "publish_transcripts")
        return JobView.model_validate(
            {
                "id": "j1",
                "type": "transcribe_upload",
                "state": state,
                "error": error,
                "steps": [
                    {"index": i, "name": n, "state": s}
                    for i, (n, s) in enumerate(zip(names, states, strict=True))
                ],
                "created_at": "2025-01-15T08:30:45Z",
                "updated_at": "2025-01-15T08:30:46Z",
            }
        )

    queued = view("pending", "pending", "pending", state="queued")
    assert describe_change(None, queued) == "job j1: queued"
    submitted = view("submitted", "pending", "pending")
    assert describe_change(queued, submitted) == "convert: submitted"
    assert describe_change(submitted, submitted) == ""
    done = view("succeeded", "succeeded", "succeeded", state="succeeded")
    assert describe_change(submitted, done) == (
        "convert: succeeded → transcribe: succeeded → publish_transcripts: succeeded → job succeeded"
    )
    failed = view(
        "failed", "pending", "pending", state="failed", error={"code": "InvalidSource", "message": "x"}
    )
    assert describe_change(submitted, failed) == "convert: failed → job failed (InvalidSource: x)"


def summary_run_id(latest: Path) -> str:
    """The run folder `latest` points at (a relative link: the run id)."""
    return str(latest.readlink())


def test_a_long_wait_gets_a_line_every_fifteen_seconds_saying_what_it_waits_for(tmp_path: Path) -> None:
    transcribing = JobView.model_validate(
        {
            "id": "j1",
            "type": "transcribe_upload",
            "state": "running",
            "steps": [
                {"index": 0, "name": "convert", "state": "succeeded"},
                {"index": 1, "name": "transcribe", "state": "submitted"},
                {"index": 2, "name": "publish_transcripts", "state": "pending"},
            ],
            "created_at": "2025-01-15T08:30:45Z",
            "updated_at": "2025-01-15T08:30:46Z",
        }
    )
    write_tone(tmp_path / "t.wav", seconds=0.2, sample_rate=16000, channels=1, format="wav")
    info = probe(tmp_path / "t.wav")
    item = RunInput(name="talk.wav", path=tmp_path / "t.wav", info=info)
    waiting = Tracked(
        item=item, key="inbox/r/talk.wav", etag="e", uploaded_at=1.0, job_id="j1", view=transcribing
    )
    unmatched = Tracked(item=item, key="inbox/r/other.wav", etag="e", uploaded_at=1.0)
    last_said = {"inbox/r/talk.wav": 5.0}

    assert heartbeats([waiting, unmatched], last_said, elapsed=10.0) == []
    lines = heartbeats([waiting, unmatched], last_said, elapsed=21.0)

    assert [text for _, text in lines] == [
        "transcribe: still submitted (16 s without news)",
        "waiting for its job to appear (20 s without news)",
    ]
    assert heartbeats([waiting, unmatched], last_said, elapsed=22.0) == []  # said just now
