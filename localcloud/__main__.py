"""`python -m localcloud up [--port 9000] [--data .localcloud]`: run every service in the foreground.

Ctrl-C stops it cleanly; state under the data directory survives restarts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from localcloud.config import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    DEFAULT_DASHSCOPE_API_KEY,
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    LocalCloudConfig,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start OSS, MNS, IMM, ICE and DashScope on one port")
    up.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    up.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    up.add_argument("--data", default=DEFAULT_DATA_DIR, help=f"state directory (default {DEFAULT_DATA_DIR})")
    up.add_argument("--region", default=None, help="region the services claim to be in (default cn-hangzhou)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from shared.logging import configure_logging

    configure_logging()
    from localcloud.server import LocalCloud

    config = LocalCloudConfig.from_environment(
        host=args.host, port=args.port, data_dir=Path(args.data), region=args.region
    )
    cloud = LocalCloud(config)
    print(
        f"localcloud on http://{config.host}:{config.port}  (data: {config.data_dir})\n"
        f"  AccessKeyId      {DEFAULT_ACCESS_KEY_ID}\n"
        f"  AccessKeySecret  {DEFAULT_ACCESS_KEY_SECRET}\n"
        f"  DashScope key    {DEFAULT_DASHSCOPE_API_KEY}\n"
        "Ctrl-C to stop.",
        flush=True,
    )
    cloud.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
