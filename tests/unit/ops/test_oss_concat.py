from __future__ import annotations

from typing import Any

import pytest

from shared.errors import InvalidRequestError
from shared.ops.oss import (
    MAX_OBJECTS,
    AudioConcatRequest,
    ConcatClip,
    ConcatWire,
    ParsedConcat,
    async_process_body,
    parse_process,
)
from tests.unit.ops.oss_seed_strings import (
    CONCAT_FIVE_CLIPS,
    CONCAT_FIVE_CLIPS_CLEAN,
    CONCAT_FIVE_CLIPS_SOURCE,
    CONCAT_QUICK_START,
    CONCAT_QUICK_START_GO,
    CONCAT_QUICK_START_SOURCE,
)

OUTPUT = {"f": "aac", "ac": 1, "ar": 44100, "ab": 96000}
SAVEAS = {"bucket": "outbucket", "object": "outobj.{autoext}"}


def five_clip_request() -> AudioConcatRequest:
    return AudioConcatRequest.build(
        clips=[
            ConcatClip.build(object="pre1.mp3"),
            ConcatClip.build(object="pre2.wav", t=2000),
            ConcatClip.build(object="example.oga"),
            ConcatClip.build(object="sur1.aac", ss=4000, t=10000),
            ConcatClip.build(object="sur2.wma", ss=10000),
        ],
        params=OUTPUT,
        align=2,
        saveas=SAVEAS,
        notify={"topic": "AudioConvert"},
    )


def quick_start_request() -> AudioConcatRequest:
    return AudioConcatRequest.build(
        clips=[{"object": "src1.mp3"}, {"object": "src2.mp3", "t": 0}, {"object": "src1.mp3"}],
        params=OUTPUT,
        align=2,
        saveas={"bucket": "examplebucket", "object": "dest.aac"},
        notify={"topic": "AudioConvert"},
    )


def simple_request(clips: list[dict[str, Any]], **extra: Any) -> AudioConcatRequest:
    return AudioConcatRequest.build(
        clips=clips, params={"f": "mp3"}, saveas={"bucket": "abc", "object": "o"}, **extra
    )


def test_the_five_clip_example_is_sent_so_that_both_readings_of_pre_give_its_order() -> None:
    """The seed POSTs to example.oga with two /pre clips, whose order its prose and its table read
    differently; the first clip is untrimmed, so it can be the source and everything else `/sur`."""
    request = five_clip_request()
    wire = request.to_wire()
    assert request.reading_independent()
    assert wire.source_key == "pre1.mp3"
    assert "/pre" not in wire.process and wire.process.count("/sur,") == 4
    assert AudioConcatRequest.from_wire(wire.source_key, wire.process) == request
    # The seed's own string (cleaned of its newlines) still parses to the very same request.
    assert AudioConcatRequest.from_wire(CONCAT_FIVE_CLIPS_SOURCE, CONCAT_FIVE_CLIPS_CLEAN) == request


def test_the_five_clip_example_string_parses_to_the_tables_order_with_newline_names() -> None:
    request = AudioConcatRequest.from_wire(CONCAT_FIVE_CLIPS_SOURCE, CONCAT_FIVE_CLIPS)

    assert [(clip.object, clip.ss, clip.t) for clip in request.clips] == [
        ("pre1.mp3\n", 0, 0),
        ("pre2.wav\n", 0, 2000),
        ("example.oga", 0, 0),
        ("sur1.aac\n", 4000, 10000),
        ("sur2.wma\n", 10000, 0),
    ]
    assert request.align_clip.object == "example.oga"
    assert request.saveas.object == "outobj.{autoext}\n"
    assert AudioConcatRequest.from_wire(*_as_tuple(request.to_wire())) == request
    assert len(request.wire_warnings) == 5
    assert all("newline" in warning for warning in request.wire_warnings)
    assert request.wire_warnings[0].startswith("clips[0].o")


def test_the_quick_start_reproduces_mechanically_as_src1_src2_src1() -> None:
    request = AudioConcatRequest.from_wire(CONCAT_QUICK_START_SOURCE, CONCAT_QUICK_START)

    assert [(clip.object, clip.ss, clip.t) for clip in request.clips] == [
        ("src1.mp3", 0, 0),
        ("src2.mp3", 0, 0),
        ("src1.mp3", 0, 0),
    ]
    assert request.align == 2
    assert request == quick_start_request()
    wire = quick_start_request().to_wire()  # src1 as the source, the rest /sur: the same order either way
    assert (wire.source_key, wire.process.count("/sur,"), "/pre" in wire.process) == ("src1.mp3", 2, False)
    assert request.wire_warnings == []


def test_the_go_quick_starts_padded_base64_parses_to_the_same_request() -> None:
    request = AudioConcatRequest.from_wire(CONCAT_QUICK_START_SOURCE, CONCAT_QUICK_START_GO)
    assert request == quick_start_request()
    assert request == AudioConcatRequest.from_wire(CONCAT_QUICK_START_SOURCE, CONCAT_QUICK_START)


def test_the_first_untrimmed_clip_is_the_source_wherever_align_points() -> None:
    request = simple_request([{"object": "a"}, {"object": "b"}, {"object": "c"}], align=1)
    wire = request.to_wire()
    assert wire.source_key == "a"
    assert wire.process == "audio/concat,f_mp3,align_1/sur,o_Yg/sur,o_Yw|sys/saveas,b_YWJj,o_bw"


def test_two_trimmed_clips_before_the_first_untrimmed_one_make_the_order_reading_dependent() -> None:
    request = simple_request([{"object": "a", "t": 5}, {"object": "b", "t": 5}, {"object": "c"}])
    assert request.source_index() == 2 and not request.reading_independent()
    assert simple_request([{"object": "a", "t": 5}, {"object": "c"}]).reading_independent()


def test_the_first_untrimmed_clip_is_the_source_when_the_align_clip_is_trimmed() -> None:
    request = simple_request([{"object": "a", "t": 5}, {"object": "b"}, {"object": "c", "ss": 1}])
    wire = request.to_wire()
    assert wire.source_key == "b"
    assert wire.process == "audio/concat,f_mp3/pre,o_YQ,t_5/sur,o_Yw,ss_1|sys/saveas,b_YWJj,o_bw"
    assert AudioConcatRequest.from_wire(*_as_tuple(wire)) == request


def test_a_list_with_no_untrimmed_clip_is_refused_with_what_to_do_instead() -> None:
    request = simple_request([{"object": "a", "t": 5}, {"object": "b", "ss": 10}])
    with pytest.raises(InvalidRequestError) as caught:
        request.to_wire()
    assert (caught.value.field, caught.value.rule) == ("clips", "no_untrimmed_clip")
    message = str(caught.value)
    assert "untrimmed" in message and "IMM" in message and "audio/convert" in message


@pytest.mark.parametrize("count", [2, 6, MAX_OBJECTS])
def test_every_source_position_round_trips_through_the_wire(count: int) -> None:
    for source in range(count):
        clips = [{"object": f"c{i}.mp3", "t": 0 if i == source else 1000 + i} for i in range(count)]
        request = simple_request(clips, align=source)
        wire = request.to_wire()
        assert wire.source_key == f"c{source}.mp3"
        assert wire.process.count("/pre,") == source
        assert wire.process.count("/sur,") == count - source - 1
        assert AudioConcatRequest.from_wire(wire.source_key, wire.process) == request


def test_eleven_objects_are_accepted_on_the_wire() -> None:
    pre = "".join("/pre,o_YQ" for _ in range(MAX_OBJECTS - 1))
    request = AudioConcatRequest.from_wire("src", f"audio/concat,f_mp3{pre}|sys/saveas,b_YWJj,o_bw")
    assert len(request.clips) == MAX_OBJECTS


def test_parse_process_gives_the_pre_and_sur_lists_of_a_concat_string_as_written() -> None:
    parsed = parse_process(CONCAT_FIVE_CLIPS_CLEAN)

    assert isinstance(parsed, ParsedConcat)
    assert [clip.object for clip in parsed.pre] == ["pre1.mp3", "pre2.wav"]
    assert [(clip.object, clip.ss, clip.t) for clip in parsed.sur] == [
        ("sur1.aac", 4000, 10000),
        ("sur2.wma", 10000, 0),
    ]
    assert parsed.align == 2
    assert parsed.object_count == 5
    assert parsed.to_process() == CONCAT_FIVE_CLIPS_CLEAN
    assert parsed.to_request(CONCAT_FIVE_CLIPS_SOURCE) == five_clip_request()


def test_a_parsed_concat_keeps_the_newline_names_of_the_seed_and_reports_them_by_list() -> None:
    parsed = ParsedConcat.from_process(CONCAT_FIVE_CLIPS)
    assert parsed.pre[0].object == "pre1.mp3\n"
    assert parsed.to_process() == CONCAT_FIVE_CLIPS
    labels = [warning.split(":")[0] for warning in parsed.wire_warnings]
    assert labels == ["pre[0].o", "pre[1].o", "sur[0].o", "sur[1].o", "sys/saveas.o"]


def test_a_default_align_is_left_out_and_an_explicit_one_is_written() -> None:
    clips: list[dict[str, Any]] = [{"object": "a"}, {"object": "b", "t": 3}]
    assert "align" not in simple_request(clips).to_wire().process
    assert "f_mp3,align_0/sur" in simple_request(clips, align=0).to_wire().process


def test_the_body_of_a_concat_request_is_the_raw_process_string() -> None:
    wire = quick_start_request().to_wire()
    assert wire.body == async_process_body(wire.process)
    assert wire.body.startswith(b"x-oss-async-process=audio/concat,")


def _as_tuple(wire: ConcatWire) -> tuple[str, str]:
    return wire.source_key, wire.process
