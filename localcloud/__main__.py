"""`python -m localcloud up [--port 9000] [--data .localcloud]`: run every service in the foreground.
`python -m localcloud run [FILE ...]`: the whole chain over some files, start to finish (`make run`;
see localcloud.run).

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
    up.add_argument(
        "--require-resources",
        action="store_true",
        help="do not create the template's bucket, topics and queue: start the functions once they exist, "
        "as in the cloud (create them with `python -m deploy.bootstrap --endpoint <this localcloud>`)",
    )
    up.add_argument(
        "--fc",
        type=int,
        choices=(2, 3),
        default=None,
        help="Function Compute to play: 2 (HTTP functions as WSGI, default) or 3 (FC 3.0's JSON HTTP events)",
    )
    _add_run_parser(sub)
    return parser


def _add_run_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run",
        help="run the whole chain over audio files (or generated samples) and summarise it",
        description="Start localcloud and the template's functions in process, upload the files to the "
        "inbox, follow each job to its transcript, and write a summary (exit 0: every file transcribed).",
    )
    run.add_argument("files", nargs="*", metavar="FILE", help="audio files (default: 3 generated samples)")
    run.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="NAME",
        help="a generated sample to run (repeatable): short-note, podcast-intro, lecture-snippet",
    )
    run.add_argument("--data", default=None, help="state directory, kept (default .localcloud/run)")
    run.add_argument("--out", default=None, help="where transcripts and run-summary.json go (default out)")
    run.add_argument("--port", type=int, default=0, help="port (default 0: any free loopback port)")
    run.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the jobs (default 300)"
    )
    run.add_argument(
        "--tick", type=float, default=2.0, help="seconds between fetch_results timer fires (default 2)"
    )
    run.add_argument("--template", default=None, help="template.yaml (default ./template.yaml)")
    run.add_argument(
        "--language", default=None, help="language of the speech, e.g. en (default: the engine's)"
    )
    run.add_argument(
        "--channels",
        default=None,
        metavar="0,1",
        help="recognise these channels separately, e.g. 0,1 for a call (default: mix to mono)",
    )


def run_command(args: argparse.Namespace) -> int:
    """`python -m localcloud run`: options checked here, the work done by localcloud.run."""
    from localcloud.run import execute, options_from_arguments
    from shared.errors import InvalidRequestError

    try:
        options = options_from_arguments(
            args.files,
            samples=args.sample,
            data=args.data,
            out=args.out,
            port=args.port,
            timeout=args.timeout,
            tick=args.tick,
            template=args.template,
            language=args.language,
            channels=args.channels,
        )
    except InvalidRequestError as exc:
        print(f"localcloud run: {exc}", file=sys.stderr)
        return 2
    return execute(options)


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
    if args.command == "run":
        return run_command(args)
    from shared.logging import configure_logging

    configure_logging()
    from localcloud.server import LocalCloud

    config = LocalCloudConfig.from_environment(
        host=args.host, port=args.port, data_dir=Path(args.data), region=args.region, fc_version=args.fc
    )
    template, parameters = template_arguments(args)
    from shared.errors import ConfigurationError

    try:
        cloud = LocalCloud(
            config,
            template=template,
            parameters=parameters,
            functions_dir=args.functions_dir,
            create_resources=not args.require_resources,
        )
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
        if running.runtime is not None and not running.runtime.started:
            lines.append(
                f"functions from {template}: waiting for their resources; create them with\n"
                f"  python -m deploy.bootstrap --endpoint {running.endpoint}"
            )
        elif running.runtime is not None:
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
