"""Adapter: the popular-packages list that the name checks compare against.

The file is the ClickHouse export of PyPI download counts used by the "top PyPI
packages" project (``top-pypi-packages.min.json``)::

    {"last_update": "2026-04-01 06:34:06", "source": "ClickHouse",
     "rows": [{"download_count": 1880218825, "project": "boto3"}, ...]}

Rows are sorted here by download count (highest first); names are PEP 503
normalised.  The path is always given by the caller (``--popular FILE`` or the
``ASSAY_POPULAR_PACKAGES`` environment variable in the CLI): there is no
built-in list.  Unreadable or malformed files raise a
:class:`~assay.environments.ports.ReaderError` (exit code 3) naming the file.
"""

from __future__ import annotations

from pathlib import Path

from assay.environments.ports import ReaderError
from assay.environments.readers._files import load_json, require_list, require_mapping
from assay.vetting.names import PopularPackages, canonicalize

ENV_VAR = "ASSAY_POPULAR_PACKAGES"


def load_popular(path: Path) -> PopularPackages:
    """The popular-packages list in ``path``, most downloaded first."""
    document = require_mapping(path, load_json(path), "a popular-packages document")
    rows = require_list(path, document.get("rows"), '"rows"')
    counted: dict[str, int] = {}
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ReaderError(path, f"rows[{position}] is not an object")
        project, count = row.get("project"), row.get("download_count")
        if not isinstance(project, str) or not project.strip():
            raise ReaderError(path, f'rows[{position}]: "project" is not a name')
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ReaderError(path, f'rows[{position}]: "download_count" is not a count')
        name = canonicalize(project.strip())
        counted[name] = max(count, counted.get(name, 0))
    if not counted:
        raise ReaderError(path, "the popular-packages list is empty")
    ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    updated = document.get("last_update")
    return PopularPackages(
        names=tuple(name for name, _ in ordered),
        downloads=tuple(count for _, count in ordered),
        source=f"{path} ({updated})" if isinstance(updated, str) else str(path),
    )
