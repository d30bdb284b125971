"""Request signers and credentials for OSS (V4, V1), OpenAPI (ACS3: IMM, ICE), MNS and DashScope.

Signers are `httpx.Auth` classes composed of pure canonicalisation functions; the clock (and the ACS3
nonce) are injected, so published vectors reproduce without clock tricks, and localcloud verifies
signatures with the very same functions.

    >>> import httpx
    >>> from shared.auth import Credentials, OssV4Auth, resolve_credentials
    >>> auth = OssV4Auth(resolve_credentials(Credentials("AK", "SK")), "cn-hangzhou")
    >>> client = httpx.Client(auth=auth)  # every request is signed when sent
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.lazy import names_loaded_on_use

if TYPE_CHECKING:
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

# Each name loads its module on first use (PEP 562): an OSS-only function never loads the ACS3 signer.
_MODULE_OF = {
    "ACS3_ALGORITHM": "shared.auth.acs3",
    "Acs3Auth": "shared.auth.acs3",
    "Clock": "shared.auth.clock",
    "Credentials": "shared.auth.credentials",
    "CredentialsProvider": "shared.auth.credentials",
    "DashScopeBearerAuth": "shared.auth.dashscope",
    "EMPTY_BODY_SHA256": "shared.auth.acs3",
    "EnvironmentCredentialsProvider": "shared.auth.credentials",
    "FcContextCredentialsProvider": "shared.auth.credentials",
    "MNS_VERSION": "shared.auth.mns",
    "MnsAuth": "shared.auth.mns",
    "OSS_V1_SUB_RESOURCES": "shared.auth.oss_v1",
    "OSS_V4_ALGORITHM": "shared.auth.oss",
    "OSS_V4_MAX_EXPIRES": "shared.auth.oss",
    "OssV1Auth": "shared.auth.oss_v1",
    "OssV4Auth": "shared.auth.oss",
    "OssV4AuthorizationHeader": "shared.auth.oss",
    "StaticCredentialsProvider": "shared.auth.credentials",
    "UNSIGNED_PAYLOAD": "shared.auth.oss",
    "acs3_authorization": "shared.auth.acs3",
    "acs3_canonical_query": "shared.auth.acs3",
    "acs3_canonical_request": "shared.auth.acs3",
    "acs3_signature": "shared.auth.acs3",
    "acs3_signed_header_names": "shared.auth.acs3",
    "acs3_string_to_sign": "shared.auth.acs3",
    "http_date": "shared.auth.clock",
    "iso8601_basic": "shared.auth.clock",
    "iso8601_extended": "shared.auth.clock",
    "mns_resource": "shared.auth.mns",
    "mns_signature": "shared.auth.mns",
    "mns_string_to_sign": "shared.auth.mns",
    "oss_bucket_and_key": "shared.auth.oss_target",
    "oss_v1_canonical_resource": "shared.auth.oss_v1",
    "oss_v1_signature": "shared.auth.oss_v1",
    "oss_v1_string_to_sign": "shared.auth.oss_v1",
    "oss_v4_additional_header_names": "shared.auth.oss",
    "oss_v4_authorization": "shared.auth.oss",
    "oss_v4_canonical_query": "shared.auth.oss",
    "oss_v4_canonical_request": "shared.auth.oss",
    "oss_v4_canonical_uri": "shared.auth.oss",
    "oss_v4_region": "shared.auth.oss",
    "oss_v4_scope": "shared.auth.oss",
    "oss_v4_signature": "shared.auth.oss",
    "oss_v4_signing_key": "shared.auth.oss",
    "oss_v4_string_to_sign": "shared.auth.oss",
    "parse_acs3_authorization": "shared.auth.acs3",
    "parse_mns_authorization": "shared.auth.mns",
    "parse_oss_v1_authorization": "shared.auth.oss_v1",
    "parse_oss_v4_authorization": "shared.auth.oss",
    "presign_oss_v1": "shared.auth.oss_v1",
    "presign_oss_v4": "shared.auth.oss",
    "resolve_credentials": "shared.auth.credentials",
    "resolve_dashscope_api_key": "shared.auth.credentials",
    "utc_now": "shared.auth.clock",
}

__getattr__ = names_loaded_on_use(__name__, _MODULE_OF)

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
