"""The HTTP API function's layer: routes, bearer-token auth, the OpenAPI document and error mapping.

    app        ApiApp (WSGI) and create_api_handler: what functions/api/index.py exposes
    routes     OPERATIONS: the route table the router and the OpenAPI document both read
    models     answers (JobList, JobResults, HealthStatus, ErrorDocument) and the listing's query
    auth       authenticate: `Authorization: Bearer <AUDIOCHAIN_API_TOKEN>`
    errors     ApiErrorCode, ERROR_CATALOGUE (stable codes and statuses), api_error_response
    openapi    openapi_document: OpenAPI 3.1 generated from the routes and models

Import the submodules directly: this package imports nothing itself.
"""
