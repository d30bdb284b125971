"""Cost of signing one OSS async-process request (OSS V4), and of the other signers for comparison.

python -m bench.sign_requests
"""

from __future__ import annotations

import timeit
from datetime import datetime, timezone

import httpx

from shared.auth import Acs3Auth, Credentials, MnsAuth, OssV1Auth, OssV4Auth, presign_oss_v4

CREDS = Credentials(
    "LTAI5tFixedAccessKeyId", "FixedAccessKeySecret0123456789abcd", "CAISFixedSecurityToken+/=="
)
NOW = datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc)
URL = "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3?x-oss-async-process="
BODY = b"x-oss-async-process=audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0"


def per_call_us(stmt, number: int = 20000) -> float:
    best = min(timeit.repeat(stmt, number=number, repeat=5))
    return best / number * 1e6


def main() -> None:
    v4 = OssV4Auth(CREDS, "cn-hangzhou", clock=lambda: NOW)
    v1 = OssV1Auth(CREDS, clock=lambda: NOW)
    acs3 = Acs3Auth(CREDS, clock=lambda: NOW)
    mns = MnsAuth(CREDS, clock=lambda: NOW)
    request = httpx.Request("POST", URL, content=BODY)
    build = per_call_us(lambda: httpx.Request("POST", URL, content=BODY))
    print(f"httpx.Request construction alone          : {build:7.1f} us")
    print(f"OssV4Auth.sign (async process, STS)       : {per_call_us(lambda: v4.sign(request)):7.1f} us")
    print(f"OssV1Auth.sign (async process, STS)       : {per_call_us(lambda: v1.sign(request)):7.1f} us")
    imm = httpx.Request(
        "POST", "https://imm.cn-hangzhou.aliyuncs.com/", params={"ProjectName": "p", "Sources": "[]"}
    )
    print(f"Acs3Auth.sign (IMM RPC, empty body)       : {per_call_us(lambda: acs3.sign(imm)):7.1f} us")
    topic = httpx.Request(
        "POST", "https://1.mns.cn-hangzhou.aliyuncs.com/topics/t/messages", content=b"<Message/>"
    )
    print(f"MnsAuth.sign (publish)                    : {per_call_us(lambda: mns.sign(topic)):7.1f} us")
    presign = per_call_us(
        lambda: presign_oss_v4(
            "GET",
            "https://oss-cn-hangzhou.aliyuncs.com",
            "examplebucket",
            "src.mp3",
            credentials=CREDS,
            region="cn-hangzhou",
            expires=3600,
            now=NOW,
            path_style=False,
        )
    )
    print(f"presign_oss_v4 (GET, STS)                 : {presign:7.1f} us")
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)), auth=v4)
    unsigned = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    full = per_call_us(lambda: client.post(URL, content=BODY), number=3000)
    bare = per_call_us(lambda: unsigned.post(URL, content=BODY), number=3000)
    print(f"client.post through MockTransport, signed : {full:7.1f} us (unsigned {bare:.1f} us)")


if __name__ == "__main__":
    main()
