"""The fixed inputs of /work/shared/reference/vectors/fixed_inputs.py, shared by the auth tests."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx

from shared.auth import Credentials

AK_ID = "LTAI5tFixedAccessKeyId"
AK_SECRET = "FixedAccessKeySecret0123456789abcd"
STS_TOKEN = "CAISFixedSecurityToken+/=="
REGION = "cn-hangzhou"
BUCKET = "examplebucket"
OBJECT = "src.mp3"
PROCESS = (
    "audio/convert,ss_10000,t_60000,f_aac,ab_96000"
    "|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0"
)
FIXED_DT = datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc)
NONCE = "3f8c2a1e-9b7d-4c6e-8a5f-1d2e3f4a5b6c"
ASYNC_URL = "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3?x-oss-async-process="
ASYNC_BODY = f"x-oss-async-process={PROCESS}".encode()
V2_CONTENT_MD5 = "3n1GRjR8kxW+KRXHdCCwfQ=="

STATIC = Credentials(AK_ID, AK_SECRET)
STS = Credentials(AK_ID, AK_SECRET, STS_TOKEN)


def fixed_clock() -> datetime:
    return FIXED_DT


def fixed_nonce() -> str:
    return NONCE


def send_signed(auth: httpx.Auth, method: str, url: str, **kwargs: Any) -> httpx.Request:
    """Send a request through an httpx client using `auth` over a MockTransport; return what went out."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    with httpx.Client(transport=httpx.MockTransport(answer), auth=auth) as client:
        response = client.request(method, url, **kwargs)
    assert response.status_code == 200
    assert len(sent) == 1
    return sent[0]
