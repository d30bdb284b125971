"""`python -m localcloud up [--port 9000] [--data .localcloud]`: run every service in the foreground.

With a template (`--template template.yaml`, used by default when ./template.yaml exists; `--no-functions`
skips it) the template's functions run too, on localcloud's local FC runtime; `--parameter Name=Value`
(repeatable) sets a template parameter. Ctrl-C stops it cleanly; state under the data directory survives
restarts.
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
    up.add_argument(
        "--template", default=None, help="template.yaml whose functions to run (default ./template.yaml)"
    )
    up.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter value (repeatable)",
    )
    up.add_argument("--functions-dir", default="functions", help="function code, relative to the template")
    up.add_argument("--no-functions", action="store_true", help="run the services only, no functions")
    return parser


def template_arguments(args: argparse.Namespace) -> tuple[Path | None, dict[str, str]]:
    """The template to run (None: none) and the parameters given; SystemExit with a message when wrong."""
    parameters: dict[str, str] = {}
    for item in args.parameter:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"--parameter expects NAME=VALUE, got {item!r}")
        parameters[name.strip()] = value
    if args.no_functions:
        if args.template or parameters:
            raise SystemExit("--no-functions cannot be combined with --template or --parameter")
        return None, {}
    if args.template is not None:
        template = Path(args.template)
        if not template.is_file():
            raise SystemExit(f"--template {template}: no such file")
        return template, parameters
    default = Path("template.yaml")
    if default.is_file():
        return default, parameters
    if parameters:
        raise SystemExit("--parameter needs a template: pass --template")
    return None, {}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from shared.logging import configure_logging

    configure_logging()
    from localcloud.server import LocalCloud

    config = LocalCloudConfig.from_environment(
        host=args.host, port=args.port, data_dir=Path(args.data), region=args.region
    )
    template, parameters = template_arguments(args)
    from shared.errors import ConfigurationError

    try:
        cloud = LocalCloud(config, template=template, parameters=parameters, functions_dir=args.functions_dir)
    except ConfigurationError as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 2

    def banner(running: LocalCloud) -> None:
        lines = [
            f"localcloud on {running.endpoint}  (data: {config.data_dir})",
            f"  AccessKeyId      {DEFAULT_ACCESS_KEY_ID}",
            f"  AccessKeySecret  {DEFAULT_ACCESS_KEY_SECRET}",
            f"  DashScope key    {DEFAULT_DASHSCOPE_API_KEY}",
        ]
        if running.runtime is not None:
            lines.append(f"functions from {template}:")
            lines.extend(f"  {line}" for line in running.runtime.describe())
        lines.append("Ctrl-C to stop.")
        print("\n".join(lines), flush=True)

    try:
        cloud.serve_forever(on_started=banner)
    except ConfigurationError as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
