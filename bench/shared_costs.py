"""Cost of the shared layer on the hot path of a function: importing it, and building + signing one request.

    python -m bench.shared_costs

Import cost is measured in fresh interpreters (cold, as an FC instance starts), best of several runs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import timeit
from datetime import datetime, timezone

import httpx

IMPORT_SNIPPETS = {
    "python -c pass (baseline)": "pass",
    "import shared": "import shared",
    "import shared.ops.oss": "import shared.ops.oss",
    "import shared.auth": "import shared.auth",
    "import shared.clients": "import shared.clients",
    "import shared.runtime + events + logging": (
        "import shared.runtime.handler, shared.runtime.wsgi, shared.events.oss, shared.events.mns, shared.logging"
    ),
}


def import_cost(snippet: str, runs: int = 7) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", snippet], check=True)
        timings.append(time.perf_counter() - start)
    return min(timings)


def build_and_sign_once() -> httpx.Request:
    from shared.auth import Credentials, OssV4Auth, StaticCredentialsProvider
    from shared.ops.oss import AudioConvertRequest, async_process_body

    request = AudioConvertRequest.build(
        params={"f": "aac", "ss": 10000, "t": 60000, "ab": 96000},
        saveas={"bucket": "examplebucket", "object": "dest.aac"},
        notify={"topic": "AudioConvert"},
    )
    body = async_process_body(request.to_process())
    http_request = httpx.Request(
        "POST",
        "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3?x-oss-async-process",
        content=body,
    )
    auth = OssV4Auth(
        StaticCredentialsProvider(
            Credentials("LTAI5tFixedAccessKeyId", "FixedAccessKeySecret0123456789abcd")
        ),
        "cn-hangzhou",
        clock=lambda: datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc),
    )
    auth.sign(http_request)
    return http_request


def main() -> None:
    print("Import cost (fresh interpreter, best of 7):")
    baseline = import_cost("pass")
    for label, snippet in IMPORT_SNIPPETS.items():
        total = import_cost(snippet)
        print(f"  {label:45s} {total * 1000:7.1f} ms  (+{(total - baseline) * 1000:6.1f} ms)")
    build_and_sign_once()  # warm up imports and pydantic schemas
    number = 2000
    runs = timeit.repeat(build_and_sign_once, number=number, repeat=5)
    per_call = [r / number for r in runs]
    print(
        "Build + sign one async-process request (audio/convert model -> process string -> body -> OSS V4):\n"
        f"  best {min(per_call) * 1e6:.1f} µs, median {statistics.median(per_call) * 1e6:.1f} µs per request"
    )


if __name__ == "__main__":
    main()
