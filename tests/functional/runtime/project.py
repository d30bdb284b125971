"""A small fixture project for the local FC runtime: a template exercising every trigger type and
AsyncConfiguration, and handlers that record what they receive.

Every handler appends one JSON line per invocation to `<RECORD_DIR>/<FC_FUNCTION_NAME>.jsonl` with the
event (as text), the context's attributes read the way FC's object offers them, and the environment
variables the runtime is responsible for. Counters (`<name>.count`) let handlers fail a set number of
times before succeeding.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BUCKET = "fixture-media"
DEAD_LETTER_QUEUE = "fixture-dead"
SUCCESS_QUEUE = "fixture-done"
JSON_TOPIC = "fixture-jobs-json"
STREAM_TOPIC = "fixture-jobs-stream"
FLAKY_TOPIC = "fixture-jobs-flaky"

COMMON = '''
import json
import os
from pathlib import Path

from shared.runtime.context import FcContext as SharedContext

WATCHED = [
    "FC_FUNCTION_NAME", "FC_SERVICE_NAME", "FC_REGION", "FC_ACCOUNT_ID", "FC_FUNCTION_MEMORY_SIZE",
    "FC_QUALIFIER", "FC_INSTANCE_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN", "AUDIOCHAIN_OSS_ENDPOINT", "AUDIOCHAIN_MNS_ENDPOINT",
    "AUDIOCHAIN_IMM_ENDPOINT", "AUDIOCHAIN_ICE_ENDPOINT", "AUDIOCHAIN_DASHSCOPE_ENDPOINT",
    "AUDIOCHAIN_API_TOKEN", "DASHSCOPE_API_KEY", "GREETING", "WEB_ONLY", "AUDIOCHAIN_BUCKET",
]


def describe(context):
    return {
        "request_id": context.request_id,
        "retry_count": context.retry_count,
        "region": context.region,
        "account_id": context.account_id,
        "credentials": {
            "access_key_id": context.credentials.access_key_id,
            "access_key_secret": context.credentials.access_key_secret,
            "security_token": context.credentials.security_token,
        },
        "function": {
            "name": context.function.name,
            "handler": context.function.handler,
            "memory": context.function.memory,
            "timeout": context.function.timeout,
        },
        "service": {
            "name": context.service.name,
            "log_project": context.service.log_project,
            "log_store": context.service.log_store,
            "qualifier": context.service.qualifier,
            "version_id": context.service.version_id,
        },
        "shared_context_request_id": SharedContext.from_fc(context).request_id,
    }


def record(event, context, **extra):
    entry = {
        "event": event.decode("utf-8") if isinstance(event, bytes) else event,
        "event_type": type(event).__name__,
        "context": describe(context) if context is not None else None,
        "env": {name: os.environ.get(name) for name in WATCHED},
        **extra,
    }
    path = Path(os.environ["RECORD_DIR"]) / (os.environ["FC_FUNCTION_NAME"] + ".jsonl")
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\\n")


def bump(name):
    """Count calls in a file; returns this call's number (1-based)."""
    path = Path(os.environ["RECORD_DIR"]) / (name + ".count")
    count = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(count))
    return count
'''

HANDLERS = {
    "echo": """
def handler(event, context):
    record(event, context)
    return {"ok": True, "bytes": len(event)}
""",
    "flaky": """
def handler(event, context):
    record(event, context)
    if bump("flaky") <= int(os.environ["FAIL_TIMES"]):
        raise RuntimeError("flaky failure on purpose")
    return "succeeded at last"
""",
    "doomed": """
def handler(event, context):
    record(event, context)
    raise ValueError("doomed to fail")
""",
    "sink": """
def handler(event, context):
    record(event, context)
""",
    "mns_flaky": """
def handler(event, context):
    record(event, context)
    if bump("mns_flaky") <= 2:
        raise RuntimeError("mns flaky failure on purpose")
    return "ok"
""",
    "slow": """
import time

def handler(event, context):
    time.sleep(float(event or b"1.5"))
    return "too late"
""",
    "initialised": """
STATE = {"initialised": 0}

def initialize(context):
    STATE["initialised"] += 1

def handler(event, context):
    record(event, context, initialised=STATE["initialised"])
    return str(STATE["initialised"])
""",
    "web": """
import json

def handler(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    context = environ["fc.context"]
    document = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"].encode("latin-1").decode("utf-8"),
        "query": environ["QUERY_STRING"],
        "content_type": environ.get("CONTENT_TYPE"),
        "content_length": environ.get("CONTENT_LENGTH"),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "custom_header": environ.get("HTTP_X_CUSTOM"),
        "request_uri": environ.get("fc.request_uri"),
        "body": body.decode("utf-8"),
        "context": describe(context),
        "web_only": os.environ.get("WEB_ONLY"),
        "greeting": os.environ.get("GREETING"),
    }
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("boom on purpose")
    status = "201 Created" if environ["REQUEST_METHOD"] == "POST" else "200 OK"
    start_response(status, [("Content-Type", "application/json"), ("X-Echo", "yes")])
    return [json.dumps(document).encode("utf-8")]
""",
}

_PREFIX = "${ALIYUN::Region}:${ALIYUN::AccountId}"
_DEAD_LETTER_ARN = f"acs:mns:{_PREFIX}:/queues/${{DeadLetterQueue}}/messages"
_SUCCESS_ARN = f"acs:mns:{_PREFIX}:/queues/${{SuccessQueue}}/messages"
_SINK_ARN = f"acs:fc:{_PREFIX}:services/fixture.LATEST/functions/sink"

TEMPLATE = f"""
ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Parameters:
  BucketName:
    Type: String
    Default: {BUCKET}
  RecordDir:
    Type: String
  DeadLetterQueue:
    Type: String
    Default: {DEAD_LETTER_QUEUE}
  SuccessQueue:
    Type: String
    Default: {SUCCESS_QUEUE}
  ApiToken:
    Type: String
    NoEcho: true
    MinLength: 32
  DashScopeApiKey:
    Type: String
    NoEcho: true
Resources:
  fixture:
    Type: 'Aliyun::Serverless::Service'
    Properties:
      LogConfig:
        Project: fixture-logs
        Logstore: functions
    echo:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/echo.zip
        MemorySize: 256
        Timeout: 10
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
          GREETING: hello
          AUDIOCHAIN_BUCKET:
            Ref: BucketName
          AUDIOCHAIN_API_TOKEN:
            Ref: ApiToken
          DASHSCOPE_API_KEY:
            Ref: DashScopeApiKey
      Events:
        inbox:
          Type: OSS
          Properties:
            BucketName:
              Ref: BucketName
            Events: ['oss:ObjectCreated:*']
            Filter:
              Key:
                Prefix: inbox/
                Suffix: ''
        wav-anywhere:
          Type: OSS
          Properties:
            BucketName:
              Ref: BucketName
            Events: ['oss:ObjectCreated:PutObject']
            Filter:
              Key:
                Prefix: ''
                Suffix: .wav
        stream:
          Type: MNSTopic
          Properties:
            TopicName: {STREAM_TOPIC}
        json:
          Type: MNSTopic
          Properties:
            TopicName: {JSON_TOPIC}
            NotifyContentFormat: JSON
            NotifyStrategy: EXPONENTIAL_DECAY_RETRY
        tick:
          Type: Timer
          Properties:
            CronExpression: '0 0 0 1 1 *'
            Enable: true
            Payload: '{{"sweep": true}}'
    flaky:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/flaky.zip
        Timeout: 10
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
          FAIL_TIMES: '2'
        AsyncConfiguration:
          MaxAsyncRetryAttempts: 3
          Destination:
            OnSuccess:
              Fn::Sub: '{_SUCCESS_ARN}'
    doomed:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/doomed.zip
        Timeout: 10
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
        AsyncConfiguration:
          MaxAsyncRetryAttempts: 2
          Destination:
            OnFailure:
              Fn::Sub: '{_DEAD_LETTER_ARN}'
    sink:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/sink.zip
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
    mns_flaky:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/mns_flaky.zip
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
      Events:
        flaky:
          Type: MNSTopic
          Properties:
            TopicName: {FLAKY_TOPIC}
            NotifyContentFormat: JSON
    slow:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/slow.zip
        Timeout: 1
    initialised:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Initializer: index.initialize
        Runtime: python3.10
        CodeUri: build/initialised.zip
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
        AsyncConfiguration:
          Destination:
            OnSuccess:
              Fn::Sub: '{_SINK_ARN}'
    web:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/web.zip
        Timeout: 10
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
          WEB_ONLY: only-here
      Events:
        http:
          Type: HTTP
          Properties:
            AuthType: ANONYMOUS
            Methods: [GET, POST]
    signed_web:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/web.zip
        Timeout: 10
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
      Events:
        http:
          Type: HTTP
          Properties:
            AuthType: FUNCTION
            Methods: [GET]
"""


def write_project(root: Path, *, template: str = TEMPLATE, handlers: dict[str, str] | None = None) -> Path:
    """Write template.yaml and functions/<name>/index.py under `root`; returns the template path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "records").mkdir(exist_ok=True)
    chosen = dict(HANDLERS, signed_web=HANDLERS["web"]) if handlers is None else handlers
    for name, body in chosen.items():
        directory = root / "functions" / name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "index.py").write_text(COMMON + body, encoding="utf-8")
    path = root / "template.yaml"
    path.write_text(template, encoding="utf-8")
    return path


def records(root: Path, function: str) -> list[dict[str, Any]]:
    path = root / "records" / f"{function}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll `condition` until it returns something truthy; that value, or AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)
