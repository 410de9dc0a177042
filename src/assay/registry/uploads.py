"""The legacy upload API's form, checked: what ``twine upload`` and ``uv publish`` send.

:func:`parse_upload` takes the form fields (first value of each), the file
part's name and its bytes, and returns an :class:`Upload` or raises
:class:`UploadError` with the HTTP status and a one-line reason:

* ``:action`` must be ``file_upload`` and ``protocol_version`` (when sent) ``1``;
* ``name`` and ``version`` must be a valid project name and PEP 440 version;
* the file name must be a wheel (PEP 427/491) or a ``.tar.gz`` sdist (PEP 625)
  of that same project and version, and ``filetype`` must say which;
* every digest sent (``sha256_digest``, ``blake2_256_digest``, ``md5_digest``;
  at least one) must match the bytes;
* the archive must hold exactly one core-metadata file (``*.dist-info/METADATA``
  in a wheel, ``<top>/PKG-INFO`` in an sdist), read in memory through the safe
  archive reader, whose ``Name`` and ``Version`` match the form.

:func:`vet_upload` then runs the package analysis; a score at or above the
threshold refuses the upload (403) with the explanation.  Nothing here touches
the disk or the network.
"""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import Parser

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from assay.errors import AssayError
from assay.registry.ports import Vetter
from assay.vetting.archive_model import ArchiveLimits, MiB
from assay.vetting.archives import ArchiveReading
from assay.vetting.cache import VetSummary
from assay.vetting.engine import analyse_archive
from assay.vetting.scoring import DEFAULT_THRESHOLD

MAX_UPLOAD_BYTES = 100 * MiB  # the largest distribution file accepted (PyPI's default too)
MAX_METADATA_BYTES = 4 * MiB
FILETYPES = {"bdist_wheel": ".whl", "sdist": ".tar.gz"}
_PROJECT = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-f]+$")
_DIGESTS = (
    ("sha256_digest", "sha256"),
    ("blake2_256_digest", "blake2_256"),
    ("md5_digest", "md5"),
)


class UploadError(AssayError):
    """An upload refused, with the HTTP status the upload API answers."""

    status = 400


class UploadTooLargeError(UploadError):
    """The file is over the size limit."""

    status = 413


class UploadRefusedError(UploadError):
    """The package analysis scored the file at or above the threshold."""

    status = 403


@dataclass(frozen=True, slots=True)
class Upload:
    """One accepted distribution file and what the registry keeps about it."""

    name: str  # as the form spelled it
    project: NormalizedName
    version: str  # raw, as the form sent it (valid PEP 440)
    filename: str
    filetype: str  # bdist_wheel | sdist
    content: bytes
    digests: dict[str, str]  # sha256, blake2_256, md5 of the content (lowercase hex)
    requires_python: str | None
    metadata: bytes  # the core-metadata file, served as <file>.metadata (PEP 658)
    summary: str

    @property
    def sha256(self) -> str:
        return self.digests["sha256"]

    def __hash__(self) -> int:
        return hash((self.filename, self.sha256))


def digests_of(content: bytes) -> dict[str, str]:
    return {
        "sha256": hashlib.sha256(content).hexdigest(),
        "blake2_256": hashlib.blake2b(content, digest_size=32).hexdigest(),
        "md5": hashlib.md5(content, usedforsecurity=False).hexdigest(),
    }


def _field(fields: Mapping[str, str], key: str) -> str:
    value = fields.get(key, "").strip()
    if not value:
        raise UploadError(f"the form field {key!r} is missing or empty")
    return value


def _check_action(fields: Mapping[str, str]) -> None:
    action = fields.get(":action", "").strip()
    if action != "file_upload":
        shown = repr(action) if action else "missing"
        raise UploadError(f":action {shown}: only 'file_upload' is supported")
    protocol = fields.get("protocol_version", "1").strip()
    if protocol != "1":
        raise UploadError(f"protocol_version {protocol!r}: only 1 is supported")


def _check_filename(filename: str, filetype: str, project: str, version: Version) -> None:
    if (
        not filename
        or len(filename) > 255
        or posixpath.basename(filename.replace("\\", "/")) != filename
        or any(ord(c) < 32 for c in filename)
    ):
        raise UploadError(f"invalid file name {filename!r}")
    suffix = FILETYPES.get(filetype)
    if suffix is None:
        raise UploadError(f"filetype {filetype!r}: only bdist_wheel and sdist are accepted")
    if not filename.endswith(suffix):
        raise UploadError(f"{filename}: a {filetype} file name must end with {suffix}")
    try:
        if filetype == "bdist_wheel":
            found_name, found_version, _, _ = parse_wheel_filename(filename)
        else:
            found_name, found_version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        raise UploadError(f"{filename}: not a valid {filetype} file name: {exc}") from None
    if found_name != project or found_version != version:
        raise UploadError(
            f"{filename}: the file name is for {found_name} {found_version}, "
            f"but the upload is for {project} {version}"
        )


def _check_digests(fields: Mapping[str, str], digests: dict[str, str], filename: str) -> None:
    sent = 0
    for key, algorithm in _DIGESTS:
        value = fields.get(key, "").strip().lower()
        if not value:
            continue
        sent += 1
        if not _HEX.match(value) or value != digests[algorithm]:
            raise UploadError(f"{filename}: {key} does not match the uploaded content")
    if not sent:
        raise UploadError(f"{filename}: no digest sent (sha256_digest, blake2_256_digest)")


def metadata_member_kind(path: str) -> str | None:
    """ "bdist_wheel" for ``*.dist-info/METADATA``, "sdist" for ``<top>/PKG-INFO``, else None."""
    parts = path.split("/")
    if "!" in path or len(parts) != 2:
        return None
    top, leaf = parts
    if top.endswith(".dist-info") and leaf == "METADATA":
        return "bdist_wheel"
    return "sdist" if leaf == "PKG-INFO" else None


def _metadata_member(filename: str, content: bytes, filetype: str) -> bytes:
    """The one core-metadata file of the archive, read in memory by the safe reader."""
    limits = ArchiveLimits()
    reading = ArchiveReading(content, filename, limits)
    found: list[bytes] = []
    for member in reading:
        if metadata_member_kind(member.path) == filetype:
            found.append(member.data)
    report = reading.report()
    if report.format != ("zip" if filetype == "bdist_wheel" else "tar.gz"):
        raise UploadError(f"{filename}: the content is not a {FILETYPES[filetype]} archive")
    if not report.complete:
        problem = next(p for p in report.problems if p.makes_incomplete)
        raise UploadError(f"{filename}: the archive cannot be read: {problem.describe()}")
    where = "*.dist-info/METADATA" if filetype == "bdist_wheel" else "<top>/PKG-INFO"
    if len(found) != 1:
        count = "no" if not found else str(len(found))
        raise UploadError(f"{filename}: {count} {where} file(s) in the archive, expected one")
    if len(found[0]) > MAX_METADATA_BYTES:
        raise UploadError(f"{filename}: the core metadata is over {MAX_METADATA_BYTES} bytes")
    return found[0]


def _core_fields(metadata: bytes, filename: str) -> dict[str, str]:
    try:
        text = metadata.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadError(f"{filename}: the core metadata is not UTF-8") from None
    message = Parser().parsestr(text, headersonly=True)
    return {key: str(message.get(key, "")).strip() for key in ("Name", "Version", "Summary")} | {
        "Requires-Python": str(message.get("Requires-Python", "")).strip()
    }


def _version(text: str, what: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise UploadError(f"{what} {text!r} is not a valid PEP 440 version") from None


def _requires_python(text: str, filename: str) -> str | None:
    if not text:
        return None
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise UploadError(f"{filename}: Requires-Python {text!r} is not valid") from None
    return text


def parse_upload(
    fields: Mapping[str, str],
    filename: str,
    content: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> Upload:
    """Check one upload form (see the module docstring); the first failure raises."""
    _check_action(fields)
    name = _field(fields, "name")
    if not _PROJECT.match(name):
        raise UploadError(f"name {name!r} is not a valid project name")
    project = canonicalize_name(name)
    raw_version = _field(fields, "version")
    version = _version(raw_version, "version")
    filetype = _field(fields, "filetype")
    if not content:
        raise UploadError("the 'content' file part is missing or empty")
    if len(content) > max_bytes:
        raise UploadTooLargeError(
            f"{filename}: {len(content)} bytes, over the upload limit of {max_bytes} bytes"
        )
    _check_filename(filename, filetype, project, version)
    digests = digests_of(content)
    _check_digests(fields, digests, filename)
    metadata = _metadata_member(filename, content, filetype)
    core = _core_fields(metadata, filename)
    if canonicalize_name(core["Name"]) != project:
        raise UploadError(f"{filename}: the core metadata names {core['Name']!r}, not {name!r}")
    if _version(core["Version"], f"{filename}: core metadata Version") != version:
        raise UploadError(
            f"{filename}: the core metadata says version {core['Version']!r}, not {raw_version!r}"
        )
    declared = core["Requires-Python"] or fields.get("requires_python", "").strip()
    return Upload(
        name=name,
        project=project,
        version=raw_version,
        filename=filename,
        filetype=filetype,
        content=content,
        digests=digests,
        requires_python=_requires_python(declared, filename),
        metadata=metadata,
        summary=core["Summary"] or fields.get("summary", "").strip(),
    )


class UncachedVetter(Vetter):
    """The package analysis without a cache (tests, and a registry built without one)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold

    def cached(self, sha256: str) -> VetSummary | None:
        return None

    async def vet(self, filename: str, data: bytes) -> VetSummary:
        report = await asyncio.to_thread(analyse_archive, filename, data, threshold=self.threshold)
        name, _, rest = filename.partition("-")
        return VetSummary(
            name=name,
            version=rest.partition("-")[0].removesuffix(".tar.gz"),
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
            score=report.score,
            label=report.label,
            reasons=tuple(" ".join(line.split()) for line in report.explanation.splitlines()),
        )


async def vet_upload(
    upload: Upload, vetter: Vetter, threshold: float = DEFAULT_THRESHOLD
) -> VetSummary:
    """The package analysis of an upload; a score at or above ``threshold`` raises 403."""
    summary = vetter.cached(upload.sha256) or await vetter.vet(upload.filename, upload.content)
    if summary.score >= threshold:
        why = "; ".join(summary.reasons) or "no reason recorded"
        raise UploadRefusedError(
            f"{upload.filename}: refused by vetting: score {summary.score:.1f} "
            f"({summary.label}) at or above {threshold:.1f}: {why}"
        )
    return summary
