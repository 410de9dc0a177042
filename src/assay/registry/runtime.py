"""Wiring: a :class:`RegistryService` with the default adapters under ``config.state_dir``.

``<state_dir>/registry.sqlite3`` holds the state, ``<state_dir>/files/`` the
content-addressed files; vetting results go to the shared vet cache
(``<ASSAY_HOME>/vet-cache.sqlite3``) unless another path is given.
"""

from __future__ import annotations

from pathlib import Path

from assay.registry.config import RegistryConfig
from assay.registry.ports import Governor, InternalPackages, RegistryError, Upstream, Vetter
from assay.registry.service import RegistryService
from assay.registry.state import RegistryState
from assay.registry.status import FILES_DIR, STATE_FILE
from assay.registry.store import FileStore
from assay.registry.upstream import HttpUpstream
from assay.registry.vetter import EngineVetter
from assay.settings import Settings
from assay.vetting.cache import default_path

_DEFAULT = object()


def build_service(
    config: RegistryConfig,
    *,
    governor: Governor | None = None,
    internal: InternalPackages | None = None,
    upstream: Upstream | None = None,
    vetter: Vetter | object | None = _DEFAULT,
    vet_cache: Path | None = None,
) -> RegistryService:
    """The service for ``config``; ``vetter=None`` turns vetting off (tests)."""
    if upstream is None and not config.upstream_urls:
        raise RegistryError("no upstream index configured: set ASSAY_INDEX_URL or --upstream")
    state = RegistryState(config.state_dir / STATE_FILE)
    try:
        store = FileStore(config.state_dir / FILES_DIR)
        if vetter is _DEFAULT:
            chosen: Vetter | None = EngineVetter(vet_cache or default_path(Settings.from_env()))
        else:
            chosen = vetter if isinstance(vetter, Vetter) else None
        source = upstream or HttpUpstream(config.upstream_urls, timeout=config.upstream_timeout)
    except BaseException:
        state.close()
        raise
    return RegistryService(
        config,
        upstream=source,
        state=state,
        store=store,
        governor=governor,
        vetter=chosen,
        internal=internal,
    )
