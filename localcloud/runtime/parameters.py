"""Local values for template parameters that have no Default (the deploy-time secrets).

A deployment passes `ApiToken` and `DashScopeApiKey` at deploy time; a local run should not make the
developer invent them. For every parameter with no `Default` that the caller did not give:

- a parameter whose name mentions DashScope and a key gets localcloud's DashScope API key
  (`sk-localcloud` unless configured otherwise), which localcloud's DashScope accepts;
- any other `NoEcho` parameter (a token, a password) gets a random URL-safe token long enough for its
  `MinLength`, generated once and kept in `<data dir>/runtime/parameters.json`, so a restart keeps the
  same token (and clients configured with it keep working);
- anything else is left missing, and template resolution names it.

Values given explicitly (`--parameter Name=Value`) always win and are never written to the file.

    >>> declared = {"Token": {"NoEcho": True, "MinLength": 32}}
    >>> values, generated = local_parameter_values(declared, {}, None, "sk")
    >>> len(values["Token"]) >= 32, list(generated)
    (True, ['Token'])
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localcloud.runtime.intrinsics import TemplateError
from shared.logging import get_logger

log = get_logger("localcloud.runtime")

STORE_NAME = "parameters.json"


def local_parameter_values(
    declared: Mapping[str, Mapping[str, Any]],
    given: Mapping[str, str],
    state_dir: Path | None,
    dashscope_api_key: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """(values to resolve the template with, the subset generated or defaulted here for printing)."""
    stored = _read_store(state_dir)
    values = dict(given)
    supplied: dict[str, str] = {}
    for name, spec in declared.items():
        if name in given or "Default" in spec:
            continue
        if _is_dashscope_key(name):
            supplied[name] = dashscope_api_key
        elif spec.get("NoEcho"):
            previous = stored.get(name)
            supplied[name] = previous if previous is not None and _fits(previous, spec) else _token(spec)
    values.update(supplied)
    generated = {name: value for name, value in supplied.items() if not _is_dashscope_key(name)}
    if generated and generated != {k: stored.get(k) for k in generated}:
        _write_store(state_dir, {**stored, **generated})
    return values, supplied


def _is_dashscope_key(name: str) -> bool:
    lowered = name.lower()
    return "dashscope" in lowered and "key" in lowered


def _token(spec: Mapping[str, Any]) -> str:
    wanted = max(int(spec.get("MinLength", 0) or 0), 32)
    token = "lc-" + secrets.token_urlsafe(wanted)
    maximum = spec.get("MaxLength")
    if maximum is not None and len(token) > int(maximum):
        token = token[: int(maximum)]
    return token


def _fits(value: str, spec: Mapping[str, Any]) -> bool:
    if not value:
        return False
    if len(value) < int(spec.get("MinLength", 0) or 0):
        return False
    return spec.get("MaxLength") is None or len(value) <= int(spec["MaxLength"])


def _read_store(state_dir: Path | None) -> dict[str, str]:
    if state_dir is None:
        return {}
    path = state_dir / STORE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise TemplateError(str(path), f"cannot read the generated parameter values ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise TemplateError(str(path), "must be a JSON object of parameter names to text values")
    return {str(k): v for k, v in data.items()}


def _write_store(state_dir: Path | None, values: Mapping[str, str]) -> None:
    if state_dir is None:
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / STORE_NAME
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(dict(values), indent=2, sort_keys=True), encoding="utf-8")
    temporary.chmod(0o600)  # the file holds secrets, however local
    temporary.replace(path)
    log.info("runtime.parameters.generated_stored", path=str(path), names=sorted(values))
