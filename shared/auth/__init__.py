"""Request signers and credentials for OSS (V4, V1), OpenAPI (ACS3: IMM, ICE), MNS and DashScope.

Signers are `httpx.Auth` classes composed of pure canonicalisation functions; the clock (and the ACS3
nonce) are injected, so published vectors reproduce without clock tricks, and localcloud verifies
signatures with the very same functions.

    >>> import httpx
    >>> auth = OssV4Auth(resolve_credentials(Credentials("AK", "SK")), "cn-hangzhou")
    >>> client = httpx.Client(auth=auth)  # every request is signed when sent
"""

from __future__ import annotations

from shared.auth.acs3 import (
    ACS3_ALGORITHM,
    EMPTY_BODY_SHA256,
    Acs3Auth,
    acs3_authorization,
    acs3_canonical_query,
    acs3_canonical_request,
    acs3_signature,
    acs3_signed_header_names,
    acs3_string_to_sign,
    parse_acs3_authorization,
)
from shared.auth.clock import Clock, http_date, iso8601_basic, iso8601_extended, utc_now
from shared.auth.credentials import (
    Credentials,
    CredentialsProvider,
    EnvironmentCredentialsProvider,
    FcContextCredentialsProvider,
    StaticCredentialsProvider,
    resolve_credentials,
    resolve_dashscope_api_key,
)
from shared.auth.dashscope import DashScopeBearerAuth
from shared.auth.mns import (
    MNS_VERSION,
    MnsAuth,
    mns_resource,
    mns_signature,
    mns_string_to_sign,
    parse_mns_authorization,
)
from shared.auth.oss import (
    OSS_V4_ALGORITHM,
    OSS_V4_MAX_EXPIRES,
    UNSIGNED_PAYLOAD,
    OssV4Auth,
    OssV4AuthorizationHeader,
    oss_v4_additional_header_names,
    oss_v4_authorization,
    oss_v4_canonical_query,
    oss_v4_canonical_request,
    oss_v4_canonical_uri,
    oss_v4_region,
    oss_v4_scope,
    oss_v4_signature,
    oss_v4_signing_key,
    oss_v4_string_to_sign,
    parse_oss_v4_authorization,
    presign_oss_v4,
)
from shared.auth.oss_target import oss_bucket_and_key
from shared.auth.oss_v1 import (
    OSS_V1_SUB_RESOURCES,
    OssV1Auth,
    oss_v1_canonical_resource,
    oss_v1_signature,
    oss_v1_string_to_sign,
    parse_oss_v1_authorization,
    presign_oss_v1,
)

__all__ = [
    "ACS3_ALGORITHM",
    "EMPTY_BODY_SHA256",
    "MNS_VERSION",
    "OSS_V1_SUB_RESOURCES",
    "OSS_V4_ALGORITHM",
    "OSS_V4_MAX_EXPIRES",
    "UNSIGNED_PAYLOAD",
    "Acs3Auth",
    "Clock",
    "Credentials",
    "CredentialsProvider",
    "DashScopeBearerAuth",
    "EnvironmentCredentialsProvider",
    "FcContextCredentialsProvider",
    "MnsAuth",
    "OssV1Auth",
    "OssV4Auth",
    "OssV4AuthorizationHeader",
    "StaticCredentialsProvider",
    "acs3_authorization",
    "acs3_canonical_query",
    "acs3_canonical_request",
    "acs3_signature",
    "acs3_signed_header_names",
    "acs3_string_to_sign",
    "http_date",
    "iso8601_basic",
    "iso8601_extended",
    "mns_resource",
    "mns_signature",
    "mns_string_to_sign",
    "oss_bucket_and_key",
    "oss_v1_canonical_resource",
    "oss_v1_signature",
    "oss_v1_string_to_sign",
    "oss_v4_additional_header_names",
    "oss_v4_authorization",
    "oss_v4_canonical_query",
    "oss_v4_canonical_request",
    "oss_v4_canonical_uri",
    "oss_v4_region",
    "oss_v4_scope",
    "oss_v4_signature",
    "oss_v4_signing_key",
    "oss_v4_string_to_sign",
    "parse_acs3_authorization",
    "parse_mns_authorization",
    "parse_oss_v1_authorization",
    "parse_oss_v4_authorization",
    "presign_oss_v1",
    "presign_oss_v4",
    "resolve_credentials",
    "resolve_dashscope_api_key",
    "utc_now",
]
