"""Parsing the XML that OSS and MNS send back, and writing the XML MNS expects.

The standard library's parser is the only one available in the deployed bundle (no defusedxml), and it
expands internal entities: a response carrying a DTD with nested entity definitions ("billion laughs")
would blow up memory before we saw a single element. The services never send a DTD, so any document
that declares one is refused before it reaches the parser.

>>> root = parse_xml(b"<Error><Code>NoSuchKey</Code></Error>")
>>> child_text(root, "Code")
'NoSuchKey'
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# A DTD is the only place entities can be declared, so refusing DOCTYPE (and ENTITY, for clarity) closes
# the entity-expansion and external-entity doors whatever the parser's own defaults are.
_FORBIDDEN_MARKUP = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# XML 1.0 allows tab, newline and carriage return among the C0 controls; nothing else below 0x20.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class UnsafeXmlError(ValueError):
    """The document declares a DTD or entities, which no service we talk to ever sends."""


def parse_xml(data: bytes | str) -> ET.Element:
    """Parse a service's XML document, refusing DTDs. Raises UnsafeXmlError or ET.ParseError.

    Bytes are decoded as UTF-8 (what OSS and MNS send) so that an encoding declaration cannot smuggle
    markup past the DTD check.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    if _FORBIDDEN_MARKUP.search(text):
        raise UnsafeXmlError("refusing an XML document that declares a DTD or entities")
    return ET.fromstring(text)


def local_name(tag: str) -> str:
    """`{http://mns.aliyuncs.com/doc/v1/}Code` -> `Code`: services differ in whether they use a namespace."""
    return tag.rsplit("}", 1)[-1]


def child(element: ET.Element, name: str) -> ET.Element | None:
    """The first direct child with this local name, namespace or not."""
    for item in element:
        if local_name(item.tag) == name:
            return item
    return None


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Every direct child with this local name, in document order."""
    return [item for item in element if local_name(item.tag) == name]


def child_text(element: ET.Element, name: str, default: str = "") -> str:
    """Text of the first direct child with this local name; `default` when absent, "" when empty."""
    found = child(element, name)
    if found is None:
        return default
    return found.text or ""


def child_texts(element: ET.Element) -> dict[str, str]:
    """Every direct child's text by local name, the first of each name winning (as `child_text` finds
    it): one pass over the children instead of one per field, for elements read field by field in bulk
    (a 1,000-entry listing's `Contents`).

    >>> child_texts(parse_xml(b"<C><Key>a</Key><Size/><Key>b</Key></C>"))
    {'Key': 'a', 'Size': ''}
    """
    texts: dict[str, str] = {}
    for item in element:
        texts.setdefault(local_name(item.tag), item.text or "")
    return texts


def has_invalid_xml_chars(text: str) -> bool:
    """True when `text` holds characters XML 1.0 cannot carry (most C0 controls)."""
    return _INVALID_XML_CHARS.search(text) is not None


def escape_text(text: str) -> str:
    """Escape element text the way the MNS SDK's minidom writer does (`&`, `<`, `>` and `"`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").replace(">", "&gt;")
