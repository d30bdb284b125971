"""What IMM and ICE share: an Alibaba Cloud OpenAPI RPC service on `POST /`, signed with ACS3.

A request names its operation in `x-acs-action` and the API version in `x-acs-version`; parameters travel
in the query (what the official SDKs send) or in a form body (what `formData` callers send), never both
under one name. Every answer is JSON carrying `RequestId` (also in the `x-acs-request-id` header); errors are
the OpenAPI error document:

    {"RequestId": "...", "HostId": "imm.cn-hangzhou.aliyuncs.com", "Code": "InvalidArgument",
     "Message": "...", "Recommend": "https://api.aliyun.com/troubleshoot?q=InvalidArgument&product=imm"}

A subclass declares its product, version and error codes and maps action names to methods:

    class ImmService(OpenApiRpcService):
        name = product = "imm"
        api_version = "2020-09-30"
        def rpc_actions(self):
            return {"GetTask": self.get_task}   # get_task(params, ctx) -> dict (without RequestId)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from localcloud.authn import verify_acs3
from localcloud.services.base import (
    BaseService,
    ErrorCode,
    RequestContext,
    ServiceHttpError,
    json_response,
    new_uuid_request_id,
)
from shared.errors import InvalidRequestError, Problem

RpcAction = Callable[[Mapping[str, str], RequestContext], dict[str, Any]]

# This module's error catalogue: each code once, with its HTTP status (ErrorCode: a named constructor).
INVALID_ACTION_NOT_FOUND = ErrorCode(404, "InvalidAction.NotFound")
INVALID_VERSION = ErrorCode(400, "InvalidVersion")

# RPC "common parameters" some callers add; they describe the call, not the operation, so no operation
# model knows them (and its strict parsing would refuse them).
_COMMON_PARAMETERS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "RegionId",
        "AccessKeyId",
        "SecurityToken",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
    }
)
_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class OpenApiRpcService(BaseService):
    """Authentication, dispatch, parameter collection and OpenAPI error documents for one RPC product."""

    product: ClassVar[str] = ""
    api_version: ClassVar[str] = ""
    # The product's code for a parameter that breaks a rule (IMM: InvalidArgument, ICE: InvalidParameter).
    invalid_parameter_code: ClassVar[str] = "InvalidParameter"

    def rpc_actions(self) -> Mapping[str, RpcAction]:
        raise NotImplementedError

    def missing_parameter_code(self, name: str) -> str:
        """The code for a required parameter that was not sent (products differ)."""
        return "MissingParameter"

    # --- request path --------------------------------------------------------------------------------

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        ctx.request_id = new_uuid_request_id()
        if request.method != "POST" or request.path != "/":
            raise INVALID_ACTION_NOT_FOUND(
                f"Specified api is not found, please check your url and method: {request.method} "
                f"{request.path} (RPC calls are POST /).",
            )
        ctx.access_key_id = verify_acs3(request, self.config)
        version = request.headers.get("x-acs-version", "")
        if version != self.api_version:
            raise INVALID_VERSION(
                f"Specified parameter Version is not valid: {self.product} speaks {self.api_version}, "
                f"the request asked for {version or 'no version'}.",
            )
        action_name = request.headers.get("x-acs-action", "")
        action = self.rpc_actions().get(action_name)
        if action is None:
            known = ", ".join(sorted(self.rpc_actions()))
            raise INVALID_ACTION_NOT_FOUND(
                f"Specified api is not found, please check your url and method: {action_name or '(none)'} "
                f"is not a {self.product} {self.api_version} action served here (served: {known}).",
            )
        try:
            payload = action(rpc_parameters(request, action_name), ctx)
        except InvalidRequestError as exc:
            raise self.invalid_request(exc) from None
        return json_response(
            {"RequestId": ctx.request_id, **payload}, headers={"x-acs-request-id": ctx.request_id}
        )

    def invalid_request(self, error: InvalidRequestError) -> ServiceHttpError:
        """The 400 answer for parameters that break a rule; the message names each field and rule."""
        problems = error.problems
        if all(problem.rule == "missing" and _top_level(problem.field) for problem in problems):
            names = ", ".join(problem.field for problem in problems)
            return ServiceHttpError(
                400,
                self.missing_parameter_code(problems[0].field),
                f"{names} {'is' if len(problems) == 1 else 'are'} mandatory for this action.",
            )
        return ServiceHttpError(400, self.invalid_parameter_code, describe_problems(problems))

    def render_error(self, error: ServiceHttpError, ctx: RequestContext) -> Response:
        body: dict[str, Any] = {
            "RequestId": ctx.request_id,
            "HostId": f"{self.product}.{self.config.region}.aliyuncs.com",
            "Code": error.code,
            "Message": error.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={quote(error.code)}&product={self.product}",
        }
        body.update(error.extra)
        return json_response(body, status=error.status, headers={"x-acs-request-id": ctx.request_id})


def rpc_parameters(request: Request, operation: str = "") -> dict[str, str]:
    """Query and form-body parameters as one mapping; a name given twice is refused, not guessed."""
    parameters: dict[str, str] = {}
    sources = [("query", request.args)]
    if request.mimetype == _FORM_CONTENT_TYPE:
        sources.append(("form body", request.form))
    for where, multi in sources:
        for name in multi:
            values = multi.getlist(name)
            if len(values) > 1 or name in parameters:
                raise InvalidRequestError.single(
                    name,
                    "duplicate",
                    f"is given more than once (again in the {where}); send it once",
                    operation,
                )
            if name not in _COMMON_PARAMETERS:
                parameters[name] = values[0]
    return parameters


def describe_problems(problems: tuple[Problem, ...]) -> str:
    """`Sources[0].URI: must have the form oss://<bucket>/<object key> (rule: oss_uri); ...`"""
    return "; ".join(
        f"{problem.field or 'request'}: {problem.message} (rule: {problem.rule})" for problem in problems
    )


def _top_level(field: str) -> bool:
    return bool(field) and "." not in field and "[" not in field


def iso_millis(moment: float) -> str:
    """UTC ISO 8601 with milliseconds, as IMM writes task times: `2024-08-20T07:03:07.360Z`."""
    stamp = datetime.fromtimestamp(moment, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def iso_seconds(moment: float) -> str:
    """UTC ISO 8601 to the second, as ICE writes job times: `2022-01-21T06:15:07Z`."""
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
