from __future__ import annotations

import doctest
import itertools
from urllib.parse import parse_qsl, urlsplit

import pytest

import shared.ops.ice
from shared.errors import InvalidRequestError, ServiceResponseError
from shared.ops.enums import IceJobState, IceOutputFormat
from shared.ops.ice import (
    EditingConfig,
    GetSmartHandleJobRequest,
    GetSmartHandleJobResponse,
    OutputConfig,
    SubmitAudioProduceJobRequest,
    SubmitAudioProduceJobResponse,
)

# vectors/out_openapi_capture.txt, section 2: the URL alibabacloud-ice20201109 6.20.2 builds.
SDK_CAPTURE_URL = (
    "https://ice.cn-hangzhou.aliyuncs.com/?Description=tts+job&EditingConfig=%7B%22voice%22%3A%22zhitian_emo"
    "%22%2C%22format%22%3A%22mp3%22%2C%22volume%22%3A50%2C%22speech_rate%22%3A0%2C%22pitch_rate%22%3A0%7D"
    "&InputConfig=Hello%2C+this+is+a+test.&OutputConfig=%7B%22bucket%22%3A%22examplebucket%22%2C%22object"
    "%22%3A%22tts%2Fout%22%7D&Overwrite=True&Title=test-tts&UserData=%7B%22id%22%3A%22job-2%22%7D"
)

# The GetSmartHandleJob example of the seed (ice-submit-audio-produce-job.txt), verbatim.
SEED_SMART_HANDLE_JOB = {
    "RequestId": "******2D-443C-5043-B0E4-867070******",
    "JobId": "******042d5e4db6866f6289d1******",
    "State": "Finished",
    "SmartJobInfo": {
        "Title": "default_title_2022-01-21T06:15:07Z",
        "JobType": "TextToSpeech",
        "CreateTime": "2022-01-21T06:15:07Z",
        "ModifiedTime": "2022-01-21T06:15:07Z",
        "InputConfig": {
            "InputFile": "Talking about Guo Degang, he is now incredibly popular. Although ticket prices are "
            "high, his shows often sell out instantly. In addition, he frequently appears on various comedy "
            "programs, where he judges performances by new comedians."
        },
        "EditingConfig": '{"format":"MP3","pitch_rate":0,"sample_rate":16000,"speech_rate":0,'
        '"voice":"Siqi","volume":50}',
        "OutputConfig": {"Bucket": "your-bucket", "Object": "your-audio"},
    },
    "JobResult": {
        "MediaId": "******bf47c94e82b3b2014361******",
        "AiResult": '[{"content":"Talking about","from":0.0,"to":0.846},{"content":"he is now incredibly '
        'popular","from":0.846,"to":3.386},{"content":"Although ticket prices are high","from":3.386,'
        '"to":4.402},{"content":"his shows often sell out instantly","from":4.402,"to":6.265},{"content":'
        '"In addition, he frequently appears on various comedy programs, where he judges performances by '
        'new comedians","from":6.265,"to":10.33}]',
    },
}


def capture_params() -> dict[str, str]:
    return dict(parse_qsl(urlsplit(SDK_CAPTURE_URL).query, keep_blank_values=True))


def capture_request() -> SubmitAudioProduceJobRequest:
    return SubmitAudioProduceJobRequest.build(
        EditingConfig={"voice": "zhitian_emo", "format": "mp3"},
        OutputConfig={"bucket": "examplebucket", "object": "tts/out"},
        InputConfig="Hello, this is a test.",
        Title="test-tts",
        Description="tts job",
        UserData='{"id":"job-2"}',
        Overwrite=True,
    )


def test_the_sdk_capture_is_reproduced_string_for_string() -> None:
    assert capture_request().to_query() == capture_params()


def test_the_sdk_capture_parses_into_the_same_request() -> None:
    parsed = SubmitAudioProduceJobRequest.from_query(capture_params())
    assert parsed == capture_request()
    assert parsed.editing_config.effective_voice == "zhitian_emo"
    assert parsed.editing_config.output_format is IceOutputFormat.MP3
    assert parsed.output_key == "tts/out.mp3"
    assert parsed.overwrite is True


def test_the_documented_editing_config_example_keeps_its_upper_case_format() -> None:
    config = EditingConfig.from_json('{"voice":"Siqi","format":"MP3","volume":50}')
    assert config.to_json() == '{"voice":"Siqi","format":"MP3","volume":50,"speech_rate":0,"pitch_rate":0}'
    assert config.output_format is IceOutputFormat.MP3


def test_editing_config_accepts_the_format_enum_and_sends_its_value() -> None:
    config = EditingConfig.build(voice="Siqi", format=IceOutputFormat.WAV, sample_rate=16000)
    assert config.to_json() == (
        '{"voice":"Siqi","format":"WAV","volume":50,"speech_rate":0,"pitch_rate":0,"sample_rate":16000}'
    )


def test_customized_voice_wins_over_voice_and_both_are_sent() -> None:
    config = EditingConfig.build(voice="Siqi", customizedVoice="my-voice-01", format="pcm")
    assert config.effective_voice == "my-voice-01"
    assert config.to_json().startswith('{"voice":"Siqi","customizedVoice":"my-voice-01","format":"pcm"')


def test_a_customized_voice_alone_is_enough() -> None:
    assert EditingConfig.build(customizedVoice="v-1", format="MP3").effective_voice == "v-1"


@pytest.mark.parametrize(("spelling", "key"), [("MP3", "a/b.mp3"), ("wav", "a/b.wav"), ("Pcm", "a/b.pcm")])
def test_the_output_key_gets_the_extension_of_the_format(spelling: str, key: str) -> None:
    request = SubmitAudioProduceJobRequest.build(
        EditingConfig={"voice": "Siqi", "format": spelling},
        OutputConfig={"bucket": "my-bucket", "object": "a/b"},
        InputConfig="Test text",
    )
    assert request.output_key == key


def test_user_data_given_as_a_mapping_is_sent_as_compact_json() -> None:
    request = SubmitAudioProduceJobRequest.build(
        EditingConfig={"voice": "Siqi", "format": "MP3"},
        OutputConfig={"bucket": "my-bucket", "object": "out"},
        InputConfig="你好",
        UserData={"NotifyAddress": "ice-callback-demo", "job": "语音"},
    )
    assert request.to_query()["UserData"] == '{"NotifyAddress":"ice-callback-demo","job":"语音"}'
    assert request.notify_address == "ice-callback-demo"


@pytest.mark.parametrize("address", ["http://xx.xx.xxx", "https://xx.xx.xxx/cb?x=1", "ice-callback-demo"])
def test_the_documented_notify_addresses_are_accepted(address: str) -> None:
    request = SubmitAudioProduceJobRequest.build(
        EditingConfig={"voice": "Siqi", "format": "MP3"},
        OutputConfig={"bucket": "my-bucket", "object": "out"},
        InputConfig="Test text",
        UserData={"NotifyAddress": address},
    )
    assert request.notify_address == address


def test_ssml_input_and_the_character_limit_are_accepted() -> None:
    ssml = '<speak voice="Siqi">Hello <break time="500ms"/> world</speak>'
    assert (
        SubmitAudioProduceJobRequest.build(
            EditingConfig={"voice": "Siqi", "format": "MP3"},
            OutputConfig={"bucket": "my-bucket", "object": "out"},
            InputConfig=ssml,
        ).to_query()["InputConfig"]
        == ssml
    )
    # 2,000 characters is the limit, counted as characters (each of these is three UTF-8 bytes).
    SubmitAudioProduceJobRequest.build(
        EditingConfig={"voice": "Siqi", "format": "MP3"},
        OutputConfig={"bucket": "my-bucket", "object": "out"},
        InputConfig="语" * 2000,
    )


def test_overwrite_false_is_sent_the_way_the_sdk_writes_it() -> None:
    params = {**capture_params(), "Overwrite": "false"}
    parsed = SubmitAudioProduceJobRequest.from_query(params)
    assert parsed.overwrite is False
    assert parsed.to_query()["Overwrite"] == "False"


def test_the_submit_response_of_the_seed_parses() -> None:
    response = SubmitAudioProduceJobResponse.parse(
        {
            "RequestId": "******11-DB8D-4A9A-875B-275798******",
            "JobId": "****20b48fb04483915d4f2cd8ac****",
            "State": "Created",
            "MediaId": "****2bcbfcfa30fccb36f72dca22****",
        }
    )
    assert response.state is IceJobState.CREATED and not response.state.is_final
    assert response.media_id == "****2bcbfcfa30fccb36f72dca22****"


def test_get_smart_handle_job_request_round_trips() -> None:
    request = GetSmartHandleJobRequest.build(JobId="****cdb3e74639973036bc84****")
    assert request.to_query() == {"JobId": "****cdb3e74639973036bc84****"}
    assert GetSmartHandleJobRequest.from_query(request.to_query()) == request


def test_the_seed_smart_handle_job_response_parses_with_its_sentences() -> None:
    response = GetSmartHandleJobResponse.parse(SEED_SMART_HANDLE_JOB)
    assert response.state is IceJobState.FINISHED
    info = response.smart_job_info
    assert info is not None and info.job_type == "TextToSpeech"
    assert info.output_config is not None and info.output_config.object_name == "your-audio"
    assert info.input_config is not None and info.input_config.input_file is not None
    editing = info.editing()
    assert editing is not None and (editing.voice, editing.sample_rate) == ("Siqi", 16000)
    sentences = response.sentences()
    assert [s.content for s in sentences][:2] == ["Talking about", "he is now incredibly popular"]
    assert [(s.from_, s.to) for s in sentences][-1] == (6.265, 10.33)
    assert all(a.to == b.from_ for a, b in itertools.pairwise(sentences))


@pytest.mark.parametrize("job_result", [None, {"MediaId": "m"}, {"MediaId": "m", "AiResult": ""}])
def test_a_job_without_ai_result_has_no_sentences(job_result: dict[str, str] | None) -> None:
    body = {"JobId": "j", "State": "Executing", "JobResult": job_result}
    assert GetSmartHandleJobResponse.parse(body).sentences() == []


@pytest.mark.parametrize("ai_result", ["not json", '{"content":"x"}', '[{"content":"x","from":"soon"}]'])
def test_a_malformed_ai_result_is_a_service_response_error(ai_result: str) -> None:
    body = {"RequestId": "R-9", "JobId": "j", "State": "Finished", "JobResult": {"AiResult": ai_result}}
    with pytest.raises(ServiceResponseError) as caught:
        GetSmartHandleJobResponse.parse(body).sentences()
    assert (caught.value.service, caught.value.code, caught.value.request_id) == (
        "ice",
        "MalformedAiResult",
        "R-9",
    )


def test_output_config_refuses_an_unknown_format_for_the_key() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        OutputConfig.build(bucket="my-bucket", object="out").key_for("ogg")
    assert (caught.value.field, caught.value.rule) == ("format", "enum")


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(shared.ops.ice).failed == 0
