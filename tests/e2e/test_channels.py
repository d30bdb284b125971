"""A stereo call (one speaker per channel) recognised channel by channel, labelled, via an upload rule and
via the API: the channels are kept through normalisation and each is recognised separately."""

from __future__ import annotations

import array
import io
import json
import sys
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.jobs.model import JobState
from shared.transcripts.model import Transcript
from tests.e2e.conftest import BUCKET, REPORT, WEATHER, Chain, as_text, assert_recognised, running_chain

Speech = Callable[[tuple[str, ...]], bytes]
RULES = [{"prefix": "calls/", "channels": [0, 1]}]


@pytest.fixture
def call_chain(tmp_path: Path) -> Iterator[Chain]:
    """The chain with an upload rule: uploads under inbox/calls/ keep and recognise both channels."""
    with running_chain(tmp_path / "localcloud", parameters={"UploadRules": json.dumps(RULES)}) as chain:
        yield chain


def stereo_call(left: bytes, right: bytes) -> bytes:
    """Two mono 16-bit WAVs as one stereo WAV: `left` on channel 0, `right` on channel 1, both at once."""
    sides = []
    for data in (left, right):
        with wave.open(io.BytesIO(data)) as reader:
            assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
            rate = reader.getframerate()
            samples = array.array("h", reader.readframes(reader.getnframes()))
        if sys.byteorder == "big":
            samples.byteswap()
        sides.append(samples)
    length = max(len(side) for side in sides)
    interleaved = array.array("h", bytes(4 * length))
    for channel, side in enumerate(sides):
        interleaved[channel : 2 * len(side) : 2] = side
    if sys.byteorder == "big":
        interleaved.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(interleaved.tobytes())
    return out.getvalue()


def assert_both_speakers_labelled(transcript: Transcript, txt: str) -> None:
    assert [channel.channel_id for channel in transcript.channels] == [0, 1]
    assert_recognised(as_text(WEATHER), transcript.channels[0].text)
    assert_recognised(as_text(REPORT), transcript.channels[1].text)
    labels = {line.split("]")[0] + "]" for line in txt.splitlines() if line}
    assert labels == {"[ch1]", "[ch2]"}, txt


def test_an_upload_under_a_channels_rule_yields_both_speakers_words_labelled(
    call_chain: Chain, speech: Speech
) -> None:
    key = "inbox/calls/support call.wav"
    etag = call_chain.upload(key, stereo_call(speech(WEATHER), speech(REPORT)))

    job_id = call_chain.job_of(key, etag)
    view = call_chain.drive([job_id])[job_id]

    assert view.state is JobState.SUCCEEDED, view.error
    assert view.input["channels"] == [0, 1]  # what the rule set is recorded on the job
    folder = "outputs/calls/support call.wav/"
    transcript = Transcript.model_validate_json(call_chain.text(folder + "transcript.json"))
    assert_both_speakers_labelled(transcript, call_chain.text(folder + "transcript.txt"))
    # Each speaker on their own too, unlabelled, and listed among the job's outputs.
    assert_recognised(as_text(WEATHER), call_chain.text(folder + "transcript.ch1.txt"))
    assert_recognised(as_text(REPORT), call_chain.text(folder + "transcript.ch2.txt"))
    assert "[ch" not in call_chain.text(folder + "transcript.ch1.srt")
    assert view.outputs["vtt_ch2"] == folder + "transcript.ch2.vtt"


def test_an_upload_outside_the_rule_is_mixed_to_one_channel(call_chain: Chain, speech: Speech) -> None:
    key = "inbox/notes/memo.wav"
    etag = call_chain.upload(key, speech(WEATHER))

    job_id = call_chain.job_of(key, etag)
    view = call_chain.drive([job_id])[job_id]

    assert view.state is JobState.SUCCEEDED, view.error
    assert "channels" not in view.input
    transcript = Transcript.model_validate_json(call_chain.text("outputs/notes/memo.wav/transcript.json"))
    assert [channel.channel_id for channel in transcript.channels] == [0]


def test_an_api_transcription_with_channels_yields_both_speakers_words_labelled(
    call_chain: Chain, speech: Speech
) -> None:
    call_chain.oss.put_object(BUCKET, "media/call.wav", stereo_call(speech(WEATHER), speech(REPORT)))

    answer = call_chain.http.post(
        "/v1/jobs/transcribe", json={"source": "media/call.wav", "channels": [0, 1]}
    )
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    view = call_chain.drive([job_id])[job_id]

    assert view.state is JobState.SUCCEEDED, view.error
    assert view.input["channels"] == [0, 1]
    transcript = Transcript.model_validate_json(call_chain.text(view.outputs["json"]))
    assert_both_speakers_labelled(transcript, call_chain.text(view.outputs["txt"]))


def test_channels_with_a_synchronous_mode_are_refused_naming_the_field(call_chain: Chain) -> None:
    answer = call_chain.http.post(
        "/v1/jobs/transcribe", json={"source": "media/call.wav", "channels": [0, 1], "mode": "sync"}
    )

    assert answer.status_code == 400
    assert "channels" in answer.text and "channels_need_filetrans" in answer.text
