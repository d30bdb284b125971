from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.auth import (
    Acs3Auth,
    Credentials,
    CredentialsProvider,
    EnvironmentCredentialsProvider,
    FcContextCredentialsProvider,
    MnsAuth,
    OssV1Auth,
    OssV4Auth,
    StaticCredentialsProvider,
    resolve_credentials,
    resolve_dashscope_api_key,
)
from shared.errors import CredentialsError

SECRET = "VerySecretAccessKeySecret42"
TOKEN = "CAISVerySecretStsToken+/=="
ALIBABA_ENV = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "AK-ENV",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK-ENV",
    "ALIBABA_CLOUD_SECURITY_TOKEN": "TOKEN-ENV",
}
OSS_ENV = {"OSS_ACCESS_KEY_ID": "AK-OSS", "OSS_ACCESS_KEY_SECRET": "SK-OSS", "OSS_SESSION_TOKEN": "TOKEN-OSS"}


def fc_context(key_id: str = "AK-FC", secret: str = "SK-FC", token: str = "TOKEN-FC") -> SimpleNamespace:
    return SimpleNamespace(
        request_id="r-1",
        credentials=SimpleNamespace(access_key_id=key_id, access_key_secret=secret, security_token=token),
    )


def test_credentials_never_show_the_secret_or_the_token() -> None:
    credentials = Credentials("LTAI5tExample", SECRET, TOKEN)
    shown = [repr(credentials), str(credentials), f"{credentials}", f"{credentials!r}"]
    for auth in (
        OssV4Auth(credentials, "cn-hangzhou"),
        OssV1Auth(credentials),
        Acs3Auth(credentials),
        MnsAuth(credentials),
        StaticCredentialsProvider(credentials),
    ):
        shown.append(repr(auth))
    for text in shown:
        assert SECRET not in text
        assert TOKEN not in text
    assert "LTAI5tExample" in repr(credentials)
    assert repr(credentials).endswith("access_key_secret='***', security_token='***')")


def test_credentials_without_a_token_say_so() -> None:
    assert repr(Credentials("AK", SECRET)).endswith("security_token=None)")


def test_an_empty_token_means_long_term_credentials() -> None:
    assert Credentials("AK", "SK", "").security_token is None


@pytest.mark.parametrize(("key_id", "secret"), [("", "SK"), ("AK", ""), ("  ", "SK")])
def test_credentials_with_an_empty_key_are_refused(key_id: str, secret: str) -> None:
    with pytest.raises(CredentialsError, match="must be a non-empty string"):
        Credentials(key_id, secret)


def test_credentials_are_frozen() -> None:
    credentials = Credentials("AK", "SK")
    with pytest.raises(AttributeError):
        credentials.access_key_id = "other"  # type: ignore[misc]


def test_every_provider_satisfies_the_protocol() -> None:
    providers = [
        StaticCredentialsProvider(Credentials("AK", "SK")),
        EnvironmentCredentialsProvider({}),
        FcContextCredentialsProvider(fc_context()),
    ]
    assert all(isinstance(provider, CredentialsProvider) for provider in providers)


def test_explicit_credentials_beat_the_context_and_the_environment() -> None:
    explicit = Credentials("AK-EXPLICIT", "SK")
    provider = resolve_credentials(explicit, context=fc_context(), environ=ALIBABA_ENV)
    assert provider.get_credentials() == explicit


def test_the_fc_context_beats_the_environment() -> None:
    provider = resolve_credentials(context=fc_context(), environ=ALIBABA_ENV)
    assert provider.get_credentials() == Credentials("AK-FC", "SK-FC", "TOKEN-FC")


def test_a_context_without_credentials_falls_back_to_the_environment() -> None:
    no_role = SimpleNamespace(
        credentials=SimpleNamespace(access_key_id="", access_key_secret="", security_token="")
    )
    assert (
        resolve_credentials(context=no_role, environ=ALIBABA_ENV).get_credentials().access_key_id == "AK-ENV"
    )
    no_attribute = SimpleNamespace(request_id="r-1")
    assert (
        resolve_credentials(context=no_attribute, environ=ALIBABA_ENV).get_credentials().access_key_id
        == "AK-ENV"
    )


def test_an_incomplete_context_is_reported_instead_of_silently_skipped() -> None:
    with pytest.raises(CredentialsError, match="access_key_secret is empty"):
        resolve_credentials(context=fc_context(secret=""), environ=ALIBABA_ENV)


@pytest.mark.parametrize(
    "context",
    [
        {
            "credentials": {
                "access_key_id": "AK-FC",
                "access_key_secret": "SK-FC",
                "security_token": "TOKEN-FC",
            }
        },
        {"credentials": {"accessKeyId": "AK-FC", "accessKeySecret": "SK-FC", "securityToken": "TOKEN-FC"}},
        {"access_key_id": "AK-FC", "access_key_secret": "SK-FC", "security_token": "TOKEN-FC"},
        SimpleNamespace(
            credentials={"access_key_id": "AK-FC", "access_key_secret": "SK-FC", "security_token": "TOKEN-FC"}
        ),
    ],
    ids=["nested-snake", "nested-camel", "flat", "object-with-dict"],
)
def test_a_context_may_be_given_as_a_mapping(context: object) -> None:
    assert FcContextCredentialsProvider(context).get_credentials() == Credentials(
        "AK-FC", "SK-FC", "TOKEN-FC"
    )


def test_the_context_is_read_at_each_call_so_rotated_credentials_are_used() -> None:
    context = fc_context()
    provider = FcContextCredentialsProvider(context)
    assert provider.get_credentials().access_key_id == "AK-FC"
    context.credentials.access_key_id = "AK-ROTATED"
    assert provider.get_credentials().access_key_id == "AK-ROTATED"


def test_alibaba_cloud_variables_beat_the_oss_sdk_variables() -> None:
    provider = resolve_credentials(environ={**OSS_ENV, **ALIBABA_ENV})
    assert provider.get_credentials() == Credentials("AK-ENV", "SK-ENV", "TOKEN-ENV")


def test_oss_sdk_variables_are_used_with_their_own_session_token() -> None:
    environ = {**OSS_ENV, "ALIBABA_CLOUD_SECURITY_TOKEN": "TOKEN-OF-ANOTHER-SET"}
    assert resolve_credentials(environ=environ).get_credentials() == Credentials(
        "AK-OSS", "SK-OSS", "TOKEN-OSS"
    )


def test_environment_values_are_trimmed_and_an_empty_token_is_no_token() -> None:
    environ = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": " AK \n",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK\n",
        "ALIBABA_CLOUD_SECURITY_TOKEN": "",
    }
    assert resolve_credentials(environ=environ).get_credentials() == Credentials("AK", "SK")


def test_the_environment_is_read_at_call_time() -> None:
    environ = dict(ALIBABA_ENV)
    provider = EnvironmentCredentialsProvider(environ)
    environ["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "AK-LATER"
    assert provider.get_credentials().access_key_id == "AK-LATER"


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ALIBABA_ENV, *OSS_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "AK-PROCESS")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "SK-PROCESS")
    assert resolve_credentials().get_credentials() == Credentials("AK-PROCESS", "SK-PROCESS")


def test_missing_credentials_name_every_variable_to_set() -> None:
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(environ={})
    message = str(caught.value)
    for name in (
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "OSS_ACCESS_KEY_ID",
        "OSS_ACCESS_KEY_SECRET",
        "OSS_SESSION_TOKEN",
    ):
        assert name in message
    assert caught.value.code == "MissingCredentials"


def test_an_environment_provider_with_nothing_to_read_fails_when_asked() -> None:
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_ACCESS_KEY_ID"):
        EnvironmentCredentialsProvider({}).get_credentials()


def test_half_set_environment_credentials_name_the_missing_variable() -> None:
    with pytest.raises(
        CredentialsError, match="ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET"
    ):
        resolve_credentials(environ={"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK"})


def test_a_complete_oss_set_wins_over_a_half_set_alibaba_set() -> None:
    environ = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", **OSS_ENV}
    assert resolve_credentials(environ=environ).get_credentials().access_key_id == "AK-OSS"


def test_the_dashscope_key_comes_from_the_argument_then_the_environment() -> None:
    assert resolve_dashscope_api_key("sk-explicit", {"DASHSCOPE_API_KEY": "sk-env"}) == "sk-explicit"
    assert resolve_dashscope_api_key(environ={"DASHSCOPE_API_KEY": " sk-env\n"}) == "sk-env"


def test_a_missing_dashscope_key_names_the_variable() -> None:
    with pytest.raises(CredentialsError, match="DASHSCOPE_API_KEY"):
        resolve_dashscope_api_key(environ={"DASHSCOPE_API_KEY": ""})


def test_an_empty_explicit_dashscope_key_is_refused_rather_than_ignored() -> None:
    with pytest.raises(CredentialsError, match="empty"):
        resolve_dashscope_api_key("", {"DASHSCOPE_API_KEY": "sk-env"})


def test_signers_refuse_something_that_is_not_a_credentials_source() -> None:
    with pytest.raises(CredentialsError, match="CredentialsProvider"):
        OssV4Auth("AK:SK", "cn-hangzhou")  # type: ignore[arg-type]
