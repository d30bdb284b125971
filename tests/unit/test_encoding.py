import pytest

from shared.encoding import b64url_decode, b64url_decode_text, b64url_encode, percent_encode


def test_url_safe_base64_has_no_padding_and_no_newline() -> None:
    assert b64url_encode("outobj.{autoext}") == "b3V0b2JqLnthdXRvZXh0fQ"
    assert b64url_encode("a") == "YQ"


def test_decoding_accepts_padded_and_unpadded_input() -> None:
    assert b64url_decode("YQ==") == b"a"
    assert b64url_decode("YQ") == b"a"


def test_decoding_keeps_a_trailing_newline_literally() -> None:
    # The seeds' examples were made with `echo`: the decoded name really ends in a newline.
    assert b64url_decode_text("cHJlMS5tcDMK") == "pre1.mp3\n"


@pytest.mark.parametrize("bad", ["", "a+b/", "ab cd", "@@@@"])
def test_decoding_refuses_what_is_not_url_safe_base64(bad: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(bad)


def test_percent_encoding_follows_rfc3986() -> None:
    assert percent_encode(" ~/*-+") == "%20~%2F%2A-%2B"
    assert percent_encode("a b/c", keep_slash=True) == "a%20b/c"
    assert percent_encode("é") == "%C3%A9"
