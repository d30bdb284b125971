"""localcloud settings: one frozen object, built once from arguments and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
DEFAULT_DATA_DIR = ".localcloud"
DEFAULT_REGION = "cn-hangzhou"
DEFAULT_ACCOUNT_ID = "1234567890123456"
DEFAULT_ACCESS_KEY_ID = "localcloud"
DEFAULT_ACCESS_KEY_SECRET = "localcloud-secret"
DEFAULT_DASHSCOPE_API_KEY = "sk-localcloud"

# Environment variables localcloud itself reads (the audiochain ones live in shared/env.py).
ENV_CREDENTIALS = "LOCALCLOUD_CREDENTIALS"  # "ak1:secret1,ak2:secret2" — added to the default pair
ENV_API_KEYS = "LOCALCLOUD_DASHSCOPE_API_KEYS"  # "sk-a,sk-b" — added to the default key
ENV_ASR_ENGINE = "LOCALCLOUD_ASR_ENGINE"  # "auto", "whisper[:dir]", "pocketsphinx", "package.module:factory"
ENV_ASR_WORKERS = "LOCALCLOUD_ASR_WORKERS"  # recognition worker processes (default: the cores, at least 2)
ENV_WORKERS = "LOCALCLOUD_WORKERS"
ENV_FC_VERSION = "LOCALCLOUD_FC_VERSION"  # 2 (WSGI HTTP functions, the default) or 3 (FC 3.0 JSON events)
# Where the multilingual Whisper model is assembled (default: $XDG_CACHE_HOME or ~/.cache, audiochain/models);
# read by localcloud.engines.whisper_models when a recognition worker first needs the model.
ENV_MODEL_CACHE = "LOCALCLOUD_MODEL_CACHE"


@dataclass(frozen=True)
class LocalCloudConfig:
    """Everything localcloud needs to know. Explicit arguments beat the environment."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    credentials: Mapping[str, str] = field(
        default_factory=lambda: {DEFAULT_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_SECRET}
    )
    api_keys: frozenset[str] = frozenset({DEFAULT_DASHSCOPE_API_KEY})
    asr_engine: str = "auto"
    asr_workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 1))
    workers: int = 2
    # Which Function Compute the local runtime plays: 2 or 3 (they differ in how HTTP functions are called).
    fc_version: int = 2
    # How long a simulated asynchronous task waits in PENDING before it runs (seconds). Real services take a
    # moment too; a non-zero value lets clients observe PENDING → RUNNING → SUCCEEDED.
    task_start_delay: float = 0.0
    # Multiplies every MNS push-retry interval; tests shrink it so retry strategies run in milliseconds.
    retry_scale: float = 1.0

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def secret_for(self, access_key_id: str) -> str | None:
        return self.credentials.get(access_key_id)

    def with_overrides(self, **changes: object) -> LocalCloudConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, **explicit: object
    ) -> LocalCloudConfig:
        """Defaults, then the environment, then explicit arguments (which win)."""
        env = os.environ if environ is None else environ
        credentials = {DEFAULT_ACCESS_KEY_ID: DEFAULT_ACCESS_KEY_SECRET}
        credentials.update(_parse_pairs(env.get(ENV_CREDENTIALS, ""), ENV_CREDENTIALS))
        api_keys = {DEFAULT_DASHSCOPE_API_KEY}
        api_keys.update(k.strip() for k in env.get(ENV_API_KEYS, "").split(",") if k.strip())
        values: dict[str, object] = {
            "credentials": credentials,
            "api_keys": frozenset(api_keys),
            "asr_engine": env.get(ENV_ASR_ENGINE, "auto"),
        }
        if env.get(ENV_ASR_WORKERS):
            values["asr_workers"] = _positive(env[ENV_ASR_WORKERS], ENV_ASR_WORKERS)
        if env.get(ENV_FC_VERSION):
            values["fc_version"] = env[ENV_FC_VERSION].strip()
        if env.get(ENV_WORKERS):
            values["workers"] = int(env[ENV_WORKERS])
        values.update({k: v for k, v in explicit.items() if v is not None})
        if str(values.get("fc_version", 2)) not in ("2", "3"):
            raise ValueError(f"{ENV_FC_VERSION} / --fc: expected 2 or 3, got {values['fc_version']!r}")
        values["fc_version"] = int(str(values.get("fc_version", 2)))
        if "data_dir" in values:
            values["data_dir"] = Path(str(values["data_dir"]))
        return cls(**values)  # type: ignore[arg-type]


def _positive(text: str, variable: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{variable}: expected a whole number of at least 1, got {text!r}")
    return value


def _parse_pairs(text: str, variable: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, sep, secret = item.partition(":")
        if not sep or not key_id or not secret:
            raise ValueError(f"{variable}: expected 'AccessKeyId:AccessKeySecret[,...]', got {item!r}")
        pairs[key_id] = secret
    return pairs
