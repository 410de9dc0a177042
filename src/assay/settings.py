"""Where assay keeps its state, from environment variables with embedded defaults.

``ASSAY_HOME``            the data directory (default: ``$XDG_DATA_HOME/assay``,
                          else ``~/.local/share/assay``)
``ASSAY_DB``              the advisory database file (default: ``<home>/advisories.sqlite3``)
``ASSAY_OSV_EXPORT_URL``  what ``assay db sync`` fetches: an OSV ``all.zip`` URL, a
                          ``file://`` URL or a local path (no default: set it to
                          your mirror of OSV's PyPI export)
``ASSAY_INDEX_URL``       the upstream package index(es), space separated; otherwise
                          pip's own configuration (``PIP_INDEX_URL``, ``pip config``)
                          is used (resolved in :mod:`assay.vetting.index_config`)
``ASSAY_POPULAR_PACKAGES``  the top-packages JSON the name checks compare against
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    advisory_db: Path
    osv_export_url: str | None
    popular_packages: Path | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        if env.get("ASSAY_HOME"):
            home = Path(env["ASSAY_HOME"]).expanduser()
        elif env.get("XDG_DATA_HOME"):
            home = Path(env["XDG_DATA_HOME"]).expanduser() / "assay"
        else:
            home = Path.home() / ".local" / "share" / "assay"
        database = Path(env["ASSAY_DB"]).expanduser() if env.get("ASSAY_DB") else None
        return cls(
            home=home,
            advisory_db=database or home / "advisories.sqlite3",
            osv_export_url=env.get("ASSAY_OSV_EXPORT_URL") or None,
            popular_packages=(
                Path(env["ASSAY_POPULAR_PACKAGES"]).expanduser()
                if env.get("ASSAY_POPULAR_PACKAGES")
                else None
            ),
        )
