"""The HTTP API function's layer: routes, bearer-token auth, the OpenAPI document and error mapping.

    app        ApiApp (WSGI) and create_api_handler: what functions/api/index.py exposes
    operation  Operation, ApiCall: what one route is (the router and the OpenAPI generator read it)
    routes     OPERATIONS: the route table; openapi_document (its OpenAPI, built once)
    models     answers (JobList, JobResults, HealthStatus, ErrorDocument) and the listing's query
    auth       authenticate: `Authorization: Bearer <AUDIOCHAIN_API_TOKEN>`
    errors     ApiErrorCode, ERROR_CATALOGUE (stable codes and statuses), api_error_response
    openapi    build_openapi: OpenAPI 3.1 generated from operations and their models

Import the submodules directly: this package imports nothing itself.
"""
