"""The OpenAPI 3.1 document of the HTTP API, generated from the route table and the pydantic models.

Nothing here is written by hand that could drift: paths, methods, parameters, bodies, answers and error
codes come from `shared.api.routes.OPERATIONS`, schemas from the models' own JSON Schema (request bodies
as validated, answers as serialised), the error table from `shared.api.errors.ERROR_CATALOGUE`.

    >>> from shared.api.routes import OPERATIONS
    >>> document = build_openapi(OPERATIONS)
    >>> document["openapi"], sorted(document["paths"]["/v1/jobs/{job_id}"])
    ('3.1.0', ['get'])
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.api.errors import ERROR_CATALOGUE, ApiErrorCode
from shared.api.models import ErrorDocument
from shared.api.operation import Operation

__all__ = ["API_VERSION", "build_openapi", "with_servers"]

API_VERSION = "1.0.0"
JSON = "application/json"
SECURITY_SCHEME = "bearerAuth"
_REF_TEMPLATE = "#/components/schemas/{model}"
_PATH_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PATH_PARAMETER_TEXT = {"job_id": "The job's id (`j` and 26 base32 characters), as answered on submission."}

_DESCRIPTION = """\
Submit audio jobs (convert, merge, speech, transcribe) and read their state and results.

**Authentication.** Every route but `/v1/health` and `/openapi.json` needs
`Authorization: Bearer <token>` (the function's `AUDIOCHAIN_API_TOKEN`).

**Paths.** Called through Function Compute's default trigger URL, every path below carries the
prefix `/2016-08-15/proxy/<service>/<function>` (this document's `servers` then names it); the API
accepts both forms. A browser rendering of this document is served at `docs/`, the jobs dashboard at
`dashboard/` (both without a token).

**Errors.** Every error answer is `{"error": {"code", "message", "field", "request_id"}}`; `field` names
the offending parameter, header or body field (or is null). The codes are stable:

| code | status | meaning |
|---|---|---|
"""


def build_openapi(operations: Iterable[Operation]) -> dict[str, Any]:
    """An OpenAPI 3.1 document for `operations`."""
    operations = tuple(operations)
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorDocument, "serialization")]
    for operation in operations:
        if operation.body is not None:
            wanted.append((operation.body, "validation"))
        if operation.query is not None:
            wanted.append((operation.query, "validation"))
        wanted.extend((spec.model, "serialization") for spec in operation.responses if spec.model is not None)
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF_TEMPLATE)
    schemas: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation, refs, schemas)
    table = "".join(
        f"| `{info.code.value}` | {info.status} | {info.meaning} |\n" for info in ERROR_CATALOGUE.values()
    )
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": "audiochain API", "version": API_VERSION, "description": _DESCRIPTION + table},
        "tags": [
            {"name": "jobs", "description": "Submit jobs and read them."},
            {"name": "service", "description": "The API itself."},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The function's AUDIOCHAIN_API_TOKEN.",
                }
            },
        },
        "security": [{SECURITY_SCHEME: []}],
        "x-error-codes": [
            {"code": info.code.value, "status": info.status, "meaning": info.meaning}
            for info in ERROR_CATALOGUE.values()
        ],
    }


def with_servers(document: Mapping[str, Any], base_path: str) -> dict[str, Any]:
    """The document with `servers` for the path prefix the request arrived under (a new dict).

    FC 2.0's default trigger URL puts `/2016-08-15/proxy/<service>/<function>` before every path; a
    client generated from the document needs it. Behind a custom domain or FC 3.0's trigger URL there is
    no prefix and no `servers` entry (OpenAPI's default, `/`, is right). The URL is kept relative to the
    host the document was fetched from: the same document serves every host name the function has.

    >>> with_servers({"openapi": "3.1.0", "info": {}}, "/2016-08-15/proxy/audiochain/api")["servers"]
    [{'url': '/2016-08-15/proxy/audiochain/api', 'description': "Function Compute's default trigger URL"}]
    >>> "servers" in with_servers({"openapi": "3.1.0"}, "")
    False
    """
    if not base_path:
        return dict(document)
    servers = [{"url": base_path, "description": "Function Compute's default trigger URL"}]
    answer: dict[str, Any] = {}
    for name, value in document.items():
        answer[name] = value
        if name == "info":  # where readers (and the spec's examples) look for it
            answer["servers"] = servers
    answer.setdefault("servers", servers)
    return answer


def _operation(
    operation: Operation,
    refs: Mapping[tuple[Any, JsonSchemaMode], dict[str, Any]],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
    }
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": _PATH_PARAMETER_TEXT.get(name, name),
            "schema": {"type": "string"},
        }
        for name in _PATH_PARAMETER.findall(operation.path)
    ]
    if operation.query is not None:
        parameters.extend(_query_parameters(refs[(operation.query, "validation")], schemas))
    for header in operation.headers:
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if header.max_length is not None:
            schema["maxLength"] = header.max_length
        parameters.append(
            {
                "name": header.name,
                "in": "header",
                "required": False,
                "description": header.description,
                "schema": schema,
            }
        )
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": refs[(operation.body, "validation")]}},
        }
    responses: dict[str, Any] = {}
    for spec in operation.responses:
        answer: dict[str, Any] = {"description": spec.description}
        content_schema = refs[(spec.model, "serialization")] if spec.model is not None else {"type": "object"}
        answer["content"] = {JSON: {"schema": content_schema}}
        if spec.headers:
            answer["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in spec.headers.items()
            }
        responses[str(spec.status)] = answer
    for status, codes in _errors_by_status(operation.errors).items():
        responses[str(status)] = {
            "description": " ".join(f"`{code.value}`: {ERROR_CATALOGUE[code].meaning}" for code in codes),
            "content": {JSON: {"schema": refs[(ErrorDocument, "serialization")]}},
            "x-error-codes": [code.value for code in codes],
        }
    document["responses"] = responses
    if operation.public:
        document["security"] = []
    return document


def _query_parameters(ref: Mapping[str, Any], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    model_schema = schemas[ref["$ref"].rpartition("/")[2]]
    required = set(model_schema.get("required", ()))
    parameters = []
    for name, property_schema in model_schema.get("properties", {}).items():
        schema = copy.deepcopy(property_schema)
        description = schema.pop("description", None)
        schema.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": schema,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _errors_by_status(codes: Iterable[ApiErrorCode]) -> dict[int, list[ApiErrorCode]]:
    grouped: dict[int, list[ApiErrorCode]] = {}
    for code in dict.fromkeys(codes):
        grouped.setdefault(ERROR_CATALOGUE[code].status, []).append(code)
    return dict(sorted(grouped.items()))
