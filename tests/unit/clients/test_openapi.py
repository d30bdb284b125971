"""OpenAPI RPC over ACS3, and the IMM and ICE clients on it: query, headers, answers and errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from shared.auth.credentials import Credentials
from shared.clients.base import RetryPolicy
from shared.clients.errors import MalformedResponseError
from shared.clients.ice import IceClient
from shared.clients.imm import ImmClient
from shared.clients.openapi import OpenApiClient
from shared.errors import InvalidRequestError, ServiceResponseError
from shared.ops.enums import IceJobState, ImmTaskStatus
from shared.ops.ice import SubmitAudioProduceJobRequest
from shared.ops.imm import CreateMediaConvertTaskRequest
from tests.unit.clients.conftest import Recorder, fixed_clock, fixed_nonce

# The canonical query the official ICE SDK signs for the captured request (out_openapi_capture.txt, 2.).
ICE_CAPTURED_QUERY = (
    "Description=tts%20job&EditingConfig=%7B%22voice%22%3A%22zhitian_emo%22%2C%22format%22%3A%22mp3%22%2C"
    "%22volume%22%3A50%2C%22speech_rate%22%3A0%2C%22pitch_rate%22%3A0%7D&InputConfig=Hello%2C%20this%20is%20a"
    "%20test.&OutputConfig=%7B%22bucket%22%3A%22examplebucket%22%2C%22object%22%3A%22tts%2Fout%22%7D"
    "&Overwrite=True&Title=test-tts&UserData=%7B%22id%22%3A%22job-2%22%7D"
)
IMM_CREATED = httpx.Response(
    200,
    json={
        "EventId": "2C2-1I0EG57VR37J4rQ8oKG6C9*****",
        "RequestId": "91AC8C98-0F36-49D2-8290-742E24D*****",
        "TaskId": "MediaConvert-8a6d8f2f-3c12-4a5b-9a3e-0f5a4d1c****",
    },
)
ICE_CREATED = httpx.Response(
    200,
    json={
        "JobId": "****cdb3e74639973036bc84****",
        "MediaId": "****c469e944b5a856828dc2****",
        "RequestId": "627B30EB-1D0A-5C6D-8467-431626E0FA10",
        "State": "Created",
    },
)


def imm(recorder: Recorder, credentials: Credentials, **options: Any) -> ImmClient:
    options.setdefault("retry", RetryPolicy(sleep=lambda seconds: None))
    return ImmClient(
        "https://imm.cn-hangzhou.aliyuncs.com",
        credentials,
        transport=recorder.transport,
        clock=fixed_clock,
        nonce=fixed_nonce,
        **options,
    )


def ice(recorder: Recorder, credentials: Credentials) -> IceClient:
    return IceClient(
        "ice.cn-hangzhou.aliyuncs.com",
        credentials,
        transport=recorder.transport,
        retry=RetryPolicy(sleep=lambda seconds: None),
        clock=fixed_clock,
        nonce=fixed_nonce,
    )


def merge_request() -> CreateMediaConvertTaskRequest:
    return CreateMediaConvertTaskRequest.build(
        ProjectName="test-project",
        AlignmentIndex=1,
        Notification={"MNS": {"TopicName": "test-mns-topic"}},
        Sources=[
            {"URI": "oss://test-bucket/video-demo/head.mp3"},
            {"URI": "oss://test-bucket/video-demo/test.mp3"},
            {"URI": "oss://test-bucket/video-demo/tail.mp3"},
        ],
        Targets=[
            {
                "Audio": {
                    "TranscodeAudio": {"Bitrate": 96000, "Channel": 2, "Codec": "aac", "SampleRate": 44100}
                },
                "Container": "aac",
                "URI": "oss://test-bucket/video-demo/concat.{autoext}",
            }
        ],
    )


def tts_request() -> SubmitAudioProduceJobRequest:
    return SubmitAudioProduceJobRequest.validate_wire(
        {
            "Description": "tts job",
            "EditingConfig": (
                '{"voice":"zhitian_emo","format":"mp3","volume":50,"speech_rate":0,"pitch_rate":0}'
            ),
            "InputConfig": "Hello, this is a test.",
            "OutputConfig": '{"bucket":"examplebucket","object":"tts/out"}',
            "Overwrite": True,
            "Title": "test-tts",
            "UserData": '{"id":"job-2"}',
        }
    )


def test_create_media_convert_task_posts_the_parameters_in_the_query_with_an_empty_body(
    credentials: Credentials,
) -> None:
    recorder = Recorder([IMM_CREATED])
    request = merge_request()
    answer = imm(recorder, credentials).create_media_convert_task(request)
    sent = recorder.last
    assert (sent.method, sent.url.host, sent.url.path) == ("POST", "imm.cn-hangzhou.aliyuncs.com", "/")
    assert dict(parse_qsl(sent.url.query.decode(), keep_blank_values=True)) == request.to_query()
    assert recorder.bodies == [b""]
    assert sent.headers["x-acs-action"] == "CreateMediaConvertTask"
    assert sent.headers["x-acs-version"] == "2020-09-30"
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["x-acs-date"] == "2025-01-15T08:30:45Z"
    assert sent.headers["x-acs-signature-nonce"] == "3f8c2a1e-9b7d-4c6e-8a5f-1d2e3f4a5b6c"
    assert sent.headers["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI5tFixedAccessKeyId,")
    assert answer.task_id == "MediaConvert-8a6d8f2f-3c12-4a5b-9a3e-0f5a4d1c****"


def test_the_query_is_sorted_and_rfc3986_encoded_as_the_sdk_signs_it(credentials: Credentials) -> None:
    recorder = Recorder([ICE_CREATED])
    ice(recorder, credentials).submit_audio_produce_job(tts_request())
    assert recorder.last.url.query.decode() == ICE_CAPTURED_QUERY


def test_submit_audio_produce_job_sends_the_ice_action_and_version(sts_credentials: Credentials) -> None:
    recorder = Recorder([ICE_CREATED])
    answer = ice(recorder, sts_credentials).submit_audio_produce_job(tts_request())
    sent = recorder.last
    assert (sent.headers["x-acs-action"], sent.headers["x-acs-version"]) == (
        "SubmitAudioProduceJob",
        "2020-11-09",
    )
    assert sent.headers["x-acs-security-token"] == "CAISFixedSecurityToken+/=="
    assert (answer.job_id, answer.state) == ("****cdb3e74639973036bc84****", IceJobState.CREATED)


def test_get_task_asks_for_the_media_convert_task_and_reads_its_status(credentials: Credentials) -> None:
    recorder = Recorder(
        [
            httpx.Response(
                200,
                json={
                    "RequestId": "r",
                    "TaskId": "MediaConvert-1",
                    "Status": "Failed",
                    "Code": "InvalidSource",
                    "Message": "bad source",
                },
            )
        ]
    )
    task = imm(recorder, credentials).get_task("test-project", "MediaConvert-1")
    assert recorder.last.headers["x-acs-action"] == "GetTask"
    assert dict(recorder.last.url.params) == {
        "ProjectName": "test-project",
        "TaskId": "MediaConvert-1",
        "TaskType": "MediaConvert",
    }
    assert (task.status, task.code, task.is_final) == (ImmTaskStatus.FAILED, "InvalidSource", True)


def test_get_smart_handle_job_reads_the_result_sentences(credentials: Credentials) -> None:
    job = {
        "RequestId": "r",
        "JobId": "job-1",
        "State": "Finished",
        "JobResult": {"MediaId": "m", "AiResult": '[{"content":"Hello","from":0.0,"to":0.8}]'},
    }
    recorder = Recorder([httpx.Response(200, json=job)])
    answer = ice(recorder, credentials).get_smart_handle_job("job-1")
    assert dict(recorder.last.url.params) == {"JobId": "job-1"}
    assert answer.state == IceJobState.FINISHED


def test_an_openapi_error_is_raised_with_its_code_and_request_id(credentials: Credentials) -> None:
    error = httpx.Response(
        404,
        json={
            "RequestId": "REQ-404",
            "Code": "ResourceNotFound",
            "Message": "project not found",
            "HostId": "imm",
        },
    )
    with pytest.raises(ServiceResponseError) as caught:
        imm(Recorder([error]), credentials).get_task("test-project", "MediaConvert-1")
    assert (caught.value.service, caught.value.code, caught.value.request_id) == (
        "imm",
        "ResourceNotFound",
        "REQ-404",
    )


def test_a_throttled_create_is_retried_but_a_failed_create_is_not(credentials: Credentials) -> None:
    throttled = httpx.Response(
        400, json={"Code": "Throttling.User", "Message": "slow down", "RequestId": "r"}
    )
    recorder = Recorder([throttled, IMM_CREATED])
    imm(recorder, credentials).create_media_convert_task(merge_request())
    assert len(recorder.requests) == 2
    # Throttled requests were refused, so they may go again; a 500 may have created the task.
    failed = httpx.Response(500, json={"Code": "InternalError", "Message": "oops", "RequestId": "r"})
    recorder = Recorder([failed, IMM_CREATED])
    with pytest.raises(ServiceResponseError):
        imm(recorder, credentials).create_media_convert_task(merge_request())
    assert len(recorder.requests) == 1


def test_get_task_is_retried_after_a_server_fault(credentials: Credentials) -> None:
    failed = httpx.Response(503, json={"Code": "ServiceUnavailable", "Message": "busy", "RequestId": "r"})
    ok = httpx.Response(200, json={"RequestId": "r", "TaskId": "t", "Status": "Running"})
    recorder = Recorder([failed, ok])
    assert imm(recorder, credentials).get_task("test-project", "t").status == ImmTaskStatus.RUNNING
    assert len(recorder.requests) == 2


def test_an_answer_missing_required_fields_is_a_malformed_response(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(200, json={"RequestId": "r"}, headers={"x-acs-request-id": "r"})])
    with pytest.raises(MalformedResponseError) as caught:
        imm(recorder, credentials).create_media_convert_task(merge_request())
    assert "TaskId" in str(caught.value)
    assert caught.value.request_id == "r"


def test_an_answer_that_is_not_json_is_a_malformed_response(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(200, content=b"<html>gateway</html>")])
    with pytest.raises(MalformedResponseError):
        imm(recorder, credentials).get_task("test-project", "t")


def test_a_bad_task_id_is_refused_before_sending(credentials: Credentials) -> None:
    recorder = Recorder([IMM_CREATED])
    with pytest.raises(InvalidRequestError) as caught:
        imm(recorder, credentials).get_task("test-project", "")
    assert caught.value.field == "TaskId"
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.call("lowercase", {}, idempotent=True), "action"),
        (lambda c: c.call("GetTask", {"TaskId": 5}, idempotent=True), "TaskId"),
        (lambda c: c.call("GetTask", [("TaskId", "t")], idempotent=True), "parameters"),
    ],
)
def test_generic_calls_refuse_parameters_not_in_wire_form(
    credentials: Credentials, call: Any, field: str
) -> None:
    recorder = Recorder([IMM_CREATED])
    client = OpenApiClient(
        "imm.cn-hangzhou.aliyuncs.com",
        credentials,
        version="2020-09-30",
        service="imm",
        transport=recorder.transport,
    )
    with pytest.raises(InvalidRequestError) as caught:
        call(client)
    assert caught.value.field == field
    assert recorder.requests == []


def test_an_endpoint_path_prefix_is_kept_in_front_of_the_rpc_root(credentials: Credentials) -> None:
    recorder = Recorder([IMM_CREATED])
    OpenApiClient(
        "http://127.0.0.1:9300/imm",
        credentials,
        version="2020-09-30",
        service="imm",
        transport=recorder.transport,
    ).call("GetTask", {"TaskId": "t"}, idempotent=True)
    assert str(recorder.last.url) == "http://127.0.0.1:9300/imm/?TaskId=t"


def test_an_api_version_must_be_a_date() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        OpenApiClient("imm.cn-hangzhou.aliyuncs.com", Credentials("AK", "SK"), version="v1", service="imm")
    assert caught.value.field == "version"
