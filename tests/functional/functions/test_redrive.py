"""`python -m deploy.redrive` against localcloud: a dead-lettered upload event is replayed once through the
pipeline's own code (its job starts), its message is deleted, and a second run finds nothing to do."""

from __future__ import annotations

import json

import pytest

from deploy.redrive import main as redrive_main
from shared.auth import Credentials
from shared.clients.mns import MnsClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.functions.conftest import REGION, Chain, spoken_wav
from tests.unit.functions.helpers import oss_event


def test_a_dead_lettered_upload_is_replayed_once(
    chain: Chain, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
    queue = f"{chain.bucket}-dead-letter"
    chain.cloud.mns().ensure_queue(queue)
    key = "inbox/parked.wav"
    data = spoken_wav("He drove his car to the city yesterday.")
    etag = chain.oss.put_object(chain.bucket, key, data).etag
    event = oss_event((key, etag, len(data)), bucket=chain.bucket).decode()
    record = {
        "timestamp": "2025-01-15T08:30:45.000Z",
        "requestContext": {
            "requestId": "parked-1",
            "functionArn": f"acs:fc:{REGION}:1:services/audiochain.LATEST/functions/on_upload",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 4,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "functionError": "UnhandledInvocationError"},
        "responsePayload": "{}",
    }
    with MnsClient(chain.cloud.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)) as mns:
        mns.send(queue, json.dumps(record))
        assert redrive_main(["--queue", queue]) == 0
        report = json.loads(capsys.readouterr().out)
        ((replayed,),) = [report["replayed"]]
        assert replayed["function"] == "on_upload" and replayed["request_id"] == "parked-1"
        (accepted,) = replayed["result"]["accepted"]
        assert accepted["key"] == key
        assert mns.receive(queue, wait_seconds=0) is None  # deleted once replayed
    assert redrive_main(["--queue", queue]) == 0
    assert json.loads(capsys.readouterr().out)["replayed"] == []
