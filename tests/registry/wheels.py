"""Real distributions of tiny packages for the registry tests: wheels and sdists.

``build_wheel`` follows the wheel spec 1.0 (``METADATA``, ``WHEEL`` and a
``RECORD`` with a sha256 and size for every file), so pip and uv install the
result; ``build_sdist`` writes ``PKG-INFO``, ``pyproject.toml`` and the module.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.utils import canonicalize_name

# A fixed time for reproducible archives (zip needs >= 1980).
_EPOCH = (2020, 1, 1, 0, 0, 0)
OLD = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Dist:
    """One release of a tiny package, as the test wants it."""

    name: str
    version: str
    license_expression: str | None = "MIT"
    license_classifiers: tuple[str, ...] = ()
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    summary: str = "A tiny package built by the assay tests."
    upload_time: datetime = OLD
    yanked: str | None = None  # the yank reason ("" = yanked without a reason)
    payload: bytes = b""  # extra bytes in the module, to make a file bigger

    @property
    def project(self) -> str:
        return canonicalize_name(self.name)

    @property
    def stem(self) -> str:
        """The distribution name as file names spell it (normalised, ``-`` -> ``_``)."""
        return self.project.replace("-", "_")

    @property
    def module(self) -> str:
        return self.stem


def metadata_text(dist: Dist) -> str:
    """Core metadata 2.4 (``License-Expression``) of ``dist``."""
    lines = ["Metadata-Version: 2.4", f"Name: {dist.name}", f"Version: {dist.version}"]
    lines.append(f"Summary: {dist.summary}")
    if dist.license_expression is not None:
        lines.append(f"License-Expression: {dist.license_expression}")
    lines += [f"Classifier: {c}" for c in dist.license_classifiers]
    if dist.requires_python is not None:
        lines.append(f"Requires-Python: {dist.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in dist.requires_dist]
    return "\n".join(lines) + "\n\n"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _zip_write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _module_source(dist: Dist) -> bytes:
    source = f'"""{dist.name} {dist.version}, built by the assay tests."""\n'
    source += f"__version__ = {dist.version!r}\n"
    if dist.payload:
        source += f"PAYLOAD = {dist.payload!r}\n"
    return source.encode("utf-8")


def build_wheel(dist: Dist, directory: Path) -> Path:
    """Write ``<stem>-<version>-py3-none-any.whl`` for ``dist`` into ``directory``."""
    info_dir = f"{dist.stem}-{dist.version}.dist-info"
    files = {
        f"{dist.module}/__init__.py": _module_source(dist),
        f"{info_dir}/METADATA": metadata_text(dist).encode("utf-8"),
        f"{info_dir}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: assay-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n\n"
        ).encode("ascii"),
    }
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files.items())
    record += f"{info_dir}/RECORD,,\n"
    files[f"{info_dir}/RECORD"] = record.encode("utf-8")
    path = directory / f"{dist.stem}-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            _zip_write(archive, name, data)
    return path


def build_sdist(dist: Dist, directory: Path) -> Path:
    """Write ``<stem>-<version>.tar.gz`` (PKG-INFO, pyproject.toml, the module)."""
    base = f"{dist.stem}-{dist.version}"
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        f'\n[project]\nname = "{dist.name}"\nversion = "{dist.version}"\n'
    )
    files = {
        f"{base}/PKG-INFO": metadata_text(dist).encode("utf-8"),
        f"{base}/pyproject.toml": pyproject.encode("utf-8"),
        f"{base}/{dist.module}/__init__.py": _module_source(dist),
    }
    path = directory / f"{base}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size, member.mode, member.mtime = len(data), 0o644, 1577836800
            archive.addfile(member, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return path
