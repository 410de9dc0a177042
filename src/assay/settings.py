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
``ASSAY_POLICY``          the policy file (default: ``./assay-policy.toml`` when it
                          exists, else ``<home>/assay-policy.toml``)
``ASSAY_AUDIT_LOG``       the signed, hash-chained decision log (default:
                          ``<home>/audit-log.jsonl``)
``ASSAY_SIGNING_KEY``     the Ed25519 private key (PEM) that signs the log and
                          attestations, created on first use (default:
                          ``<home>/keys/assay-ed25519.pem``)
``ASSAY_REGISTRY_DIR``    the registry's state: SQLite file and content-addressed
                          file cache (default: ``<home>/registry``)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

POLICY_FILE_NAME = "assay-policy.toml"


def _path(env: Mapping[str, str], key: str) -> Path | None:
    return Path(env[key]).expanduser() if env.get(key) else None


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    advisory_db: Path
    osv_export_url: str | None
    popular_packages: Path | None
    policy_file: Path
    audit_log: Path
    signing_key: Path
    registry_dir: Path

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        if env.get("ASSAY_HOME"):
            home = Path(env["ASSAY_HOME"]).expanduser()
        elif env.get("XDG_DATA_HOME"):
            home = Path(env["XDG_DATA_HOME"]).expanduser() / "assay"
        else:
            home = Path.home() / ".local" / "share" / "assay"
        local_policy = (cwd if cwd is not None else Path.cwd()) / POLICY_FILE_NAME
        return cls(
            home=home,
            advisory_db=_path(env, "ASSAY_DB") or home / "advisories.sqlite3",
            osv_export_url=env.get("ASSAY_OSV_EXPORT_URL") or None,
            popular_packages=_path(env, "ASSAY_POPULAR_PACKAGES"),
            policy_file=_path(env, "ASSAY_POLICY")
            or (local_policy if local_policy.is_file() else home / POLICY_FILE_NAME),
            audit_log=_path(env, "ASSAY_AUDIT_LOG") or home / "audit-log.jsonl",
            signing_key=_path(env, "ASSAY_SIGNING_KEY") or home / "keys" / "assay-ed25519.pem",
            registry_dir=_path(env, "ASSAY_REGISTRY_DIR") or home / "registry",
        )
