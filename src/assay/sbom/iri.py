"""RFC 3987 ``IRI-reference`` syntax as one regular expression.

JSON Schema's ``iri-reference`` format (used by every CycloneDX URL field) is
checked by ``jsonschema`` through an Earley parser that takes about 40 ms per
URL and about a second to build; a BOM of a few hundred packages has thousands
of URLs.  This is the same grammar (RFC 3987 section 2.2) written as a regular
expression, checked against that parser in the tests.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

_UCS = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
    "\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd"
    "\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_PRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_UNRESERVED = "A-Za-z0-9\\-._~" + _UCS
_SUB_DELIMS = "!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"
_IPCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SEGMENT = f"{_IPCHAR}*"
_SEGMENT_NZ = f"{_IPCHAR}+"
_SEGMENT_NZ_NC = f"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})+"
_QUERY = f"(?:{_IPCHAR}|[/?{_PRIVATE}])*"
_FRAGMENT = f"(?:{_IPCHAR}|[/?])*"
_USERINFO = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_REG_NAME = f"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_PATH_ABEMPTY = f"(?:/{_SEGMENT})*"
_PATH_ABSOLUTE = f"/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"
_TAIL = f"(?:\\?{_QUERY})?(?:\\#{_FRAGMENT})?"


def _authority(group: str) -> str:
    literal = f"\\[(?P<{group}>[^\\]\\[/?#@]*)\\]"
    return f"(?:{_USERINFO}@)?(?:{literal}|{_REG_NAME})(?::[0-9]*)?"


_HIER = f"(?://{_authority('a')}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_SEGMENT_NZ}(?:/{_SEGMENT})*|)"
_RELATIVE = (
    f"(?://{_authority('b')}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_SEGMENT_NZ_NC}(?:/{_SEGMENT})*|)"
)
_SCHEME = "[A-Za-z][A-Za-z0-9+\\-.]*"

IRI = re.compile(f"{_SCHEME}:{_HIER}{_TAIL}")
IRI_REFERENCE = re.compile(f"(?:{_SCHEME}:{_HIER}|{_RELATIVE}){_TAIL}")
_IP_FUTURE = re.compile(f"v[0-9A-Fa-f]+\\.[A-Za-z0-9\\-._~{_SUB_DELIMS}:]+")


def _literal_ok(literal: str | None) -> bool:
    if literal is None:
        return True
    if _IP_FUTURE.fullmatch(literal):
        return True
    if "%" in literal:  # RFC 3987 has no zone identifiers
        return False
    try:
        ipaddress.IPv6Address(literal)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def is_iri_reference(value: str) -> bool:
    """True when ``value`` is an RFC 3987 IRI-reference."""
    match = IRI_REFERENCE.fullmatch(value)
    return match is not None and _literal_ok(match.group("a") or match.group("b"))


@lru_cache(maxsize=4096)
def is_iri(value: str) -> bool:
    """True when ``value`` is an absolute RFC 3987 IRI (with a scheme)."""
    match = IRI.fullmatch(value)
    return match is not None and _literal_ok(match.group("a"))
