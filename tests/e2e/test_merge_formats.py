"""A 12-clip merge to mono oga through the API on localcloud: more clips than audio/concat takes, so IMM
merges them (to FLAC, since IMM does not write oga) and OSS audio/convert writes the Ogg file."""

from __future__ import annotations

from pathlib import Path

from localcloud.engines.probe import probe
from localcloud.engines.testaudio import write_tone
from shared.jobs.model import JobState
from tests.e2e.conftest import BUCKET, Chain


def test_a_twelve_clip_mono_oga_merge_works(chain: Chain, tmp_path: Path) -> None:
    clips = []
    for index in range(12):
        local = tmp_path / f"clip{index}.wav"
        write_tone(local, seconds=0.5, sample_rate=16000, channels=2, frequency=300.0 + 40 * index)
        key = f"media/merge/clip{index:02d}.wav"
        chain.oss.put_object(BUCKET, key, local.read_bytes())
        clips.append({"key": key})
    created = chain.http.post("v1/jobs/merge", json={"clips": clips, "params": {"f": "oga", "ac": 1}})
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]

    view = chain.drive([job_id])[job_id]

    assert view.state is JobState.SUCCEEDED, view.error
    assert [(step.name.value, step.service) for step in view.steps] == [("merge", "imm"), ("convert", "oss")]
    key = view.outputs["audio"]
    assert key == f"outputs/{job_id}/merged.oga"
    merged = tmp_path / "merged.oga"
    merged.write_bytes(chain.oss.get_object_bytes(BUCKET, key))
    info = probe(merged)
    assert (info.format_name, info.channels) == ("ogg", 1)
    assert abs(info.duration_ms - 6000) < 200  # twelve half-second clips
    results = chain.http.get(f"v1/jobs/{job_id}/results").json()
    assert list(results["outputs"]) == ["audio"]  # the FLAC in work/ is not a result
