from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest

from shared.errors import InvalidRequestError
from shared.ops.enums import AudioFormat, BitDepth, BitrateOption, SampleRate
from shared.ops.oss import (
    AsyncProcessResponse,
    AudioConvertRequest,
    ConvertParams,
    Notify,
    SaveAs,
    async_process_body,
    check_inherited,
    parse_process,
    process_from_body,
)
from tests.unit.ops.oss_seed_strings import (
    CONVERT_GO_SAMPLE,
    CONVERT_REST_AAC,
    CONVERT_REST_AAC_CLEAN,
    CONVERT_REST_OPUS,
    CONVERT_REST_OPUS_CLEAN,
    CONVERT_SDK_SAMPLE,
    SIGNING_MD_BODY_LENGTH,
    SIGNING_MD_CONTENT_MD5,
    SIGNING_MD_PROCESS,
)

NOTIFY = Notify.build(topic="AudioConvert")


def rest_aac_request() -> AudioConvertRequest:
    return AudioConvertRequest.build(
        params=ConvertParams.build(ss=10000, t=60000, f="aac", ab=96000),
        saveas=SaveAs.build(bucket="outbucket", object="outobjprefix.{autoext}"),
        notify=NOTIFY,
    )


def rest_opus_request() -> AudioConvertRequest:
    return AudioConvertRequest.build(
        params=ConvertParams.build(f="opus", ab=96000, ar=48000, ac=2),
        saveas=SaveAs.build(bucket="outbucket", object="outobj.{autoext}"),
        notify=NOTIFY,
    )


def sdk_sample_request() -> AudioConvertRequest:
    return AudioConvertRequest.build(
        params={"ss": 10000, "t": 60000, "f": "aac", "ab": 96000},
        saveas={"bucket": "examplebucket", "object": "dest.aac"},
        notify={"topic": "AudioConvert"},
    )


@pytest.mark.parametrize(
    ("build", "expected"),
    [(rest_aac_request, CONVERT_REST_AAC_CLEAN), (rest_opus_request, CONVERT_REST_OPUS_CLEAN)],
    ids=["mp3-to-aac", "wav-to-opus"],
)
def test_rest_examples_are_reproduced_from_models_with_artefact_free_names(
    build: Callable[[], AudioConvertRequest], expected: str
) -> None:
    request = build()
    assert request.to_process() == expected
    assert AudioConvertRequest.from_process(expected) == request


@pytest.mark.parametrize(
    ("build", "seed", "name"),
    [
        (rest_aac_request, CONVERT_REST_AAC, "outobjprefix.{autoext}\n"),
        (rest_opus_request, CONVERT_REST_OPUS, "outobj.{autoext}\n"),
    ],
    ids=["mp3-to-aac", "wav-to-opus"],
)
def test_rest_example_strings_parse_to_object_names_ending_in_a_newline(
    build: Callable[[], AudioConvertRequest], seed: str, name: str
) -> None:
    parsed = AudioConvertRequest.from_process(seed)

    assert parsed.saveas.object == name
    assert parsed.saveas.bucket == "outbucket"
    assert parsed == build().model_copy(update={"saveas": parsed.saveas})
    assert parsed.to_process() == seed  # the literal name goes back out unchanged
    assert len(parsed.wire_warnings) == 1
    assert "newline" in parsed.wire_warnings[0]
    assert parsed.wire_warnings[0].startswith("sys/saveas.o")


def test_the_java_and_python_samples_are_reproduced_exactly() -> None:
    request = sdk_sample_request()
    assert request.to_process() == CONVERT_SDK_SAMPLE
    assert AudioConvertRequest.from_process(CONVERT_SDK_SAMPLE) == request
    assert request.wire_warnings == []


def test_the_go_samples_padded_base64_parses_to_the_same_request_and_is_emitted_unpadded() -> None:
    parsed = AudioConvertRequest.from_process(CONVERT_GO_SAMPLE)
    assert parsed == sdk_sample_request()
    assert parsed.saveas.bucket == "examplebucket"
    assert parsed.to_process() == CONVERT_SDK_SAMPLE


def test_the_signing_reference_process_string_and_body_are_reproduced() -> None:
    body = async_process_body(sdk_sample_request().to_process())

    assert sdk_sample_request().to_process() == SIGNING_MD_PROCESS
    assert body == b"x-oss-async-process=" + SIGNING_MD_PROCESS.encode()
    assert len(body) == SIGNING_MD_BODY_LENGTH
    assert base64.b64encode(hashlib.md5(body).digest()).decode() == SIGNING_MD_CONTENT_MD5
    assert process_from_body(body) == SIGNING_MD_PROCESS


def test_a_body_without_the_async_process_prefix_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        process_from_body(b"audio/convert,f_mp3")
    assert (caught.value.field, caught.value.rule) == ("body", "missing_prefix")


def test_parameters_written_in_another_order_parse_to_an_equal_model_and_come_back_in_seed_order() -> None:
    shuffled = (
        "audio/convert,ac_2,ar_48000,f_opus,ab_96000"
        "|sys/saveas,o_b3V0b2JqLnthdXRvZXh0fQ,b_b3V0YnVja2V0/notify,topic_QXVkaW9Db252ZXJ0"
    )
    parsed = AudioConvertRequest.from_process(shuffled)
    assert parsed == rest_opus_request()
    assert parsed.to_process() == CONVERT_REST_OPUS_CLEAN


def test_notify_after_a_pipe_parses_like_notify_after_a_slash_and_is_emitted_with_a_slash() -> None:
    head, _, tail = CONVERT_SDK_SAMPLE.partition("|")
    saveas, _, topic = tail.partition("/notify,")
    notify = f"notify,{topic}"
    with_pipe = f"{head}|{saveas}|{notify}"
    notify_first = f"{head}|{notify}|{saveas}"

    for variant in (with_pipe, notify_first):
        parsed = AudioConvertRequest.from_process(variant)
        assert parsed == sdk_sample_request()
        assert parsed.to_process() == CONVERT_SDK_SAMPLE


def test_notify_is_optional() -> None:
    request = AudioConvertRequest.build(
        params={"f": "mp3"}, saveas={"bucket": "examplebucket", "object": "dest.mp3"}
    )
    assert request.to_process() == "audio/convert,f_mp3|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5tcDM"
    assert AudioConvertRequest.from_process(request.to_process()) == request
    assert request.notify is None


def test_an_explicit_zero_is_written_while_a_default_is_left_out_and_both_models_are_equal() -> None:
    explicit = ConvertParams.build(f="mp3", ss=0, t=0)
    default = ConvertParams.build(f="mp3")
    assert explicit == default
    assert explicit.wire_items(("ss", "t", "f")) == ["ss_0", "t_0", "f_mp3"]
    assert default.wire_items(("ss", "t", "f")) == ["f_mp3"]

    request = AudioConvertRequest.from_process(
        "audio/convert,ss_0,f_mp3|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5tcDM"
    )
    assert request.to_process().startswith("audio/convert,ss_0,f_mp3|")


def test_every_parameter_is_written_by_its_wire_value() -> None:
    params = ConvertParams.build(f="flac", ab=320000, abopt="1", ar=96000, ac=6, adepth=24, ss=5, t=7)
    assert params.ar is SampleRate.HZ_96000
    assert params.abopt is BitrateOption.USE_SOURCE
    assert params.adepth is BitDepth.BITS_24
    request = AudioConvertRequest.build(params=params, saveas={"bucket": "b-1", "object": "x.flac"})
    expected = (
        "audio/convert,ss_5,t_7,f_flac,ab_320000,abopt_1,ar_96000,ac_6,adepth_24|sys/saveas,b_Yi0x,o_eC5mbGFj"
    )
    assert request.to_process() == expected
    assert AudioConvertRequest.from_process(expected) == request


def test_quality_instead_of_bitrate_round_trips() -> None:
    request = AudioConvertRequest.build(params={"f": "oga", "aq": 0}, saveas={"bucket": "abc", "object": "q"})
    assert request.to_process() == "audio/convert,f_oga,aq_0|sys/saveas,b_YWJj,o_cQ"
    assert AudioConvertRequest.from_process(request.to_process()) == request


@pytest.mark.parametrize(
    ("fmt", "rate", "channels"),
    [
        ("mp3", 48000, 2),
        ("mp3", 8000, 1),
        ("opus", 12000, 8),
        ("ac3", 44100, 6),
        ("amr", 16000, 1),
        ("aac", 96000, 8),
        ("flac", 88200, 1),
        ("oga", 11025, 3),
    ],
)
def test_sample_rates_and_channels_within_each_formats_limits_are_accepted(
    fmt: str, rate: int, channels: int
) -> None:
    params = ConvertParams.build(f=fmt, ar=rate, ac=channels)
    assert (params.ar, params.ac) == (rate, channels)
    assert check_inherited(fmt, rate, channels) == []


def test_check_inherited_reports_a_source_rate_and_channel_count_that_do_not_fit_the_format() -> None:
    problems = check_inherited(AudioFormat.AMR, 44100, 2)
    assert [(p.field, p.rule) for p in problems] == [("ar", "format_sample_rate"), ("ac", "format_channels")]
    assert "inherited" in problems[0].message
    assert "8000 or 16000 Hz" in problems[0].message
    assert "exactly 1 channel" in problems[1].message


def test_check_inherited_applies_the_general_limits_to_unrestricted_formats() -> None:
    problems = check_inherited("aac", 37800, 10)
    assert [(p.field, p.rule) for p in problems] == [("ar", "format_sample_rate"), ("ac", "format_channels")]


def test_check_inherited_skips_values_that_are_unknown() -> None:
    assert check_inherited("ac3", None, None) == []
    assert [p.field for p in check_inherited("ac3", None, 8)] == ["ac"]


def test_inherited_problems_ignore_values_the_request_sets_explicitly() -> None:
    explicit_rate = ConvertParams.build(f="mp3", ar=44100)
    assert [p.field for p in explicit_rate.inherited_problems(96000, 6)] == ["ac"]
    both_explicit = ConvertParams.build(f="mp3", ar=44100, ac=2)
    assert both_explicit.inherited_problems(96000, 6) == []


def test_parse_process_dispatches_a_convert_string_to_a_convert_request() -> None:
    parsed = parse_process(CONVERT_SDK_SAMPLE)
    assert isinstance(parsed, AudioConvertRequest)
    assert parsed == sdk_sample_request()


def test_the_async_process_response_reads_the_three_ids_and_tolerates_new_fields() -> None:
    response = AsyncProcessResponse.parse(
        {
            "EventId": "181-1kZUlN60OH4fWOcOjZEnGnG****",
            "RequestId": "1D99637F-F59E-5B41-9200-C4892F52****",
            "TaskId": "MediaConvert-e4a737df-69e9-4fca-8d9b-17c40ea3****",
            "Extra": 1,
        }
    )
    assert response.event_id == "181-1kZUlN60OH4fWOcOjZEnGnG****"
    assert response.request_id == "1D99637F-F59E-5B41-9200-C4892F52****"
    assert response.task_id == "MediaConvert-e4a737df-69e9-4fca-8d9b-17c40ea3****"
