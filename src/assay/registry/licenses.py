"""The license of a served file, from core metadata the registry already holds.

The PEP 658 ``.metadata`` file when it was fetched, else the ``METADATA`` of a
stored wheel or the ``PKG-INFO`` of a stored sdist, read in place: one member
of bounded size, never extracted, nothing executed.  Answers are remembered per
file digest (the bytes behind a digest never change).
"""

from __future__ import annotations

import tarfile
import zipfile
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from assay.environments.licenses import from_metadata
from assay.registry.governance import LicenseSource
from assay.registry.model import DistributionFile
from assay.registry.ports import InternalPackages
from assay.registry.store import FileStore
from assay.registry.uploads import MAX_METADATA_BYTES, metadata_member_kind

MAX_MEMBERS_SEARCHED = 10_000
_SDIST = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")


def license_from_metadata(data: bytes) -> str | None:
    """The SPDX expression core metadata declares (expression, License field, classifiers)."""
    message = BytesHeaderParser(policy=compat32).parsebytes(data)
    found = from_metadata(
        message.get("License-Expression"),
        message.get("License"),
        message.get_all("Classifier") or (),
    )
    return found.spdx if found is not None else None


def metadata_in_archive(path: Path, filename: str) -> bytes | None:
    """The core metadata member of a wheel or sdist on disk (None when absent or too big)."""
    lowered = filename.lower()
    try:
        if lowered.endswith((".whl", ".zip", ".egg")):
            return _from_zip(path)
        if lowered.endswith(_SDIST):
            return _from_tar(path)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError, ValueError):
        return None
    return None


def _from_zip(path: Path) -> bytes | None:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if metadata_member_kind(info.filename) and info.file_size <= MAX_METADATA_BYTES:
                with archive.open(info) as member:
                    return member.read(MAX_METADATA_BYTES + 1)[:MAX_METADATA_BYTES]
    return None


def _from_tar(path: Path) -> bytes | None:
    with tarfile.open(path, "r:*") as archive:
        for seen, info in enumerate(archive):
            if seen >= MAX_MEMBERS_SEARCHED:  # PKG-INFO sits near the front of real sdists
                break
            name = info.name.lstrip("./")
            if (
                info.isfile()
                and metadata_member_kind(name) == "sdist"
                and info.size <= MAX_METADATA_BYTES
            ):
                member = archive.extractfile(info)
                return member.read(MAX_METADATA_BYTES) if member is not None else None
    return None


class StoredLicenses(LicenseSource):
    """Licenses from the registry's verified store and internal packages."""

    def __init__(self, store: FileStore, internal: InternalPackages | None = None) -> None:
        self._store = store
        self._internal = internal
        self._known: dict[str, str | None] = {}

    def _local(self, file: DistributionFile) -> tuple[Path | None, bool]:
        """(path of metadata or archive, whether it is the metadata file itself)."""
        digest = (file.core_metadata or {}).get("sha256", "")
        if digest and self._store.has(digest):
            return self._store.path(digest), True
        if self._store.has(file.sha256):
            return self._store.path(file.sha256), False
        if self._internal is not None and file.url.startswith("internal:"):
            return self._internal.open(file), False
        return None, False

    def fetched(self, file: DistributionFile) -> bool:
        return file.sha256 in self._known or self._local(file)[0] is not None

    def license_of(self, file: DistributionFile) -> str | None:
        if file.sha256 in self._known:
            return self._known[file.sha256]
        path, is_metadata = self._local(file)
        if path is None:
            return None
        try:
            data = (
                path.read_bytes()[:MAX_METADATA_BYTES]
                if is_metadata
                else metadata_in_archive(path, file.filename)
            )
        except OSError:
            data = None
        found = license_from_metadata(data) if data else None
        self._known[file.sha256] = found
        return found
