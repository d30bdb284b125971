from __future__ import annotations

import pytest

from shared.errors import InvalidRequestError
from shared.ops.enums import AudioFormat
from shared.ops.oss import Notify, SaveAs, resolve_autoext
from shared.ops.oss.common import WireStep


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_autoext_becomes_the_extension_of_every_output_format(fmt: AudioFormat) -> None:
    assert resolve_autoext("out/song.{autoext}", fmt) == f"out/song.{fmt.value}"


def test_autoext_is_replaced_everywhere_and_a_key_without_it_is_unchanged() -> None:
    assert resolve_autoext("{autoext}/a.{autoext}", "ac3") == "ac3/a.ac3"
    assert resolve_autoext("plain.mp3", "aac") == "plain.mp3"
    saveas = SaveAs.build(bucket="outbucket", object="outobj.{autoext}")
    assert saveas.resolved_object("oga") == "outobj.oga"


def test_autoext_for_an_unknown_format_names_f() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        resolve_autoext("a.{autoext}", "wav")
    assert (caught.value.field, caught.value.rule) == ("f", "enum")


def test_saveas_is_written_as_unpadded_url_safe_base64() -> None:
    saveas = SaveAs.build(bucket="outbucket", object="outobj.{autoext}")
    assert saveas.to_wire() == "sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQ"


def test_a_name_whose_base64_needs_url_safe_characters_round_trips() -> None:
    key = "dir/??>~~~.mp3"  # standard base64: 'ZGlyLz8/Pn5+fi5tcDM='
    wire = SaveAs.build(bucket="abc", object=key).to_wire()
    assert wire == "sys/saveas,b_YWJj,o_ZGlyLz8_Pn5-fi5tcDM"
    step = WireStep("sys/saveas", dict(part.split("_", 1) for part in wire.split(",")[1:]), "sys/saveas")
    assert SaveAs.from_step(step, "test").object == key


def test_unicode_object_keys_round_trip() -> None:
    saveas = SaveAs.build(bucket="abc", object="音频/测试.{autoext}")
    step = WireStep("sys/saveas", {"b": "YWJj", "o": saveas.to_wire().split(",o_")[1]}, "sys/saveas")
    assert SaveAs.from_step(step, "test") == saveas


@pytest.mark.parametrize("bucket", ["abc", "a" * 63, "my-bucket-01", "0-9"])
def test_bucket_names_within_the_rules_are_accepted(bucket: str) -> None:
    assert SaveAs.build(bucket=bucket, object="k").bucket == bucket


def test_object_keys_up_to_1023_bytes_of_utf8_are_accepted_and_longer_ones_refused() -> None:
    assert SaveAs.build(bucket="abc", object="a" * 1023).object == "a" * 1023
    with pytest.raises(InvalidRequestError) as caught:
        SaveAs.build(bucket="abc", object="é" * 512)  # 1024 bytes in 512 characters
    assert (caught.value.field, caught.value.rule) == ("object", "key_length")


def test_building_with_a_trailing_newline_is_refused_with_a_message_that_names_the_newline() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        SaveAs.build(bucket="outbucket", object="outobj.{autoext}\n")
    assert (caught.value.field, caught.value.rule) == ("object", "control_character")
    assert "newline" in str(caught.value)
    assert "U+000A" in str(caught.value)


def test_other_control_characters_are_named_too() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        SaveAs.build(bucket="outbucket", object="a\tb")
    assert caught.value.rule == "control_character"
    assert "a tab" in str(caught.value) and "position 1" in str(caught.value)


def test_a_parsed_name_ending_in_a_newline_is_kept_literally_and_reported() -> None:
    step = WireStep("sys/saveas", {"b": "b3V0YnVja2V0", "o": "b3V0b2JqLnthdXRvZXh0fQo"}, "sys/saveas")
    saveas = SaveAs.from_step(step, "audio/convert")
    assert saveas.object == "outobj.{autoext}\n"
    assert saveas.resolved_object("aac") == "outobj.aac\n"
    assert saveas.to_wire() == "sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo"
    [warning] = saveas.wire_warnings
    assert "'outobj.{autoext}\\n'" in warning and "newline" in warning


def test_padded_and_unpadded_base64_decode_to_the_same_names() -> None:
    padded = WireStep("sys/saveas", {"b": "ZXhhbXBsZWJ1Y2tldA==", "o": "ZGVzdC5hYWM="}, "sys/saveas")
    unpadded = WireStep("sys/saveas", {"b": "ZXhhbXBsZWJ1Y2tldA", "o": "ZGVzdC5hYWM"}, "sys/saveas")
    assert SaveAs.from_step(padded, "t") == SaveAs.from_step(unpadded, "t")
    assert SaveAs.from_step(padded, "t") == SaveAs.build(bucket="examplebucket", object="dest.aac")


def test_notify_is_written_as_topic_in_base64_and_parsed_back() -> None:
    notify = Notify.build(topic="test-mns-topic")
    assert notify.to_wire() == "notify,topic_dGVzdC1tbnMtdG9waWM"
    step = WireStep("notify", {"topic": "dGVzdC1tbnMtdG9waWM"}, "notify")
    assert Notify.from_step(step, "t") == notify


def test_a_topic_of_256_characters_is_accepted() -> None:
    assert Notify.build(topic="T" * 256).topic == "T" * 256
