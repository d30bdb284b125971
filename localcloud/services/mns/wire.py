"""MNS's XML on the wire: reading request documents and writing answers the official SDK can parse.

Requests arrive as `<Queue|Message|Messages|Topic|Subscription|ReceiptHandles xmlns="…/doc/v1/">` with one
element per field; answers go back the same way, compact (the SDK's minidom reader takes the first text
node of each element, so no pretty-printing whitespace and no CDATA).

    >>> document("Message", [("MessageId", "A-1"), ("DequeueCount", 1)])[:60]
    b'<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http:/'
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from werkzeug.wrappers import Request, Response

from localcloud.services.mns.errors import MALFORMED_XML
from localcloud.services.mns.rules import (
    LIST_RET_NUMBER,
    MNS_API_VERSION,
    MNS_XMLNS,
    bounded_int,
    invalid_argument,
)
from shared.clients.xmlsafe import UnsafeXmlError, local_name, parse_xml

XmlValue: TypeAlias = "str | int | Sequence[XmlNode]"
XmlNode: TypeAlias = "tuple[str, XmlValue]"

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
CONTENT_TYPE = "text/xml;charset=utf-8"
# A whole batch of 16 messages of 64 KiB, base64-inflated, fits comfortably.
MAX_REQUEST_BYTES = 4 * 1024 * 1024


# --------------------------------------------------------------------------------------------- reading


def parse_document(body: bytes, *roots: str) -> ET.Element:
    """The request's XML document, whose root must be one of `roots` (namespace or not)."""
    try:
        root = parse_xml(body)
    except (ET.ParseError, UnsafeXmlError):
        raise MALFORMED_XML("The XML you provided was not well-formed.") from None
    name = local_name(root.tag)
    if name not in roots:
        expected = " or ".join(f"<{r}>" for r in roots)
        raise invalid_argument(
            f"The XML you provided did not validate against our published schema: "
            f"expected the root element {expected}, got <{name}>."
        )
    return root


def leaf_fields(element: ET.Element) -> dict[str, str]:
    """Each direct child without children of its own, by local name (an empty element gives "")."""
    return {local_name(child.tag): child.text or "" for child in element if len(child) == 0}


def nested_records(element: ET.Element, container: str, item: str) -> list[dict[str, str]]:
    """`<container><item><Name/><Value/>…</item>…</container>` as a list of dicts (UserProperties)."""
    records: list[dict[str, str]] = []
    for child in element:
        if local_name(child.tag) != container:
            continue
        for entry in child:
            if local_name(entry.tag) == item:
                records.append(leaf_fields(entry))
    return records


def nested_fields(element: ET.Element, container: str) -> dict[str, str]:
    """`<container><A>x</A><B>y</B></container>` as {"A": "x", "B": "y"} (MessageAttributes)."""
    for child in element:
        if local_name(child.tag) == container:
            return {local_name(leaf.tag): leaf.text or "" for leaf in child}
    return {}


# --------------------------------------------------------------------------------------------- writing


def escape_text(text: str) -> str:
    # \r is escaped because XML parsers fold a literal CR into LF, which would change the body's MD5.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _render(name: str, value: XmlValue) -> str:
    if isinstance(value, bool):
        inner = "True" if value else "False"
    elif isinstance(value, (str, int)):
        inner = escape_text(str(value))
    else:
        inner = "".join(_render(child, grandchild) for child, grandchild in value)
    return f"<{name}>{inner}</{name}>"


def document(root: str, children: Sequence[XmlNode]) -> bytes:
    """A complete answer document in the MNS namespace."""
    inner = "".join(_render(name, value) for name, value in children)
    return f'{_DECLARATION}<{root} xmlns="{MNS_XMLNS}">{inner}</{root}>'.encode()


def error_document(code: str, message: str, request_id: str, host_id: str) -> bytes:
    return document(
        "Error", [("Code", code), ("Message", message), ("RequestId", request_id), ("HostId", host_id)]
    )


def property_nodes(container: str, item: str, records: Sequence[Mapping[str, str]]) -> list[XmlNode]:
    """The inverse of `nested_records`: nothing at all when there are no records."""
    if not records:
        return []
    entries: list[XmlNode] = [(item, [(key, value) for key, value in record.items()]) for record in records]
    return [(container, entries)]


def mns_response(
    request_id: str,
    body: bytes | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An answer with the headers every MNS response carries."""
    response = Response(body or b"", status=status)
    response.headers["x-mns-request-id"] = request_id
    response.headers["x-mns-version"] = MNS_API_VERSION
    if body:
        response.headers["Content-Type"] = CONTENT_TYPE
    else:
        response.headers.pop("Content-Type", None)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --------------------------------------------------------------------------------------- request bits


def arg(request: Request, name: str) -> str | None:
    """A query parameter, its name matched without regard to case (the SDK writes `ReceiptHandle`, the
    API reference `receiptHandle`)."""
    wanted = name.lower()
    for key, value in request.args.items(multi=True):
        if key.lower() == wanted:
            return str(value)
    return None


def base_url(request: Request) -> str:
    """The endpoint the client used, for QueueURL, TopicURL and Location headers."""
    return request.host_url.rstrip("/")


@dataclass(frozen=True)
class ListParams:
    prefix: str
    marker: str
    limit: int
    with_meta: bool


def list_params(request: Request) -> ListParams:
    """ListQueue / ListTopic / ListSubscriptionByTopic take their paging from x-mns-* headers."""
    headers = request.headers
    limit_text = headers.get("x-mns-ret-number")
    limit = (
        bounded_int("x-mns-ret-number", limit_text, LIST_RET_NUMBER.low, LIST_RET_NUMBER.high, unit="")
        if limit_text
        else LIST_RET_NUMBER.default
    )
    return ListParams(
        prefix=headers.get("x-mns-prefix", ""),
        marker=headers.get("x-mns-marker", ""),
        limit=limit,
        with_meta=headers.get("x-mns-with-meta", "").strip().lower() == "true",
    )


def paged(root: str, item: str, entries: Sequence[Sequence[XmlNode]], next_marker: str) -> bytes:
    """`<Queues><Queue>…</Queue>…<NextMarker/></Queues>`; NextMarker only when another page exists."""
    children: list[XmlNode] = [(item, list(entry)) for entry in entries]
    if next_marker:
        children.append(("NextMarker", next_marker))
    return document(root, children)
