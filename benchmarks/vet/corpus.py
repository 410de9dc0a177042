"""The two corpora of the vetting benchmark, read without unpacking anything.

* Malware: ``pypi-malware-dev.zip``, an AES-encrypted zip (password ``infected``)
  beside ``manifest-dev.json``.  The zip is opened with ``pyzipper`` and every
  sample is read into memory only: nothing here writes, extracts, imports or runs
  a sample.  Each member's sha256 is checked against the manifest.
* Benign: the wheels and sdists that ``fetch_top.py`` downloaded into its cache
  (outside the repository), listed in the cache's ``manifest.json``.

Both yield :class:`Sample` values ``(identifier, filename, data, malicious)``; the
identifier is short (``name==version`` plus the file kind) and is the only thing
about a sample that the benchmark ever prints.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
MALWARE_ZIP = SHARED / "malware" / "pypi-malware-dev.zip"
MALWARE_MANIFEST = SHARED / "malware" / "manifest-dev.json"
TOP_PACKAGES = SHARED / "popularity" / "top-pypi-packages.min.json"
MALWARE_PASSWORD = b"infected"
BENIGN_MANIFEST = "manifest.json"

T = TypeVar("T")


class CorpusError(Exception):
    """A corpus file is missing or does not have the expected shape."""


@dataclass(frozen=True)
class Sample:
    identifier: str
    filename: str
    data: bytes
    malicious: bool


@dataclass(frozen=True)
class MalwareEntry:
    """One row of ``manifest-dev.json``: a sample and its near-duplicate cluster."""

    path: str  # member name inside the zip, e.g. samples/NAME/VERSION/FILE
    name: str
    version: str
    cluster: str  # samples with the same cluster id are near-duplicates
    cluster_size: int  # how many samples the full corpus has in this cluster
    sha256: str

    @property
    def identifier(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def filename(self) -> str:
        return PurePosixPath(self.path).name


@dataclass(frozen=True)
class BenignEntry:
    """One downloaded file of the benign cache."""

    project: str
    rank: int
    version: str
    kind: str  # "wheel" or "sdist"
    filename: str
    sha256: str
    size: int

    @property
    def identifier(self) -> str:
        return f"{self.project}=={self.version} ({self.kind})"


def _field(row: dict[str, Any], key: str, kind: type[T], where: str) -> T:
    value = row.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CorpusError(f"{where}: field {key!r} must be {kind.__name__}, got {value!r}")
    return value


def parse_malware_manifest(raw: bytes | str, source: str = "manifest") -> list[MalwareEntry]:
    """Parse ``manifest-dev.json``: a JSON list of objects, one per sample."""
    try:
        rows = json.loads(raw)
    except ValueError as exc:
        raise CorpusError(f"{source}: not JSON ({exc})") from None
    if not isinstance(rows, list):
        raise CorpusError(f"{source}: expected a JSON list of samples")
    entries: list[MalwareEntry] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"{source}[{index}]"
        if not isinstance(row, dict):
            raise CorpusError(f"{where}: expected an object")
        entry = MalwareEntry(
            path=_field(row, "path", str, where),
            name=_field(row, "name", str, where),
            version=_field(row, "version", str, where),
            cluster=_field(row, "cluster", str, where),
            cluster_size=_field(row, "cluster_size", int, where),
            sha256=_field(row, "sha256", str, where).lower(),
        )
        path = PurePosixPath(entry.path)
        if path.is_absolute() or ".." in path.parts:
            raise CorpusError(f"{where}: unsafe member path {entry.path!r}")
        if entry.path in seen:
            raise CorpusError(f"{where}: duplicate member path {entry.path!r}")
        seen.add(entry.path)
        entries.append(entry)
    return entries


def parse_top_packages(raw: bytes | str, source: str = "top packages") -> list[str]:
    """Project names of ``top-pypi-packages.min.json``, most downloaded first."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise CorpusError(f"{source}: not JSON ({exc})") from None
    rows = document.get("rows") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise CorpusError(f"{source}: expected an object with a 'rows' list")
    ranked: list[tuple[int, int, str]] = []
    for index, row in enumerate(rows):
        where = f"{source}: rows[{index}]"
        if not isinstance(row, dict):
            raise CorpusError(f"{where}: expected an object")
        ranked.append(
            (-_field(row, "download_count", int, where), index, _field(row, "project", str, where))
        )
    ranked.sort()
    return [name for _, _, name in ranked]


def choose(items: Sequence[T], limit: int | None, seed: int) -> list[T]:
    """``limit`` items drawn with ``random.Random(seed)``, in corpus order (all if no limit)."""
    if limit is None or limit >= len(items):
        return list(items)
    picked = sorted(
        random.Random(seed).sample(  # noqa: S311  # sampling, not secrets
            range(len(items)), max(limit, 0)
        )
    )
    return [items[i] for i in picked]


def load_malware_manifest(path: Path = MALWARE_MANIFEST) -> list[MalwareEntry]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_malware_manifest(raw, str(path))


def iter_malware(
    entries: Sequence[MalwareEntry],
    zip_path: Path = MALWARE_ZIP,
    password: bytes = MALWARE_PASSWORD,
) -> Iterator[Sample]:
    """Read each entry's bytes from the encrypted zip, in memory, checking its sha256."""
    import pyzipper  # type: ignore[import-untyped]  # noqa: PLC0415  # only the malware corpus

    try:
        archive = pyzipper.AESZipFile(zip_path)
    except (OSError, pyzipper.BadZipFile) as exc:
        raise CorpusError(f"{zip_path}: cannot open ({exc})") from None
    with archive:
        archive.setpassword(password)
        members = set(archive.namelist())
        for entry in entries:
            if entry.path not in members:
                raise CorpusError(f"{zip_path}: no member for {entry.identifier}")
            data: bytes = archive.read(entry.path)
            if hashlib.sha256(data).hexdigest() != entry.sha256:
                raise CorpusError(f"{zip_path}: sha256 mismatch for {entry.identifier}")
            yield Sample(entry.identifier, entry.filename, data, malicious=True)


def parse_benign_manifest(raw: bytes | str, source: str = "manifest") -> list[BenignEntry]:
    """The files with status ``ok`` in a ``fetch_top.py`` cache manifest, by rank."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise CorpusError(f"{source}: not JSON ({exc})") from None
    projects = document.get("projects") if isinstance(document, dict) else None
    if not isinstance(projects, dict):
        raise CorpusError(f"{source}: expected an object with a 'projects' object")
    entries: list[BenignEntry] = []
    for project, record in projects.items():
        where = f"{source}: projects[{project!r}]"
        if not isinstance(record, dict) or not isinstance(record.get("files"), list):
            raise CorpusError(f"{where}: expected an object with a 'files' list")
        rank = _field(record, "rank", int, where)
        for index, row in enumerate(record["files"]):
            at = f"{where}.files[{index}]"
            if not isinstance(row, dict):
                raise CorpusError(f"{at}: expected an object")
            if row.get("status") != "ok":
                continue
            filename = _field(row, "filename", str, at)
            if PurePosixPath(filename).name != filename or filename in {"", ".", ".."}:
                raise CorpusError(f"{at}: unsafe file name {filename!r}")
            entries.append(
                BenignEntry(
                    project=project,
                    rank=rank,
                    version=_field(row, "version", str, at),
                    kind=_field(row, "kind", str, at),
                    filename=filename,
                    sha256=_field(row, "sha256", str, at).lower(),
                    size=_field(row, "size", int, at),
                )
            )
    entries.sort(key=lambda e: (e.rank, e.kind, e.filename))
    return entries


def load_benign_manifest(cache_dir: Path) -> list[BenignEntry]:
    path = cache_dir / BENIGN_MANIFEST
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror}); run fetch_top.py first") from None
    return parse_benign_manifest(raw, str(path))


def iter_benign(entries: Sequence[BenignEntry], cache_dir: Path) -> Iterator[Sample]:
    for entry in entries:
        path = cache_dir / "files" / entry.filename
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CorpusError(f"{path}: cannot read ({exc.strerror})") from None
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise CorpusError(f"{path}: sha256 mismatch; delete it and rerun fetch_top.py")
        yield Sample(entry.identifier, entry.filename, data, malicious=False)
