"""`python -m deploy.bootstrap`: create what the stack needs and does not own, idempotently.

The functions' template (template.yaml, and s.yaml made from it) names resources it uses but does not
create: the OSS bucket (`BucketName`), the IMM project the bucket is bound to (`ImmProject`; OSS audio
processing runs in it), the MNS topics (`PipelineTopic`, `OutputTopic`), the dead-letter queue
(`DeadLetterQueue`) and the Log Service project and logstore (`LogProject`, `LogStore`). This command reads
their names from the template's parameters (defaults, overridden with `--parameter NAME=VALUE`), looks
each one up and creates it when it is missing, printing one line per resource: `created`, `exists`, or
why it was skipped. Running it again changes nothing.

Credentials come from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET, optionally
ALIBABA_CLOUD_SECURITY_TOKEN). The account id, needed for the MNS endpoint, comes from `--account-id`
or ALIBABA_CLOUD_ACCOUNT_ID. `--endpoint URL` sends every call to localcloud instead (its published keys
are used when the environment has none); localcloud does not emulate Log Service, so that step is skipped
there with a message.

    python -m deploy.bootstrap --region cn-hangzhou --account-id 1234567890123456
    python -m deploy.bootstrap --endpoint http://127.0.0.1:9000        # localcloud
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from deploy.template import load_template, parameters
from shared.auth.credentials import Credentials, CredentialsProvider, EnvironmentCredentialsProvider
from shared.clients.imm import ImmClient
from shared.clients.mns import Created, MnsClient
from shared.clients.oss import OssClient
from shared.clients.sls import SlsClient
from shared.errors import AudiochainError, ConfigurationError

ACCOUNT_ID_VARIABLE = "ALIBABA_CLOUD_ACCOUNT_ID"
# What each resource is called among the template's parameters.
RESOURCE_PARAMETERS = (
    "BucketName",
    "ImmProject",
    "PipelineTopic",
    "OutputTopic",
    "DeadLetterQueue",
    "LogProject",
    "LogStore",
)
# Parked invocations wait for a redrive: keep them as long as MNS allows (7 days).
DEAD_LETTER_RETENTION_SECONDS = 604800


@dataclass(frozen=True)
class Resources:
    """The names bootstrap makes sure of, from the template's parameters."""

    bucket: str
    imm_project: str
    pipeline_topic: str
    output_topic: str
    dead_letter_queue: str
    log_project: str
    log_store: str

    @classmethod
    def from_template(cls, template_path: Path, overrides: Mapping[str, str]) -> Resources:
        declared = parameters(load_template(template_path))
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise ConfigurationError(f"--parameter {', '.join(unknown)}: not a parameter of {template_path}")
        values: dict[str, str] = {}
        for name in RESOURCE_PARAMETERS:
            value = overrides.get(name, declared.get(name, {}).get("Default"))
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"{template_path}: parameter {name} has no value; pass --parameter")
            values[name] = value
        return cls(*(values[name] for name in RESOURCE_PARAMETERS))


@dataclass(frozen=True)
class Outcome:
    """One line of the report: what was looked at and what was done."""

    kind: str
    name: str
    result: str  # created | exists | skipped | exists with other attributes (left as they are)
    detail: str = ""

    def line(self) -> str:
        text = f"{self.kind:<22} {self.name:<32} {self.result}"
        return f"{text}  ({self.detail})" if self.detail else text


@dataclass
class Clients:
    """The service clients bootstrap talks to; `sls` None skips Log Service (localcloud has none)."""

    oss: OssClient
    imm: ImmClient
    mns: MnsClient
    sls: SlsClient | None
    sls_skipped_because: str = ""


def bootstrap(resources: Resources, clients: Clients) -> Iterator[Outcome]:
    """Look up and, where missing, create each resource in dependency order; yield each outcome as done
    (a failure raises after the earlier lines were printed, so the user sees how far it got)."""
    yield _ensure("OSS bucket", resources.bucket, clients.oss.bucket_exists, clients.oss.create_bucket)
    yield _ensure(
        "IMM project",
        resources.imm_project,
        clients.imm.project_exists,
        clients.imm.create_project,
    )
    yield _attach(clients.imm, resources.bucket, resources.imm_project)
    for topic in (resources.pipeline_topic, resources.output_topic):
        yield _created("MNS topic", topic, clients.mns.create_topic(topic))
    queue = resources.dead_letter_queue
    created = clients.mns.create_queue(queue, retention_seconds=DEAD_LETTER_RETENTION_SECONDS)
    yield _created("MNS queue", queue, created, "dead letters, kept 7 days")
    sls = clients.sls
    if sls is None:
        reason = clients.sls_skipped_because
        yield Outcome("Log Service project", resources.log_project, "skipped", reason)
        yield Outcome("Log Service logstore", resources.log_store, "skipped", reason)
        return
    yield _ensure(
        "Log Service project",
        resources.log_project,
        sls.project_exists,
        lambda name: sls.create_project(name, "audiochain function logs"),
    )
    yield _ensure(
        "Log Service logstore",
        resources.log_store,
        lambda name: sls.logstore_exists(resources.log_project, name),
        lambda name: sls.create_logstore(resources.log_project, name),
    )


def _ensure(kind: str, name: str, exists: Callable[[str], bool], create: Callable[[str], None]) -> Outcome:
    if exists(name):
        return Outcome(kind, name, "exists")
    create(name)
    return Outcome(kind, name, "created")


def _attach(imm: ImmClient, bucket: str, project: str) -> Outcome:
    kind, name = "IMM bucket binding", f"{bucket} -> {project}"
    bound_to = imm.bucket_attachment(bucket)
    if bound_to == project:
        return Outcome(kind, name, "exists")
    if bound_to is not None:
        raise ConfigurationError(
            f"the bucket {bucket!r} is attached to the IMM project {bound_to!r}, not {project!r}: pass "
            f"--parameter ImmProject={bound_to} (and deploy with the same value), or detach it first"
        )
    imm.attach_bucket(bucket, project)
    return Outcome(kind, name, "created")


def _created(kind: str, name: str, created: Created, detail: str = "") -> Outcome:
    return Outcome(kind, name, created.value, detail)


# --- the command -----------------------------------------------------------------------------------------


def _credentials(endpoint: str | None) -> CredentialsProvider | Credentials:
    environment = EnvironmentCredentialsProvider()
    if environment.find_credentials() is not None or endpoint is None:
        return environment
    from localcloud.config import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET

    return Credentials(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)


def build_clients(args: argparse.Namespace, stack: ExitStack) -> Clients:
    credentials = _credentials(args.endpoint)
    region = args.region
    if args.endpoint is not None:
        endpoint = args.endpoint
        return Clients(
            oss=stack.enter_context(OssClient(endpoint, region, credentials)),
            imm=stack.enter_context(ImmClient(endpoint, credentials)),
            mns=stack.enter_context(MnsClient(endpoint, credentials)),
            sls=None,
            sls_skipped_because="localcloud does not emulate Log Service; in the cloud this step creates it",
        )
    account_id = args.account_id or os.environ.get(ACCOUNT_ID_VARIABLE, "").strip()
    if not account_id:
        raise ConfigurationError(
            f"the MNS endpoint needs your account id: pass --account-id or set {ACCOUNT_ID_VARIABLE} "
            "(the console shows it under the account's profile)"
        )
    return Clients(
        oss=stack.enter_context(OssClient(f"https://oss-{region}.aliyuncs.com", region, credentials)),
        imm=stack.enter_context(ImmClient(f"https://imm.{region}.aliyuncs.com", credentials)),
        mns=stack.enter_context(MnsClient(f"https://{account_id}.mns.{region}.aliyuncs.com", credentials)),
        sls=stack.enter_context(SlsClient(f"https://{region}.log.aliyuncs.com", credentials)),
    )


def _overrides(items: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"--parameter expects NAME=VALUE, got {item!r}")
        overrides[name.strip()] = value
    return overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy.bootstrap", description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=Path("template.yaml"), type=Path)
    parser.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="a parameter (repeatable)"
    )
    parser.add_argument("--region", default=os.environ.get("ALIBABA_CLOUD_REGION_ID") or "cn-hangzhou")
    parser.add_argument("--account-id", default=None, help=f"for the MNS endpoint (or {ACCOUNT_ID_VARIABLE})")
    parser.add_argument("--endpoint", default=None, help="send every call here: localcloud's URL")
    parser.add_argument("--json", action="store_true", help="print the outcomes as one JSON document")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    outcomes: list[Outcome] = []
    try:
        resources = Resources.from_template(args.template, _overrides(args.parameter))
        with ExitStack() as stack:
            clients = build_clients(args, stack)
            for outcome in bootstrap(resources, clients):
                outcomes.append(outcome)
                if not args.json:
                    print(outcome.line(), flush=True)
    except AudiochainError as error:
        print(f"deploy.bootstrap: {error}", file=sys.stderr)
        if args.json:
            print(json.dumps([asdict(outcome) for outcome in outcomes], indent=2))
        return 1
    if args.json:
        print(json.dumps([asdict(outcome) for outcome in outcomes], indent=2))
    return 0


if __name__ == "__main__":
    # The report goes to stdout; each service call's log line only at AUDIOCHAIN_LOG_LEVEL=INFO, on stderr.
    from shared.logging import configure_logging

    configure_logging(level=os.environ.get("AUDIOCHAIN_LOG_LEVEL") or "WARNING", stream=sys.stderr)
    sys.exit(main())
