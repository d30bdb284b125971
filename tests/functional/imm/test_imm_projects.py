"""IMM projects and bucket bindings in localcloud, driven by the official SDK (wire shapes) and by
audiochain's own client (what deploy.bootstrap calls)."""

from __future__ import annotations

import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmSdkClient
from alibabacloud_tea_openapi.exceptions import ClientException

from localcloud.server import LocalCloud
from shared.clients.imm import ImmClient
from shared.errors import InvalidRequestError, ServiceResponseError
from tests.functional.imm.conftest import BUCKET


def test_the_sdk_creates_a_project_binds_the_bucket_and_reads_the_binding(imm_sdk: ImmSdkClient) -> None:
    created = imm_sdk.create_project(
        imm_models.CreateProjectRequest(project_name="sdk-project", service_role="AliyunIMMDefaultRole")
    )
    assert created.body.project.project_name == "sdk-project"
    got = imm_sdk.get_project(imm_models.GetProjectRequest(project_name="sdk-project"))
    assert got.body.project.service_role == "AliyunIMMDefaultRole"

    imm_sdk.attach_ossbucket(imm_models.AttachOSSBucketRequest(project_name="sdk-project", ossbucket=BUCKET))
    binding = imm_sdk.get_ossbucket_attachment(imm_models.GetOSSBucketAttachmentRequest(ossbucket=BUCKET))
    assert binding.body.project_name == "sdk-project"
    assert binding.body.request_id

    imm_sdk.detach_ossbucket(imm_models.DetachOSSBucketRequest(ossbucket=BUCKET))
    with pytest.raises(ClientException) as missing:
        imm_sdk.get_ossbucket_attachment(imm_models.GetOSSBucketAttachmentRequest(ossbucket=BUCKET))
    assert missing.value.code == "ResourceNotFound"


def test_a_project_is_created_once(imm_sdk: ImmSdkClient) -> None:
    request = imm_models.CreateProjectRequest(project_name="only-once")
    imm_sdk.create_project(request)
    with pytest.raises(ClientException) as again:
        imm_sdk.create_project(request)
    assert (again.value.code, again.value.status_code) == ("ResourceAlreadyExists", 409)


def test_binding_needs_an_existing_project_and_bucket_and_one_project_per_bucket(
    imm_client: ImmClient, imm_cloud: LocalCloud
) -> None:
    with pytest.raises(ServiceResponseError, match="ProjectName is not found"):
        imm_client.attach_bucket(BUCKET, "never-created")
    imm_client.create_project("first-owner")
    imm_client.create_project("second-owner")
    with pytest.raises(ServiceResponseError, match="does not exist"):
        imm_client.attach_bucket("no-such-bucket", "first-owner")
    assert imm_client.bucket_attachment(BUCKET) is None
    imm_client.attach_bucket(BUCKET, "first-owner")
    imm_client.attach_bucket(BUCKET, "first-owner")  # the same binding again: nothing changes
    with pytest.raises(ServiceResponseError) as taken:
        imm_client.attach_bucket(BUCKET, "second-owner")
    assert taken.value.code == "ResourceAlreadyExists"
    assert "first-owner" in str(taken.value)
    assert imm_client.bucket_attachment(BUCKET) == "first-owner"
    imm_cloud.state.execute("DELETE FROM imm_bucket_attachments")  # leave the module's cloud unbound


def test_names_are_checked_before_anything_is_sent(imm_client: ImmClient, imm_sdk: ImmSdkClient) -> None:
    with pytest.raises(InvalidRequestError, match="ProjectName"):
        imm_client.create_project("9 starts with a digit")
    with pytest.raises(ClientException) as refused:
        imm_sdk.get_ossbucket_attachment(imm_models.GetOSSBucketAttachmentRequest(ossbucket="Bad_Bucket"))
    assert refused.value.code == "InvalidArgument"
    assert "OSSBucket" in refused.value.message
