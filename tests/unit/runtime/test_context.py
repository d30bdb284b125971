from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from shared.auth.credentials import Credentials, FcContextCredentialsProvider
from shared.errors import CredentialsError, InvalidRequestError
from shared.runtime.context import FcContext

SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
TOKEN = "CAISexampleSecurityTokenValue0123456789"


def fc_like_object() -> SimpleNamespace:
    """Shaped like the Python runtime's context object: attributes all the way down."""
    return SimpleNamespace(
        request_id="1-64f1c2a3-7b9d1e2f3a4b5c6d7e8f9a0b",
        credentials=SimpleNamespace(
            access_key_id="STS.NUexample", access_key_secret=SECRET, security_token=TOKEN
        ),
        function=SimpleNamespace(name="on_upload", handler="index.handler", memory=512, timeout=60),
        service=SimpleNamespace(
            name="audiochain", log_project="proj", log_store="store", qualifier="LATEST", version_id="3"
        ),
        region="cn-hangzhou",
        account_id="1023210024677934",
        retry_count=2,
    )


def fc_like_dict() -> dict[str, Any]:
    return {
        "request_id": "r-1",
        "credentials": {
            "access_key_id": "STS.NUexample",
            "access_key_secret": SECRET,
            "security_token": TOKEN,
        },
        "function": {"name": "on_upload", "handler": "index.handler", "memory": "512", "timeout": 60},
        "service": {"name": "audiochain", "qualifier": "LATEST"},
        "region": "cn-hangzhou",
        "account_id": "1023210024677934",
    }


def test_the_fc_context_object_is_read_attribute_by_attribute() -> None:
    ctx = FcContext.from_fc(fc_like_object())
    assert ctx.request_id == "1-64f1c2a3-7b9d1e2f3a4b5c6d7e8f9a0b"
    assert (ctx.function.name, ctx.function.handler, ctx.function.memory, ctx.function.timeout) == (
        "on_upload",
        "index.handler",
        512,
        60,
    )
    assert ctx.service.log_project == "proj"
    assert ctx.service.version_id == "3"
    assert (ctx.region, ctx.account_id, ctx.retry_count) == ("cn-hangzhou", "1023210024677934", 2)
    assert ctx.credentials == Credentials("STS.NUexample", SECRET, TOKEN)


def test_a_dict_with_the_same_keys_gives_the_same_context_and_missing_retry_count_is_zero() -> None:
    ctx = FcContext.from_fc(fc_like_dict())
    assert ctx.function.memory == 512
    assert ctx.retry_count == 0
    assert ctx.service.log_store == ""
    assert ctx.require_credentials().security_token == TOKEN


def test_camel_case_credentials_from_a_local_runtime_are_accepted() -> None:
    source = fc_like_dict()
    source["credentials"] = {"accessKeyId": "AK", "accessKeySecret": SECRET, "securityToken": ""}
    ctx = FcContext.from_fc(source)
    assert ctx.credentials == Credentials("AK", SECRET, None)


def test_credentials_never_appear_in_repr_or_str() -> None:
    ctx = FcContext.from_fc(fc_like_object())
    for text in (repr(ctx), str(ctx)):
        assert SECRET not in text
        assert TOKEN not in text
    assert "on_upload" in repr(ctx)


def test_empty_credentials_mean_no_credentials() -> None:
    source = fc_like_dict()
    source["credentials"] = {"access_key_id": "", "access_key_secret": "", "security_token": ""}
    ctx = FcContext.from_fc(source)
    assert ctx.credentials is None
    with pytest.raises(CredentialsError):
        ctx.require_credentials()


def test_half_present_credentials_are_refused() -> None:
    source = fc_like_dict()
    source["credentials"] = {"access_key_id": "AK", "access_key_secret": ""}
    with pytest.raises(CredentialsError, match="access_key_secret"):
        FcContext.from_fc(source)


@pytest.mark.parametrize(
    ("mutate", "field", "rule"),
    [
        (lambda d: d.pop("request_id"), "context.request_id", "required"),
        (lambda d: d["function"].update(memory="lots"), "context.function.memory", "integer"),
        (lambda d: d["function"].update(timeout=True), "context.function.timeout", "integer"),
        (lambda d: d.update(retry_count=-1), "context.retry_count", "non_negative"),
        (lambda d: d.update(region=["cn-hangzhou"]), "context.region", "string"),
    ],
)
def test_a_malformed_context_is_refused_naming_the_field(mutate: Any, field: str, rule: str) -> None:
    source = fc_like_dict()
    mutate(source)
    with pytest.raises(InvalidRequestError) as caught:
        FcContext.from_fc(source)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_no_context_at_all_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        FcContext.from_fc(None)
    assert caught.value.field == "context"


def test_a_local_context_has_a_fresh_request_id_each_time() -> None:
    first, second = FcContext.local(), FcContext.local(function_name="api")
    assert first.request_id != second.request_id
    assert second.function.name == "api"
    assert first.credentials is None


def test_the_dict_form_round_trips_through_from_fc() -> None:
    original = FcContext.local(credentials=Credentials("AK", SECRET, TOKEN), retry_count=1)
    again = FcContext.from_fc(original.to_fc_dict())
    assert again == original
    assert again.credentials == original.credentials


def test_an_fc_context_is_passed_through_unchanged() -> None:
    ctx = FcContext.local()
    assert FcContext.from_fc(ctx) is ctx


def test_the_signing_layer_reads_credentials_from_an_fc_context() -> None:
    ctx = FcContext.local(credentials=Credentials("AK", SECRET, TOKEN))
    assert FcContextCredentialsProvider(ctx).get_credentials().access_key_secret == SECRET
