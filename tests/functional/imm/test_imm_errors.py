"""IMM refuses what it should, with IMM's codes and OpenAPI error documents naming the field and the rule."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmSdkClient
from alibabacloud_tea_openapi.exceptions import ClientException

from localcloud.server import LocalCloud
from shared.auth import Acs3Auth, Credentials
from shared.clients.imm import IMM_API_VERSION
from shared.clients.openapi import OpenApiClient
from shared.errors import ServiceResponseError
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.imm.conftest import BUCKET, PutTone, sdk_client

ERROR_FIELDS = {"RequestId", "HostId", "Code", "Message", "Recommend"}


def merge_request(**overrides: Any) -> imm_models.CreateMediaConvertTaskRequest:
    wire: dict[str, Any] = {
        "ProjectName": "test-project",
        "Sources": [{"URI": f"oss://{BUCKET}/errors/a.mp3"}, {"URI": f"oss://{BUCKET}/errors/b.mp3"}],
        "Targets": [
            {
                "Container": "mp3",
                "Audio": {"TranscodeAudio": {"Codec": "mp3"}},
                "URI": f"oss://{BUCKET}/e.mp3",
            }
        ],
    }
    wire.update(overrides)
    return imm_models.CreateMediaConvertTaskRequest().from_map(wire)


def refused(call: Any) -> ClientException:
    with pytest.raises(ClientException) as caught:
        call()
    assert set(caught.value.data) >= ERROR_FIELDS
    return caught.value


def signed(
    cloud: LocalCloud, params: dict[str, str], *, action: str = "GetTask", **extra: Any
) -> httpx.Request:
    request = httpx.Request(
        "POST",
        f"{cloud.endpoint}/",
        params=params,
        headers={"x-acs-action": action, "x-acs-version": IMM_API_VERSION, **extra.pop("headers", {})},
        **extra,
    )
    Acs3Auth(Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)).sign(request)
    return request


def send(request: httpx.Request) -> httpx.Response:
    with httpx.Client() as client:
        return client.send(request)


def test_a_source_that_is_not_an_oss_uri_is_refused_naming_the_field_and_rule(imm_sdk: ImmSdkClient) -> None:
    request = merge_request(Sources=[{"URI": "https://example.com/a.mp3"}])

    error = refused(lambda: imm_sdk.create_media_convert_task(request))

    assert (error.status_code, error.code) == (400, "InvalidArgument")
    assert "Sources[0].URI" in error.message and "oss_uri" in error.message


def test_an_alignment_index_beyond_the_sources_is_refused(imm_sdk: ImmSdkClient) -> None:
    error = refused(lambda: imm_sdk.create_media_convert_task(merge_request(AlignmentIndex=2)))

    assert error.code == "InvalidArgument"
    assert "AlignmentIndex" in error.message and "alignment_index" in error.message


def test_a_codec_the_container_cannot_hold_is_refused(imm_sdk: ImmSdkClient) -> None:
    targets = [
        {"Container": "mp3", "Audio": {"TranscodeAudio": {"Codec": "aac"}}, "URI": f"oss://{BUCKET}/x.mp3"}
    ]

    error = refused(lambda: imm_sdk.create_media_convert_task(merge_request(Targets=targets)))

    assert "Targets[0].Container" in error.message and "codec_container" in error.message


def test_a_merge_without_transcode_settings_is_refused(imm_sdk: ImmSdkClient) -> None:
    targets = [{"Container": "mp3", "URI": f"oss://{BUCKET}/x.mp3"}]

    error = refused(lambda: imm_sdk.create_media_convert_task(merge_request(Targets=targets)))

    assert "transcode_required" in error.message


def test_a_missing_project_name_gets_imms_missing_parameter_code(imm_cloud: LocalCloud) -> None:
    with (
        OpenApiClient(
            imm_cloud.endpoint,
            Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET),
            version=IMM_API_VERSION,
            service="imm",
        ) as client,
        pytest.raises(ServiceResponseError) as caught,
    ):
        client.call("GetTask", {"TaskId": "MediaConvert-x"}, idempotent=True)

    assert (caught.value.status, caught.value.code) == (400, "MissingProjectName")
    assert "ProjectName" in caught.value.message


def test_a_target_bucket_that_does_not_exist_is_refused_up_front(imm_sdk: ImmSdkClient) -> None:
    targets = [
        {
            "Container": "mp3",
            "Audio": {"TranscodeAudio": {"Codec": "mp3"}},
            "URI": "oss://no-such-bucket/x.mp3",
        }
    ]

    error = refused(lambda: imm_sdk.create_media_convert_task(merge_request(Targets=targets)))

    assert (error.status_code, error.code) == (404, "ResourceNotFound")
    assert "no-such-bucket" in error.message


def test_an_unknown_task_is_not_found(imm_sdk: ImmSdkClient) -> None:
    request = imm_models.GetTaskRequest(
        project_name="test-project", task_id="MediaConvert-nope", task_type="MediaConvert"
    )

    error = refused(lambda: imm_sdk.get_task(request))

    assert (error.status_code, error.code) == (404, "ResourceNotFound")


def test_a_task_is_not_found_in_another_project(
    imm_cloud: LocalCloud, imm_sdk: ImmSdkClient, put_tone: PutTone
) -> None:
    source = put_tone("errors/project.mp3", seconds=0.3)
    single = merge_request(Sources=[{"URI": source}])
    task_id = imm_sdk.create_media_convert_task(single).body.task_id
    imm_cloud.tasks.wait_idle(30)

    other = imm_models.GetTaskRequest(project_name="other-project", task_id=task_id, task_type="MediaConvert")
    error = refused(lambda: imm_sdk.get_task(other))

    assert error.code == "ResourceNotFound"


def test_an_unknown_action_is_refused_as_not_found(imm_cloud: LocalCloud) -> None:
    with (
        OpenApiClient(
            imm_cloud.endpoint,
            Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET),
            version=IMM_API_VERSION,
            service="imm",
        ) as client,
        pytest.raises(ServiceResponseError) as caught,
    ):
        client.call("DeleteProject", {"ProjectName": "test-project"}, idempotent=False)

    assert (caught.value.status, caught.value.code) == (404, "InvalidAction.NotFound")


def test_an_unsigned_request_is_refused_with_an_openapi_error_document(imm_cloud: LocalCloud) -> None:
    response = httpx.post(
        f"{imm_cloud.endpoint}/",
        params={"ProjectName": "test-project", "TaskId": "x"},
        headers={"x-acs-action": "GetTask", "x-acs-version": IMM_API_VERSION},
    )

    body = response.json()
    assert (response.status_code, body["Code"]) == (400, "MissingAuthorization")
    assert set(body) >= ERROR_FIELDS
    assert body["HostId"] == "imm.cn-hangzhou.aliyuncs.com"
    assert response.headers["x-acs-request-id"] == body["RequestId"]


def test_a_request_signed_with_the_wrong_secret_is_refused(imm_cloud: LocalCloud) -> None:
    client = sdk_client(imm_cloud, secret="not-the-secret")
    request = imm_models.GetTaskRequest(project_name="test-project", task_id="x", task_type="MediaConvert")

    error = refused(lambda: client.get_task(request))

    assert (error.status_code, error.code) == (400, "SignatureDoesNotMatch")


def test_a_parameter_changed_after_signing_is_refused(imm_cloud: LocalCloud) -> None:
    request = signed(
        imm_cloud, {"ProjectName": "test-project", "TaskId": "MediaConvert-a", "TaskType": "MediaConvert"}
    )
    tampered = httpx.Request(
        "POST", str(request.url).replace("MediaConvert-a", "MediaConvert-b"), headers=request.headers
    )

    response = send(tampered)

    assert (response.status_code, response.json()["Code"]) == (400, "SignatureDoesNotMatch")


def test_an_unknown_access_key_is_refused(imm_cloud: LocalCloud) -> None:
    request = httpx.Request(
        "POST",
        f"{imm_cloud.endpoint}/",
        params={"ProjectName": "p", "TaskId": "t"},
        headers={"x-acs-action": "GetTask", "x-acs-version": IMM_API_VERSION},
    )
    Acs3Auth(Credentials("LTAI5tNobody", "secret")).sign(request)

    response = send(request)

    assert (response.status_code, response.json()["Code"]) == (404, "InvalidAccessKeyId.NotFound")


def test_parameters_in_a_signed_form_body_are_accepted(imm_cloud: LocalCloud) -> None:
    request = signed(
        imm_cloud,
        {},
        content=b"ProjectName=test-project&TaskId=MediaConvert-form&TaskType=MediaConvert",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    response = send(request)

    # The parameters were read (an unknown task, not a missing ProjectName).
    assert (response.status_code, response.json()["Code"]) == (404, "ResourceNotFound")


def test_a_parameter_given_in_both_query_and_body_is_refused(imm_cloud: LocalCloud) -> None:
    request = signed(
        imm_cloud,
        {"ProjectName": "test-project"},
        content=b"ProjectName=other&TaskId=t",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    response = send(request)

    body = response.json()
    assert (response.status_code, body["Code"]) == (400, "InvalidArgument")
    assert "ProjectName" in body["Message"] and "rule: duplicate" in body["Message"]


def test_another_api_version_is_refused(imm_cloud: LocalCloud) -> None:
    request = signed(imm_cloud, {"ProjectName": "p", "TaskId": "t"}, headers={"x-acs-version": "2017-09-06"})

    response = send(request)

    assert (response.status_code, response.json()["Code"]) == (400, "InvalidVersion")


def test_an_rpc_body_over_the_limit_is_refused_before_it_is_read(imm_cloud: LocalCloud) -> None:
    from localcloud.authn import MAX_RPC_BODY_BYTES

    body = b"ProjectName=" + b"x" * (MAX_RPC_BODY_BYTES + 1)
    request = signed(
        imm_cloud,
        {},
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    response = send(request)
    assert response.status_code == 413
    assert response.json()["Code"] == "RequestEntityTooLarge"
