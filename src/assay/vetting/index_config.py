"""Which package index ``assay vet name==version`` reads: the one pip is configured with.

Order: ``ASSAY_INDEX_URL`` (one or more URLs, space separated) when set; else
``PIP_INDEX_URL`` and ``PIP_EXTRA_INDEX_URL``; else ``index-url`` and
``extra-index-url`` from ``pip config list`` (the last value pip prints wins,
as in pip); with no primary index configured, the default of the installed
pip (asked from pip itself, so no host is written in assay), plus the extra
indexes.  Without pip and without configuration, vetting by name is refused
with a message saying what to set.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping

from assay.errors import UsageError

NO_INDEX = (
    "no package index configured: set ASSAY_INDEX_URL, PIP_INDEX_URL or pip's index-url "
    "(pip config set global.index-url URL) to vet a name==version target"
)
_LINE = re.compile(r"^(?P<scope>[^.]*)\.(?P<key>[a-z-]+)=(?P<quote>['\"]?)(?P<value>.*)(?P=quote)$")


def pip_config_list() -> str:
    """The output of ``pip config list`` ("" when pip is missing or fails)."""
    if importlib.util.find_spec("pip") is not None:
        command = [sys.executable, "-m", "pip", "config", "list"]
    elif pip := shutil.which("pip"):
        command = [pip, "config", "list"]
    else:
        return ""
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command, no shell
            command, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def pip_default_index() -> str | None:
    """The index URL the installed pip uses when none is configured, or None without pip."""
    try:
        module = importlib.import_module("pip._internal.models.index")
        url = module.PyPI.simple_url
    except (ImportError, AttributeError):
        return None
    return url if isinstance(url, str) and url else None


def parse_pip_config(text: str) -> dict[str, str]:
    """``key -> value`` from ``pip config list`` output; later lines override earlier ones."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            values[match["key"]] = match["value"]
    return values


def configured_indexes(
    environ: Mapping[str, str] | None = None,
    pip_config: Callable[[], str] = pip_config_list,
    pip_default: Callable[[], str | None] = pip_default_index,
) -> list[str]:
    """The index URLs to read, primary first; UsageError when none is configured."""
    env = os.environ if environ is None else environ
    if env.get("ASSAY_INDEX_URL", "").strip():
        return env["ASSAY_INDEX_URL"].split()
    primary = env.get("PIP_INDEX_URL", "").split()
    extra = env.get("PIP_EXTRA_INDEX_URL", "").split()
    if not primary or not extra:
        config = parse_pip_config(pip_config())
        primary = primary or config.get("index-url", "").split()
        extra = extra or config.get("extra-index-url", "").split()
    if not primary:
        primary = [url for url in [pip_default()] if url]
    urls = [url for url in [*primary[:1], *extra] if url]
    if not urls:
        raise UsageError(NO_INDEX)
    return list(dict.fromkeys(urls))
