from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.auth import oss_bucket_and_key
from shared.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3", ("examplebucket", "src.mp3")),
        ("https://examplebucket.oss-cn-hangzhou-internal.aliyuncs.com/a/b.mp3", ("examplebucket", "a/b.mp3")),
        ("https://examplebucket.oss-cn-hangzhou.aliyuncs.com/", ("examplebucket", "")),
        ("https://examplebucket.oss-cn-hangzhou.aliyuncs.com/?uploads", ("examplebucket", "")),
        ("https://oss-data.oss-cn-beijing.aliyuncs.com/x.wav", ("oss-data", "x.wav")),
        ("https://oss-cn-hangzhou.aliyuncs.com/", (None, "")),
        ("https://oss-cn-hangzhou.aliyuncs.com/examplebucket/src.mp3", ("examplebucket", "src.mp3")),
        ("http://127.0.0.1:9000/examplebucket/in/a%2Bb%20c.mp3", ("examplebucket", "in/a+b c.mp3")),
        ("http://127.0.0.1:9000/examplebucket", ("examplebucket", "")),
        ("http://127.0.0.1:9000/examplebucket/", ("examplebucket", "")),
        ("http://127.0.0.1:9000/", (None, "")),
        ("http://[::1]:9000/examplebucket/src.mp3", ("examplebucket", "src.mp3")),
        ("http://localhost:9000/examplebucket/src.mp3", ("examplebucket", "src.mp3")),
        ("http://localcloud:9000/examplebucket/src.mp3", ("examplebucket", "src.mp3")),
        ("http://examplebucket.localhost:9000/src.mp3", ("examplebucket", "src.mp3")),
    ],
)
def test_bucket_and_key_are_read_from_host_or_path(url: str, expected: tuple[str | None, str]) -> None:
    assert oss_bucket_and_key(httpx.Request("GET", url)) == expected


def test_a_configured_endpoint_host_makes_custom_hosts_unambiguous() -> None:
    virtual = httpx.Request("GET", "http://examplebucket.storage.local.test:9000/a.mp3")
    path_style = httpx.Request("GET", "http://storage.local.test:9000/examplebucket/a.mp3")
    assert oss_bucket_and_key(virtual, endpoint_host="storage.local.test") == ("examplebucket", "a.mp3")
    assert oss_bucket_and_key(path_style, endpoint_host="STORAGE.local.test") == ("examplebucket", "a.mp3")


@pytest.mark.parametrize(
    ("url", "extensions", "expected"),
    [
        (
            "https://cdn.example.com/a/b.mp3",
            {"oss_bucket": "media", "oss_key": "a/b.mp3"},
            ("media", "a/b.mp3"),
        ),
        ("https://cdn.example.com/a/b.mp3", {"oss_bucket": "media"}, ("media", "a/b.mp3")),
        ("http://10.0.0.5:9000/media/a/b.mp3", {"oss_bucket": "media"}, ("media", "a/b.mp3")),
        ("https://media.example.com/media/b.mp3", {"oss_bucket": "media"}, ("media", "media/b.mp3")),
    ],
)
def test_request_extensions_override_what_the_url_suggests(
    url: str, extensions: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert oss_bucket_and_key(httpx.Request("GET", url, extensions=extensions)) == expected


@pytest.mark.parametrize(
    ("extensions", "field"),
    [
        ({"oss_bucket": ""}, "oss_bucket"),
        ({"oss_bucket": 7}, "oss_bucket"),
        ({"oss_bucket": "b", "oss_key": 1}, "oss_key"),
    ],
)
def test_malformed_extensions_are_refused_naming_them(extensions: dict[str, Any], field: str) -> None:
    request = httpx.Request("GET", "https://cdn.example.com/a.mp3", extensions=extensions)
    with pytest.raises(InvalidRequestError) as caught:
        oss_bucket_and_key(request)
    assert caught.value.field == field
