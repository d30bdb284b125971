"""CPU and wall time of one request to localcloud's edge port over loopback (issue 11).

    python -m bench edge_requests [--requests 1200]

A LocalCloud with OSS only, and audiochain's own `OssClient` in the same process (as `localcloud run` has
the functions beside the services): PUT of a 180-byte object then GET of it, in turn. Printed: user and
system CPU of the process per request, and wall time per request. Logging stays at its default (INFO), so
the client's `ok` lines (DEBUG) cost nothing, as in a function.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from localcloud.config import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, LocalCloudConfig
from localcloud.server import LocalCloud
from shared.auth import Credentials
from shared.clients.oss import OssClient
from shared.logging import configure_logging

BUCKET = "bench-edge"
BODY = b'{"hello": "world"}' * 10


def cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench edge_requests")
    parser.add_argument("--requests", type=int, default=1200, help="requests measured (half PUT, half GET)")
    args = parser.parse_args(sys.argv[1:])
    configure_logging()
    pairs = max(1, args.requests // 2)
    with tempfile.TemporaryDirectory(prefix="edge-requests-") as scratch:
        config = LocalCloudConfig(port=0, data_dir=Path(scratch))
        with LocalCloud(config, services=("oss",)) as cloud:
            credentials = Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)
            with OssClient(cloud.endpoint, config.region, credentials) as oss:
                oss.create_bucket(BUCKET)
                for warm in range(50):
                    oss.put_object(BUCKET, f"warm/{warm}", BODY)
                user_before, sys_before = cpu()
                started = time.perf_counter()
                for index in range(pairs):
                    oss.put_object(BUCKET, f"k/{index}", BODY)
                    oss.get_object_bytes(BUCKET, f"k/{index}")
                wall = time.perf_counter() - started
                user_after, sys_after = cpu()
    count = 2 * pairs
    figures = {
        "requests": count,
        "user_ms_per_request": round(1000 * (user_after - user_before) / count, 2),
        "sys_ms_per_request": round(1000 * (sys_after - sys_before) / count, 2),
        "cpu_ms_per_request": round(1000 * (user_after + sys_after - user_before - sys_before) / count, 2),
        "wall_ms_per_request": round(1000 * wall / count, 2),
    }
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
