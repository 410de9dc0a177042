"""What ``assay registry status`` and the admin API report (one JSON shape, two sources).

:meth:`RegistryService.status` reports a running registry (its in-memory
counters included); :func:`read_status` reads the same from a state directory
without a server, strictly read-only (an empty or missing directory reports
zeros and creates nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assay.registry.model import IndexConfig
from assay.registry.state import RegistryState
from assay.registry.store import usage

STATE_FILE = "registry.sqlite3"
FILES_DIR = "files"


def build_status(
    state: RegistryState | None, files_root: Path, indexes: Sequence[IndexConfig]
) -> dict[str, Any]:
    """The status document: indexes, cache size, hit rate, counters, blocks, pending vetting."""
    counters = state.counters() if state is not None else {}
    files, size = usage(files_root)
    hits = counters.get("page_hits", 0) + counters.get("file_hits", 0)
    asked = hits + counters.get("page_misses", 0) + counters.get("file_misses", 0)
    blocked = state.blocked() if state is not None else []
    pending = state.pending() if state is not None else []
    return {
        "indexes": [{"name": i.name, "stage": i.stage, "path": i.simple_path} for i in indexes],
        "cache": {
            "files": files,
            "bytes": size,
            "projects": len(state.projects()) if state is not None else 0,
        },
        "hit_rate": round(hits / asked, 4) if asked else None,
        "counters": counters,
        "blocked": [
            {
                "at": b.at,
                "index": b.index,
                "stage": b.stage,
                "project": b.project,
                "filename": b.filename,
                "sha256": b.sha256,
                "reasons": b.reasons,
            }
            for b in blocked
        ],
        "pending_vetting": [{"sha256": s, "filename": f, "since": t} for s, f, t in pending],
    }


def read_status(state_dir: Path, indexes: Sequence[IndexConfig] = ()) -> dict[str, Any]:
    """The status of the registry whose state is in ``state_dir``, without a server.

    Counters are those the server last wrote (it writes them every few
    seconds and at shutdown).  RegistryError when the state file is not one.
    """
    path = Path(state_dir) / STATE_FILE
    if not path.is_file():
        return build_status(None, Path(state_dir) / FILES_DIR, indexes)
    state = RegistryState(path, read_only=True)
    try:
        return build_status(state, Path(state_dir) / FILES_DIR, indexes)
    finally:
        state.close()
