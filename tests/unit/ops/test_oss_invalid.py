"""Every kind of bad audio/convert, audio/concat, sys/saveas and notify input, and the error it gets.

Each row: a call that must fail, the field the error must name, the rule it must name, and a fragment the
message must contain (what is allowed, or what was wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from shared.errors import InvalidRequestError
from shared.ops.oss import (
    AudioConcatRequest,
    AudioConvertRequest,
    ConvertParams,
    Notify,
    ParsedConcat,
    SaveAs,
    async_process_body,
    check_inherited,
    parse_process,
    process_from_body,
)

SAVEAS = {"bucket": "outbucket", "object": "out.{autoext}"}
TAIL = "|sys/saveas,b_b3V0YnVja2V0,o_b3V0Lm1wMw"  # outbucket / out.mp3


class Case(NamedTuple):
    name: str
    call: Callable[[], object]
    field: str
    rule: str
    says: str


def convert(**params: Any) -> Callable[[], object]:
    return lambda: AudioConvertRequest.build(params=params, saveas=SAVEAS)


def output(**params: Any) -> Callable[[], object]:
    return lambda: ConvertParams.build(**params)


def concat(clips: list[dict[str, Any]], **extra: Any) -> Callable[[], object]:
    return lambda: AudioConcatRequest.build(clips=clips, params={"f": "mp3"}, saveas=SAVEAS, **extra)


def parsed(process: str) -> Callable[[], object]:
    return lambda: parse_process(process)


CASES = [
    # Output parameters, built from Python.
    Case("format is required", convert(ab=96000), "params.f", "missing", "required"),
    Case("format outside the list", output(f="wav"), "f", "enum", "'mp3'"),
    Case("negative start", output(f="mp3", ss=-1), "ss", "greater_than_equal", "0"),
    Case("negative duration", output(f="mp3", t=-5), "t", "greater_than_equal", "0"),
    Case("sample rate not in the set", output(f="aac", ar=44000), "ar", "enum", "44100"),
    Case("no channels", output(f="aac", ac=0), "ac", "greater_than_equal", "1"),
    Case("nine channels", output(f="aac", ac=9), "ac", "less_than_equal", "8"),
    Case("quality above 100", output(f="oga", aq=101), "aq", "less_than_equal", "100"),
    Case("bitrate below 1000", output(f="aac", ab=999), "ab", "greater_than_equal", "1000"),
    Case("bitrate above 10 Mbit/s", output(f="aac", ab=10_000_001), "ab", "less_than_equal", "10000000"),
    Case("bitrate and quality", output(f="aac", ab=96000, aq=50), "aq", "mutually_exclusive", "ab"),
    Case("abopt without ab", output(f="aac", abopt="1"), "abopt", "requires_ab", "set ab"),
    Case("abopt outside 0/1/2", output(f="aac", ab=96000, abopt="3"), "abopt", "enum", "'2'"),
    Case("adepth on mp3", output(f="mp3", adepth=24), "adepth", "flac_only", "flac"),
    Case("adepth of 32 bits", output(f="flac", adepth=32), "adepth", "enum", "24"),
    Case("mp3 at 96 kHz", output(f="mp3", ar=96000), "ar", "format_sample_rate", "up to 48 kHz"),
    Case("mp3 with 3 channels", output(f="mp3", ac=3), "ac", "format_channels", "1 to 2 channels"),
    Case("opus at 44.1 kHz", output(f="opus", ar=44100), "ar", "format_sample_rate", "24000 or 48000 Hz"),
    Case("ac3 at 22.05 kHz", output(f="ac3", ar=22050), "ar", "format_sample_rate", "32000, 44100 or 48000"),
    Case("ac3 with 8 channels", output(f="ac3", ac=8), "ac", "format_channels", "1 to 6 channels"),
    Case("amr at 22.05 kHz", output(f="amr", ar=22050), "ar", "format_sample_rate", "8000 or 16000 Hz"),
    Case("amr in stereo", output(f="amr", ac=2), "ac", "format_channels", "exactly 1 channel"),
    Case("an undocumented parameter", output(f="mp3", vcodec="h264"), "vcodec", "extra_forbidden", "not"),
    Case("a start offset of true", output(f="mp3", ss=True), "ss", "number_type", "not true or false"),
    Case("a duration of false", output(f="mp3", t=False), "t", "number_type", "not true or false"),
    Case("a channel count of true", output(f="mp3", ac=True), "ac", "number_type", "not true or false"),
    Case("a quality of true", output(f="oga", aq=True), "aq", "number_type", "not true or false"),
    Case(
        "a clip duration of true",
        concat([{"object": "a", "t": True}, {"object": "b"}]),
        "clips[0].t",
        "number_type",
        "not true or false",
    ),
    Case(
        "an align of true",
        concat([{"object": "a"}, {"object": "b"}], align=True),
        "align",
        "number_type",
        "not true or false",
    ),
    Case(
        "saveas is required",
        lambda: AudioConvertRequest.build(params={"f": "mp3"}),
        "saveas",
        "missing",
        "required",
    ),
    # sys/saveas and notify, built from Python.
    Case(
        "bucket too short",
        lambda: SaveAs.build(bucket="ab", object="k"),
        "bucket",
        "bucket_length",
        "3 to 63",
    ),
    Case(
        "bucket too long", lambda: SaveAs.build(bucket="a" * 64, object="k"), "bucket", "bucket_length", "64"
    ),
    Case(
        "bucket in capitals",
        lambda: SaveAs.build(bucket="OutBucket", object="k"),
        "bucket",
        "bucket_characters",
        "lowercase",
    ),
    Case(
        "bucket edge hyphen",
        lambda: SaveAs.build(bucket="-out", object="k"),
        "bucket",
        "bucket_hyphen",
        "'-'",
    ),
    Case(
        "empty object key", lambda: SaveAs.build(bucket="abc", object=""), "object", "key_length", "1 to 1023"
    ),
    Case(
        "object key over 1023 bytes",
        lambda: SaveAs.build(bucket="abc", object="a" * 1024),
        "object",
        "key_length",
        "1024",
    ),
    Case(
        "object key with a leading slash",
        lambda: SaveAs.build(bucket="abc", object="/out.mp3"),
        "object",
        "key_leading_slash",
        "'/out.mp3'",
    ),
    Case(
        "object key with a leading backslash",
        lambda: SaveAs.build(bucket="abc", object="\\out.mp3"),
        "object",
        "key_leading_slash",
        "must not start",
    ),
    Case(
        "object key ending in a newline",
        lambda: SaveAs.build(bucket="abc", object="out.mp3\n"),
        "object",
        "control_character",
        "newline",
    ),
    Case(
        "topic starting with a digit", lambda: Notify.build(topic="1topic"), "topic", "topic_name", "letter"
    ),
    Case(
        "topic with an underscore",
        lambda: Notify.build(topic="my_topic"),
        "topic",
        "topic_name",
        "'my_topic'",
    ),
    Case("empty topic", lambda: Notify.build(topic=""), "topic", "topic_name", "at most 256"),
    # audio/concat, built from Python.
    Case("one clip", concat([{"object": "a"}]), "clips", "clip_count", "2 to 11"),
    Case("twelve clips", concat([{"object": "a"}] * 12), "clips", "clip_count", "got 12"),
    Case(
        "align past the end",
        concat([{"object": "a"}, {"object": "b"}], align=2),
        "align",
        "align_range",
        "got 2",
    ),
    Case(
        "negative align",
        concat([{"object": "a"}, {"object": "b"}], align=-1),
        "align",
        "greater_than_equal",
        "0",
    ),
    Case(
        "negative clip start",
        concat([{"object": "a"}, {"object": "b", "ss": -1}]),
        "clips[1].ss",
        "greater_than_equal",
        "0",
    ),
    Case(
        "clip key with a newline",
        concat([{"object": "a\n"}, {"object": "b"}]),
        "clips[0].object",
        "control_character",
        "newline",
    ),
    Case(
        "no untrimmed clip to send to",
        lambda: concat([{"object": "a", "t": 1}, {"object": "b", "ss": 1}])().to_wire(),  # type: ignore[attr-defined]
        "clips",
        "no_untrimmed_clip",
        "IMM",
    ),
    # Process strings.
    Case("empty process", parsed(""), "process", "required", "non-empty"),
    Case(
        "another action",
        parsed(f"video/convert,f_mp4{TAIL}"),
        "process",
        "unsupported_action",
        "video/convert",
    ),
    Case("no sys/saveas", parsed("audio/convert,f_mp3"), "sys/saveas", "required", "sys/saveas,b_"),
    Case(
        "unknown parameter",
        parsed(f"audio/convert,f_mp3,vcodec_h264{TAIL}"),
        "vcodec",
        "unknown_parameter",
        "ab",
    ),
    Case("bitrate in kbit/s", parsed(f"audio/convert,f_mp3,ab_96k{TAIL}"), "ab", "integer", "'96k'"),
    Case("negative number", parsed(f"audio/convert,f_mp3,ss_-1{TAIL}"), "ss", "integer", "'-1'"),
    Case(
        "duplicate parameter", parsed(f"audio/convert,f_mp3,f_aac{TAIL}"), "f", "duplicate_parameter", "twice"
    ),
    Case("bare parameter", parsed(f"audio/convert,f_mp3,ab{TAIL}"), "process", "malformed_parameter", "'ab'"),
    Case("empty step", parsed(f"audio/convert,f_mp3|{TAIL}"), "process", "malformed", "empty step"),
    Case(
        "rule broken on the wire", parsed(f"audio/convert,f_amr,ac_2{TAIL}"), "ac", "format_channels", "amr"
    ),
    Case(
        "bucket not URL-safe base64",
        parsed("audio/convert,f_mp3|sys/saveas,b_b3V0+YnVja2V0,o_eA"),
        "sys/saveas.b",
        "base64",
        "URL-safe",
    ),
    Case(
        "object not UTF-8",
        parsed("audio/convert,f_mp3|sys/saveas,b_b3V0YnVja2V0,o__w"),
        "sys/saveas.o",
        "base64",
        "UTF-8",
    ),
    Case(
        "saveas without bucket",
        parsed("audio/convert,f_mp3|sys/saveas,o_eA"),
        "sys/saveas.b",
        "required",
        "b_",
    ),
    Case(
        "saveas with an unknown parameter",
        parsed(f"audio/convert,f_mp3{TAIL},x_1"),
        "sys/saveas.x",
        "unknown_parameter",
        "'x'",
    ),
    Case(
        "decoded bucket breaks the rules",
        parsed("audio/convert,f_mp3|sys/saveas,b_b3V0YnVja2V0Cg,o_eA"),
        "sys/saveas.b",
        "bucket_characters",
        "'outbucket\\n'",
    ),
    Case("saveas twice", parsed(f"audio/convert,f_mp3{TAIL}{TAIL}"), "process", "duplicate_step", "twice"),
    Case(
        "notify twice",
        parsed(f"audio/convert,f_mp3{TAIL}/notify,topic_QQ|notify,topic_QQ"),
        "process",
        "duplicate_step",
        "notify",
    ),
    Case(
        "decoded topic breaks the rules",
        parsed(f"audio/convert,f_mp3{TAIL}/notify,topic_MWFi"),
        "notify.topic",
        "topic_name",
        "'1ab'",
    ),
    Case(
        "unknown step",
        parsed(f"audio/convert,f_mp3{TAIL}|sys/watermark,x_1"),
        "process",
        "unknown_step",
        "watermark",
    ),
    Case(
        "clips on a convert",
        parsed(f"audio/convert,f_mp3/pre,o_eA{TAIL}"),
        "process",
        "unexpected_step",
        "/pre",
    ),
    Case(
        "concat string given to the convert parser",
        lambda: AudioConvertRequest.from_process(f"audio/concat,f_mp3/pre,o_eA{TAIL}"),
        "process",
        "wrong_action",
        "audio/concat",
    ),
    Case("concat with no clips", parsed(f"audio/concat,f_mp3{TAIL}"), "clips", "clip_count", "got 1"),
    Case(
        "concat with eleven clips",
        parsed(f"audio/concat,f_mp3{'/sur,o_eA' * 11}{TAIL}"),
        "clips",
        "clip_count",
        "12",
    ),
    Case(
        "concat align out of range",
        parsed(f"audio/concat,f_mp3,align_2/pre,o_eA{TAIL}"),
        "align",
        "align_range",
        "2",
    ),
    Case(
        "align not a number", parsed(f"audio/concat,f_mp3,align_x/pre,o_eA{TAIL}"), "align", "integer", "'x'"
    ),
    Case("clip without an object", parsed(f"audio/concat,f_mp3/pre,t_5{TAIL}"), "pre[0].o", "required", "o_"),
    Case(
        "clip with an unknown parameter",
        parsed(f"audio/concat,f_mp3/pre,o_eA/sur,o_eQ,x_1{TAIL}"),
        "sur[0].x",
        "unknown_parameter",
        "o, ss, t",
    ),
    Case(
        "clip trim written twice",
        parsed(f"audio/concat,f_mp3/pre,o_eA,t_1,t_2{TAIL}"),
        "pre[0].t",
        "duplicate_parameter",
        "'1' and '2'",
    ),
    Case(
        "clip trim not a number",
        parsed(f"audio/concat,f_mp3/pre,o_eA,t_1.5{TAIL}"),
        "pre[0].t",
        "integer",
        "'1.5'",
    ),
    Case(
        "unknown clip step", parsed(f"audio/concat,f_mp3/mid,o_eA{TAIL}"), "process", "unknown_step", "/mid"
    ),
    Case(
        "source key with a leading slash",
        lambda: AudioConcatRequest.from_wire("/src.mp3", f"audio/concat,f_mp3/pre,o_eA{TAIL}"),
        "source_key",
        "key_leading_slash",
        "'/src.mp3'",
    ),
    Case(
        "parsed concat without its source",
        lambda: ParsedConcat.from_process(f"audio/convert,f_mp3{TAIL}"),
        "process",
        "wrong_action",
        "audio/convert",
    ),
    # Helpers.
    Case("inherited format unknown", lambda: check_inherited("wav", 8000, 1), "f", "enum", "mp3"),
    Case("empty body", lambda: async_process_body(""), "process", "required", "non-empty"),
    Case(
        "body without prefix",
        lambda: process_from_body(b"x=1"),
        "body",
        "missing_prefix",
        "x-oss-async-process=",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_invalid_input_is_refused_naming_the_field_and_the_rule(case: Case) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        case.call()
    error = caught.value
    assert [(p.field, p.rule) for p in error.problems][:1] == [(case.field, case.rule)], str(error)
    assert case.field in str(error)
    assert case.says in error.problems[0].message, error.problems[0].message


def test_the_table_covers_at_least_twenty_cases_of_each_origin() -> None:
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


def test_independent_problems_in_one_string_are_reported_together() -> None:
    process = "audio/concat,f_mp3,zz_1/pre,o_eA,t_x|sys/saveas,b_QUJD,o_eA/notify,topic_MQ"
    with pytest.raises(InvalidRequestError) as caught:
        parse_process(process)
    found = {(p.field, p.rule) for p in caught.value.problems}
    assert found == {
        ("zz", "unknown_parameter"),
        ("pre[0].t", "integer"),
        ("sys/saveas.b", "bucket_characters"),
        ("notify.topic", "topic_name"),
    }
    assert str(caught.value).startswith("invalid audio/concat request:")


def test_independent_problems_in_one_build_are_reported_together() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ConvertParams.build(f="amr", ar=44100, ac=2, ab=12200, aq=5, adepth=16)
    found = [(p.field, p.rule) for p in caught.value.problems]
    assert found == [
        ("aq", "mutually_exclusive"),
        ("adepth", "flac_only"),
        ("ar", "format_sample_rate"),
        ("ac", "format_channels"),
    ]
