"""The api function against localcloud through httpx.WSGITransport: convert, merge, speech and
transcription jobs submitted, run to the end by fetch_results, and their results downloaded."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import httpx

from localcloud.engines.media import probe
from localcloud.engines.wer import wer_report
from tests.functional.functions.conftest import DROVE, MAX_WER, REPORT, Chain, spoken_wav


def download(url: str) -> bytes:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def audio_seconds(data: bytes, path: Path) -> float:
    path.write_bytes(data)
    return probe(path).duration_ms / 1000


def test_the_api_runs_every_job_type_to_its_results(chain: Chain, tmp_path: Path) -> None:
    chain.upload("media/drove.wav", spoken_wav(DROVE))
    chain.upload("media/report.wav", spoken_wav(REPORT))
    bodies = {
        "convert": {"source": "media/drove.wav", "params": {"f": "mp3", "ab": 64000}},
        "merge": {"clips": [{"key": "media/drove.wav"}, {"key": "media/report.wav"}], "params": {"f": "mp3"}},
        "speech": {"text": "The report is ready.", "voice": "Andy", "format": "WAV"},
        "transcribe": {"source": "media/report.wav", "language": "en"},
    }
    with chain.api() as api:
        submitted = {}
        for job_type, body in bodies.items():
            response = api.post(
                f"/v1/jobs/{job_type}", json=body, headers={"Idempotency-Key": f"k-{job_type}"}
            )
            assert response.status_code == 202, response.text
            submitted[job_type] = response.json()["id"]
        replay = api.post(
            "/v1/jobs/convert", json=bodies["convert"], headers={"Idempotency-Key": "k-convert"}
        )
        assert (replay.status_code, replay.json()["id"]) == (200, submitted["convert"])

        views = chain.sweep_until_final(api, submitted.values())
        assert {job_type: views[job_id]["state"] for job_type, job_id in submitted.items()} == dict.fromkeys(
            bodies, "succeeded"
        )
        results = {
            job_type: api.get(f"/v1/jobs/{job_id}/results").json() for job_type, job_id in submitted.items()
        }
        listed = api.get("/v1/jobs", params={"state": "succeeded", "limit": 10}).json()

    assert {job["id"] for job in listed["jobs"]} == set(submitted.values())
    assert all(result["ready"] for result in results.values())

    converted = download(results["convert"]["outputs"]["audio"]["url"])
    merged = download(results["merge"]["outputs"]["audio"]["url"])
    single = audio_seconds(converted, tmp_path / "converted.mp3")
    both = audio_seconds(merged, tmp_path / "merged.mp3")
    with wave.open(io.BytesIO(spoken_wav(REPORT))) as report:
        report_seconds = report.getnframes() / report.getframerate()
    assert abs(both - (single + report_seconds)) < 0.3, (single, report_seconds, both)

    speech = download(results["speech"]["outputs"]["audio"]["url"])
    with wave.open(io.BytesIO(speech)) as synthesised:
        assert synthesised.getnframes() > synthesised.getframerate() // 2

    transcript = results["transcribe"]["transcript"]
    text = " ".join(sentence["text"] for sentence in transcript["channels"][0]["sentences"])
    assert wer_report(REPORT, text).wer < MAX_WER, text
    assert sorted(results["transcribe"]["outputs"]) == ["json", "srt", "txt", "vtt"]
    assert download(results["transcribe"]["outputs"]["txt"]["url"]).decode().strip()


def test_each_qwen_asr_connection_type_can_be_named_for_a_transcription(chain: Chain) -> None:
    chain.upload("media/report.wav", spoken_wav(REPORT))
    with chain.api() as api:
        submitted = {}
        for mode in ("sync", "compatible", "filetrans"):
            body = {"source": "media/report.wav", "language": "en", "mode": mode}
            response = api.post("/v1/jobs/transcribe", json=body, headers={"Idempotency-Key": f"m-{mode}"})
            assert response.status_code == 202, response.text
            submitted[mode] = response.json()["id"]
        chain.sweep_until_final(api, submitted.values())
        results = {mode: api.get(f"/v1/jobs/{job_id}/results").json() for mode, job_id in submitted.items()}

    for mode, result in results.items():
        transcript = result["transcript"]
        assert transcript["engine"]["mode"] == mode
        text = " ".join(sentence["text"] for sentence in transcript["channels"][0]["sentences"])
        assert wer_report(REPORT, text).wer < MAX_WER, (mode, text)
