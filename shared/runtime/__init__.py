"""The Function Compute 2.0 shim: typed context, WSGI request/response/router, handler decorators, and
the redaction that keeps secrets out of logs.

Import from the modules (`shared.runtime.handler`, `shared.runtime.wsgi`, `shared.runtime.context`):
this package imports nothing itself, because shared.logging imports shared.runtime.redaction and the
handler modules import shared.logging.
"""
