"""`s.yaml` for Serverless Devs' `fc3` component (Function Compute 3.0), generated from template.yaml.

template.yaml stays the one source of truth for the functions, their triggers, environment, async settings
and log configuration; `make s-yaml` (`python -m deploy.fc3`) writes s.yaml from it, and `make test` fails
when the checked-in file differs from what the template gives (`--check`), so the two cannot drift. The
result is validated offline against the component's properties (deploy/fc3_schema.py).

What changes on the way, and why (FC 3.0 and the fc3 component, devsapp/fc3 src/schema.json and
__tests__/e2e/trigger/other/s.yaml):
- FC 3.0 has no services: each function is named `<service>-<function>` and carries the service's role,
  log configuration and internet access itself.
- The role is not created by s deploy: `role` names an existing RAM role (`${env('AUDIOCHAIN_ROLE_ARN')}`),
  which must carry the statements of template.yaml's `Policies` (README, Deploying).
- Template parameters become `vars` with their defaults (`${vars.Name}`); NoEcho parameters (the API token,
  the DashScope key) come from the deployer's environment under the name the function reads them by.
- `ALIYUN::Region` is `${vars.region}` and `ALIYUN::AccountId` is `${config('AccountID')}`.
- OSS and MNS triggers name their source (`sourceArn`) and the service roles that invoke the function.
- `instanceConcurrency` is left out: the component applies it to custom runtimes only.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from deploy.fc3_schema import validate_s_yaml
from deploy.template import FunctionSpec, iter_functions, iter_services, load_template, parameters
from shared.errors import ConfigurationError

__all__ = ["HEADER", "render_s_yaml", "s_yaml_document"]

HEADER = (
    "# Serverless Devs (fc3) deployment of audiochain. GENERATED from template.yaml by `make s-yaml`;\n"
    "# do not edit: change template.yaml and regenerate (make test fails when this file is stale).\n"
    "# Deploy: make build, then `s deploy` with AUDIOCHAIN_ROLE_ARN, AUDIOCHAIN_API_TOKEN and\n"
    "# DASHSCOPE_API_KEY in the environment (README, Deploying).\n"
)
_PSEUDO = {"ALIYUN::Region": "${vars.region}", "ALIYUN::AccountId": "${config('AccountID')}"}
_SUB = re.compile(r"\$\{([^}]+)\}")
_OSS_ROLE = "acs:ram::${config('AccountID')}:role/aliyunosseventnotificationrole"
_MNS_ROLE = "acs:ram::${config('AccountID')}:role/aliyunmnsnotificationrole"


def s_yaml_document(template: Mapping[str, Any]) -> dict[str, Any]:
    """The s.yaml document for a template (plain data, validated)."""
    params = parameters(template)
    secrets = _secret_variables(template, params)
    variables: dict[str, Any] = {"region": "cn-hangzhou"}
    for name, spec in params.items():
        if name not in secrets:
            variables[name] = str(spec.get("Default", ""))

    def value(node: object) -> str:
        return _value(node, secrets)

    resources: dict[str, Any] = {}
    services = dict(iter_services(template))
    for function in iter_functions(template):
        service = services[function.service].get("Properties") or {}
        resources[function.name] = {"component": "fc3", "props": _props(function, service, value)}
    document = {
        "edition": "3.0.0",
        "name": _project_name(services),
        "vars": variables,
        "resources": resources,
    }
    validate_s_yaml(document)
    return document


def render_s_yaml(template: Mapping[str, Any]) -> str:
    """s.yaml's text: the header, then the document in a stable order."""
    document = s_yaml_document(template)
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    return HEADER + body


def _project_name(services: Mapping[str, Any]) -> str:
    names = list(services)
    if len(names) != 1:
        raise ConfigurationError(f"template.yaml: expected one service, found {len(names)}")
    return names[0]


def _secret_variables(template: Mapping[str, Any], params: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """NoEcho parameter -> the environment variable a function reads it by (the deployer exports that)."""
    secrets: dict[str, str] = {}
    for function in iter_functions(template):
        for variable, node in (function.properties.get("EnvironmentVariables") or {}).items():
            if isinstance(node, Mapping) and node.get("Ref") in params:
                name = str(node["Ref"])
                if params[name].get("NoEcho"):
                    secrets.setdefault(name, str(variable))
    return secrets


def _value(node: object, secrets: Mapping[str, str]) -> str:
    """A template value (text, `Ref`, `Fn::Sub`) as s.yaml text with Serverless Devs variables."""

    def ref(name: str) -> str:
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name in secrets:
            return "${env('" + secrets[name] + "')}"
        return "${vars." + name + "}"

    if isinstance(node, (str, int, float, bool)) and not isinstance(node, bool):
        return str(node)
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, Mapping) and isinstance(node.get("Ref"), str):
        return ref(node["Ref"])
    if isinstance(node, Mapping) and isinstance(node.get("Fn::Sub"), str):
        return _SUB.sub(lambda match: ref(match.group(1)), node["Fn::Sub"])
    raise ConfigurationError(f"template.yaml: cannot express {node!r} in s.yaml")


def _props(function: FunctionSpec, service: Mapping[str, Any], value: Any) -> dict[str, Any]:
    properties = function.properties
    props: dict[str, Any] = {
        "region": "${vars.region}",
        "functionName": f"{function.service}-{function.name}".replace("_", "-"),
        "description": str(properties.get("Description", "")),
        "runtime": str(properties["Runtime"]),
        "handler": str(properties["Handler"]),
        "code": str(properties["CodeUri"]),
        "memorySize": int(properties["MemorySize"]),
        "timeout": int(properties["Timeout"]),
        "internetAccess": bool(service.get("InternetAccess", False)),
        "role": "${env('AUDIOCHAIN_ROLE_ARN')}",
    }
    log = service.get("LogConfig")
    if isinstance(log, Mapping):
        props["logConfig"] = {
            "project": value(log["Project"]),
            "logstore": value(log["Logstore"]),
            "enableRequestMetrics": bool(log.get("EnableRequestMetrics", False)),
            "enableInstanceMetrics": bool(log.get("EnableInstanceMetrics", False)),
        }
    environment = properties.get("EnvironmentVariables") or {}
    props["environmentVariables"] = {str(name): value(node) for name, node in environment.items()}
    if properties.get("Initializer"):
        timeout = int(properties.get("InitializationTimeout", 3))
        props["instanceLifecycleConfig"] = {
            "initializer": {"handler": str(properties["Initializer"]), "timeout": timeout}
        }
    async_config = properties.get("AsyncConfiguration")
    if isinstance(async_config, Mapping):
        invoke: dict[str, Any] = {
            "maxAsyncRetryAttempts": int(async_config["MaxAsyncRetryAttempts"]),
            "maxAsyncEventAgeInSeconds": int(async_config["MaxAsyncEventAgeInSeconds"]),
        }
        failure = (async_config.get("Destination") or {}).get("OnFailure")
        if failure is not None:
            invoke["destinationConfig"] = {"onFailure": {"destination": value(failure)}}
        props["asyncInvokeConfig"] = invoke
    props["triggers"] = [_trigger(name, event, value) for name, event in function.events.items()]
    return props


def _trigger(name: str, event: Mapping[str, Any], value: Any) -> dict[str, Any]:
    kind, properties = event.get("Type"), event.get("Properties") or {}
    if kind == "OSS":
        key = (properties.get("Filter") or {}).get("Key") or {}
        return {
            "triggerName": name,
            "triggerType": "oss",
            "sourceArn": "acs:oss:${vars.region}:${config('AccountID')}:" + value(properties["BucketName"]),
            "invocationRole": _OSS_ROLE,
            "triggerConfig": {
                "events": [str(item) for item in properties["Events"]],
                "filter": {
                    "key": {"prefix": value(key.get("Prefix", "")), "suffix": value(key.get("Suffix", ""))}
                },
            },
        }
    if kind == "MNSTopic":
        topic = value(properties["TopicName"])
        return {
            "triggerName": name,
            "triggerType": "mns_topic",
            "sourceArn": "acs:mns:${vars.region}:${config('AccountID')}:/topics/" + topic,
            "invocationRole": _MNS_ROLE,
            "triggerConfig": {
                "notifyContentFormat": str(properties["NotifyContentFormat"]),
                "notifyStrategy": str(properties["NotifyStrategy"]),
            },
        }
    if kind == "Timer":
        config: dict[str, Any] = {
            "cronExpression": str(properties["CronExpression"]),
            "enable": bool(properties.get("Enable", True)),
        }
        if "Payload" in properties:
            config["payload"] = str(properties["Payload"])
        return {"triggerName": name, "triggerType": "timer", "triggerConfig": config}
    if kind == "HTTP":
        return {
            "triggerName": name,
            "triggerType": "http",
            "triggerConfig": {
                "authType": str(properties.get("AuthType", "function")).lower(),
                "methods": [str(method) for method in properties["Methods"]],
            },
        }
    raise ConfigurationError(f"template.yaml: trigger {name!r} of type {kind!r} has no fc3 form here")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.fc3", description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="template.yaml", type=Path)
    parser.add_argument("--out", default="s.yaml", type=Path)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if --out differs from what the template gives"
    )
    args = parser.parse_args(argv)
    try:
        text = render_s_yaml(load_template(args.template))
    except ConfigurationError as exc:
        print(f"deploy.fc3: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(
                f"{args.out} is stale: run `make s-yaml` (it is generated from {args.template})",
                file=sys.stderr,
            )
            return 1
        print(f"{args.out}: matches {args.template}; fc3 properties valid")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} from {args.template}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
