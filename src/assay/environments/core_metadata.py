"""Authors, maintainers, summary and links from core metadata fields.

Pure parsing shared by every reader that sees a distribution's core metadata
(``METADATA`` / ``PKG-INFO`` headers, pip's JSON form of them): the
``Name <email>, Other <e2>`` address lists of ``Author-email`` and
``Maintainer-email``, ``Project-URL: label, url`` entries, and placeholder
values (``UNKNOWN``) that say nothing.  :func:`details` returns the
:class:`~assay.environments.model.Package` keyword arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import getaddresses
from functools import lru_cache
from typing import TypedDict

from assay.environments.model import Party

_PLACEHOLDERS = frozenset({"", "unknown", "none", "n/a"})
# The common shapes ``Name <a@b.org>`` and ``a@b.org``, without RFC 822 quoting or
# comments; anything else goes through ``email.utils.getaddresses`` (which is slow).
_ADDRESS = r"[^\s<>()\[\]\\,;:@\"]+@[^\s<>()\[\]\\,;:@\"]+"
_SIMPLE = re.compile(rf"\s*(?:([^<>()\[\]\\,;:@\"]*?)\s*<({_ADDRESS})>|({_ADDRESS}))\s*")


class Details(TypedDict):
    """The core-metadata fields of :class:`~assay.environments.model.Package`."""

    summary: str | None
    authors: tuple[Party, ...]
    maintainers: tuple[Party, ...]
    homepage: str | None
    download_url: str | None
    project_urls: tuple[tuple[str, str], ...]


def meaningful(value: str | None) -> str | None:
    """The value without surrounding space, or None for empty and placeholder values.

    Folded header lines (a value continued on indented lines) become one line.
    """
    if value is None:
        return None
    if "\n" in value:
        value = " ".join(part.strip() for part in value.split("\n"))
    value = value.strip()
    return None if value.lower() in _PLACEHOLDERS else value


@lru_cache(maxsize=1024)
def parties(names: str | None, emails: str | None) -> tuple[Party, ...]:
    """Parties from ``Author`` / ``Author-email`` (an RFC 822 address list) and the like.

    ``Author-email: Jane <j@x.org>, bob@y.org`` gives two parties; a plain
    ``Author`` name is added first unless an address already carries it (or
    names the first address that has no name).
    """
    found: list[Party] = []
    if emails:
        for raw_name, raw_address in _addresses(emails):
            name, address = raw_name.strip(), raw_address.strip()
            if name or address:
                found.append(Party(name or None, address or None))
    if names and names.strip():
        plain = names.strip()
        if not any(p.name == plain for p in found):
            if found and found[0].name is None:
                found[0] = Party(plain, found[0].email)
            else:
                found.insert(0, Party(plain, None))
    return tuple(found)


def _split_list(text: str) -> list[str]:
    """An address list split on the commas that are not inside quotes or ``<...>``."""
    parts: list[str] = []
    current: list[str] = []
    quoted, angle = False, 0
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            angle += 1
        elif char == ">" and not quoted and angle:
            angle -= 1
        elif char == "," and not quoted and not angle:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def _addresses(emails: str) -> list[tuple[str, str]]:
    """(name, address) pairs of an address list; a part with no ``@`` is a name only.

    ``Author-email: John Doe`` is a common mistake: ``getaddresses`` would read
    it as the address ``John`` and drop ``Doe``.
    """
    found: list[tuple[str, str]] = []
    for part in _split_list(emails):
        match = _SIMPLE.fullmatch(part)
        if match is not None:
            name, bracketed, bare = match.groups()
            found.append((" ".join(name.split()), bracketed) if bracketed else ("", bare))
        elif "@" not in part:
            found.append((" ".join(part.replace('"', " ").split()), ""))
        else:
            found.extend(
                (name, address) if "@" in address else (f"{name} {address}".strip(), "")
                for name, address in getaddresses([part])
            )
    return found


def project_urls(entries: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``Project-URL: label, url`` entries as (label, url) pairs in order; bad ones skipped."""
    found: list[tuple[str, str]] = []
    for raw in entries:
        entry = " ".join(part.strip() for part in raw.split("\n")) if "\n" in raw else raw
        label, sep, url = entry.partition(",")
        if sep and url.strip():
            found.append((label.strip() or "url", url.strip()))
    return tuple(found)


def details(
    *,
    summary: str | None = None,
    author: str | None = None,
    author_email: str | None = None,
    maintainer: str | None = None,
    maintainer_email: str | None = None,
    home_page: str | None = None,
    download_url: str | None = None,
    project_url: Iterable[str] = (),
) -> Details:
    """Package keyword arguments from raw core-metadata values (placeholders dropped)."""
    return Details(
        summary=meaningful(summary),
        authors=parties(meaningful(author), meaningful(author_email)),
        maintainers=parties(meaningful(maintainer), meaningful(maintainer_email)),
        homepage=meaningful(home_page),
        download_url=meaningful(download_url),
        project_urls=project_urls(project_url),
    )
