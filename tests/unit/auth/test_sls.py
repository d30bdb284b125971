"""SLS V1 signatures against vectors captured from aliyun-log-python-sdk 0.9.52 (AuthV1.sign_request with
its clock fixed at the date below; AK "AKIDEXAMPLE" / "SECRETEXAMPLE", token "STS.token-value")."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from shared.auth import Credentials
from shared.auth.sls import SlsAuth, sls_content_md5
from tests.unit.auth.fixed import send_signed

DATE = "Sat, 05 Dec 2026 14:00:00 GMT"
HOST = "https://audiochain-logs.cn-hangzhou.log.aliyuncs.com"
PROJECT = {"projectName": "audiochain-logs", "description": "audiochain function logs"}
PROJECT_BODY = json.dumps(PROJECT).encode()


def clock() -> datetime:
    return datetime(2026, 12, 5, 14, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("token", "method", "path", "body", "signature"),
    [
        ("", "POST", "/", PROJECT_BODY, "zkbtkEdu3dFxs/79fVMVT4vdBKY="),
        ("", "GET", "/logstores/functions", b"", "pSwN1xgOUDZjcGoFiy07/Q3klvg="),
        ("", "GET", "/logstores?size=100&offset=0", b"", "frzI/vTKn/kI6Cf8u91P65hNCcg="),
        ("STS.token-value", "POST", "/", PROJECT_BODY, "9M4URIgegrBgdpcC8QZqSbTo3hA="),
        ("STS.token-value", "GET", "/logstores/functions", b"", "N9pPSTV7nvpLGxokwA9lyu5RE78="),
        ("STS.token-value", "GET", "/logstores?size=100&offset=0", b"", "NQupOyBhefE/HyXxJxbzSVzldiI="),
    ],
)
def test_signatures_match_the_sdk(token: str, method: str, path: str, body: bytes, signature: str) -> None:
    auth = SlsAuth(Credentials("AKIDEXAMPLE", "SECRETEXAMPLE", token or None), clock=clock)
    headers = {"Content-Type": "application/json"} if body else {}
    sent = send_signed(auth, method, HOST + path, content=body, headers=headers)
    assert sent.headers["Authorization"] == f"LOG AKIDEXAMPLE:{signature}"
    assert sent.headers["Date"] == sent.headers["x-log-date"] == DATE
    assert sent.headers["x-log-bodyrawsize"] == str(len(body))
    assert sent.headers.get("x-acs-security-token") == (token or None)


def test_content_md5_is_upper_hex_as_the_sdk_sends_it() -> None:
    assert sls_content_md5(PROJECT_BODY) == "0087028185C3F2E1EECE639404F8001F"


def test_signing_twice_gives_the_same_signature() -> None:
    """A retry re-signs the same request: the unsigned x-log-date copy must not leak into the signature."""
    import httpx

    auth = SlsAuth(Credentials("AKIDEXAMPLE", "SECRETEXAMPLE"), clock=clock)
    request = httpx.Request("GET", HOST + "/logstores/functions")
    auth.sign(request)
    first = request.headers["Authorization"]
    auth.sign(request)
    assert request.headers["Authorization"] == first == "LOG AKIDEXAMPLE:pSwN1xgOUDZjcGoFiy07/Q3klvg="
