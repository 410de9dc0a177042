"""Scan model weight files statically: detect the format, check it, never load it.

``scan_file`` hashes every file (SHA-256, streamed) and, for the formats that
can run code when loaded, inspects it in memory within fixed bounds:

* pickle streams (``.pkl``, ``.pickle``, ``.joblib``, legacy ``.pt``/``.pth``/``.bin``/``.ckpt``),
  also when gzip/bz2/xz/zlib-compressed as joblib writes them: opcode walk, see
  :mod:`assay.vetting.pickles`;
* zip archives (PyTorch checkpoints, ``.npz``, ``.keras``): every pickle member
  (``*/data.pkl``, ``constants.pkl``, any other ``.pkl``), every ``.npy`` member,
  Keras ``config.json``; TorchScript ``code/`` is reported;
* ``.safetensors``: header validation; ``.npy``: header and object dtype;
* ``.h5``/``.hdf5``: a byte search for Keras ``Lambda`` layer configs (heuristic).

A file that cannot be read, is truncated or exceeds a bound is a finding, not
clean.  Limits can be raised with ``ASSAY_MAX_MODEL_PICKLE_BYTES``.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import lzma
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from assay.advisories.severity import Level
from assay.errors import AssayError
from assay.vetting import findings as rules
from assay.vetting.findings import FileScan, Finding
from assay.vetting.formats import (
    H5_MAGIC,
    MAX_SAFETENSORS_HEADER,
    Checked,
    check_keras_config,
    check_npy,
    check_safetensors,
    lambda_offsets,
)
from assay.vetting.pickle_machine import PickleReport
from assay.vetting.pickles import scan_pickle_into

MAX_PICKLE_BYTES = int(os.environ.get("ASSAY_MAX_MODEL_PICKLE_BYTES", str(512 * 1024 * 1024)))
MAX_ZIP_MEMBERS = 100_000
MAX_H5_SCAN_BYTES = 1 << 30
_CHUNK = 1 << 20

PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".dill"})
_TORCH_SUFFIXES = frozenset({".pt", ".pth", ".bin", ".ckpt"})
_PLAIN_FORMATS = {
    ".onnx": "onnx",
    ".gguf": "gguf",
    ".tflite": "tflite",
    ".msgpack": "msgpack",
    ".pb": "protobuf",
    ".skops": "skops",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".txt": "text",
    ".md": "text",
    ".model": "other",
}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class _Collector:
    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.report = PickleReport()
        self.findings: list[Finding] = []
        self.details: list[tuple[str, str]] = []

    def add(self, checked: Checked) -> None:
        self.findings.extend(checked.findings)
        self.details.extend(checked.details)
        self.report.globals |= checked.globals

    def malformed(self, text: str, member: str | None = None, offset: int | None = None) -> None:
        self.findings.append(
            Finding(
                self.rel,
                member,
                offset,
                rules.MALFORMED,
                Level.HIGH,
                member or "file",
                f"could not be fully analysed: {text}",
            )
        )

    def result(self, fmt: str, size: int, sha256: str) -> FileScan:
        scanned = fmt in _SCANNERS
        found = sorted(set(self.findings + self.report.findings))
        return FileScan(
            path=self.rel,
            format=fmt,
            size=size,
            sha256=sha256,
            findings=tuple(found),
            details=tuple(self.details),
            globals=tuple(sorted(self.report.globals)),
            scanned=scanned,
        )


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _read(path: Path, limit: int) -> bytes | None:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return None if len(data) > limit else data


def _head(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def detect_format(path: Path, head: bytes) -> str:
    """The format name, from the suffix and the first bytes."""
    suffix = path.suffix.lower()
    if path.name == "MLmodel":
        return "yaml"
    if suffix == ".safetensors":
        return "safetensors"
    if suffix == ".npy":
        return "numpy"
    if suffix == ".npz":
        return "numpy-zip"
    if suffix == ".keras":
        return "keras"
    if suffix in {".h5", ".hdf5"}:
        return "hdf5"
    if suffix in PICKLE_SUFFIXES:
        if head.startswith(_ZIP_MAGIC):
            return "pytorch-zip" if suffix in _TORCH_SUFFIXES else "pickle-zip"
        if _compression(head) is not None:
            return (
                "joblib-compressed"
                if suffix != ".pkl" or head[:2] == b"ZF"
                else "pickle-compressed"
            )
        if suffix == ".bin" and not head.startswith(b"\x80"):
            return "other"  # not a pickle: e.g. raw tensors, ONNX external data
        return "joblib" if suffix == ".joblib" else "pickle"
    return _PLAIN_FORMATS.get(suffix, "other")


def _compression(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith((b"\xfd7zXZ", b"\x5d\x00\x00")):
        return "lzma"
    if head.startswith(b"ZF"):
        return "joblib-zlib"
    if head[:1] == b"\x78" and head[1:2] in {b"\x01", b"\x5e", b"\x9c", b"\xda"}:
        return "zlib"
    return None


def _decompress(data: bytes, kind: str, limit: int) -> bytes:
    """Decompress in memory, refusing output larger than ``limit``."""
    if kind == "joblib-zlib":  # "ZF" + 0x + hex length + padding, then a zlib stream
        start = data.find(b"x", 4)
        data, kind = data[start:] if start > 0 else data[2:], "zlib"
    decompressor: Any
    if kind == "gzip":  # gzip read through zlib so the output size stays bounded
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif kind == "zlib":
        decompressor = zlib.decompressobj()
    elif kind == "bz2":
        decompressor = bz2.BZ2Decompressor()
    else:
        decompressor = lzma.LZMADecompressor()
    out: bytes = decompressor.decompress(data, limit + 1)
    if len(out) > limit:
        raise ValueError(f"decompresses to more than {limit} bytes")
    eof = getattr(decompressor, "eof", True)
    if not eof:
        raise ValueError("compressed stream is truncated")
    return out


def scan_file(path: Path, rel: str) -> FileScan:
    """Hash and scan one file; every failure becomes a finding."""
    collector = _Collector(rel)
    try:
        sha, size = sha256_file(path)
        head = _head(path, 64)
    except OSError as exc:
        collector.malformed(f"cannot read: {exc.strerror or exc}")
        return collector.result("other", 0, "0" * 64)
    fmt = detect_format(path, head)
    try:
        _SCANNERS.get(fmt, _no_scan)(path, size, collector)
    except OSError as exc:
        collector.malformed(f"cannot read: {exc.strerror or exc}")
    return collector.result(fmt, size, sha)


def _no_scan(path: Path, size: int, collector: _Collector) -> None:
    del path, size, collector


def _scan_pickle_file(path: Path, size: int, collector: _Collector) -> None:
    data = _read(path, MAX_PICKLE_BYTES)
    if data is None:
        collector.malformed(f"larger than the {MAX_PICKLE_BYTES} byte limit for pickle analysis")
        return
    kind = _compression(data[:8])
    if kind is not None:
        try:
            data = _decompress(data, kind, MAX_PICKLE_BYTES)
        except (ValueError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            collector.malformed(f"{kind} data: {exc}")
            return
        collector.details.append(("compression", kind))
    del size
    scan_pickle_into(data, collector.rel, None, collector.report)
    collector.details.append(("pickles", str(collector.report.pickles)))


def _zip_members(path: Path, collector: _Collector) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) for the members worth scanning, read in memory within limits."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        collector.malformed(f"not a readable zip archive: {exc}")
        return
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            collector.malformed(f"more than {MAX_ZIP_MEMBERS} zip members")
            return
        names = [info.filename for info in infos]
        collector.details.append(("members", str(len(infos))))
        if any(PurePosixPath(n).parts[1:2] == ("code",) and n.endswith(".py") for n in names):
            collector.findings.append(
                Finding(
                    collector.rel,
                    None,
                    None,
                    rules.TORCHSCRIPT_CODE,
                    Level.MEDIUM,
                    "code/",
                    "TorchScript archive: torch.jit.load compiles and runs the code it carries",
                )
            )
        for info in infos:
            lower = info.filename.lower()
            if not lower.endswith((".pkl", ".pickle", ".npy", "config.json")):
                continue
            if info.file_size > MAX_PICKLE_BYTES:
                collector.malformed("member larger than the analysis limit", info.filename)
                continue
            try:
                with archive.open(info) as handle:
                    data = handle.read(MAX_PICKLE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError) as exc:
                collector.malformed(f"cannot read member: {exc}", info.filename)
                continue
            if len(data) > MAX_PICKLE_BYTES:
                collector.malformed("member larger than the analysis limit", info.filename)
                continue
            yield info.filename, data


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _scan_zip(path: Path, size: int, collector: _Collector) -> None:
    del size
    for name, data in _zip_members(path, collector):
        lower = name.lower()
        if lower.endswith((".pkl", ".pickle")):
            scan_pickle_into(data, collector.rel, name, collector.report)
        elif lower.endswith(".npy"):
            collector.add(check_npy(data, len(data), collector.rel, name, _constant(data)))
        elif lower.endswith("config.json"):
            try:
                config = json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                collector.malformed(f"invalid JSON: {exc}", name)
                continue
            collector.add(check_keras_config(config, collector.rel, name))


def _scan_safetensors(path: Path, size: int, collector: _Collector) -> None:
    head = _head(path, 8)
    length = int.from_bytes(head[:8], "little") if len(head) == 8 else 0
    if 0 < length <= MAX_SAFETENSORS_HEADER:
        head = _head(path, 8 + length)
    collector.add(check_safetensors(head, size, collector.rel))


def _scan_npy(path: Path, size: int, collector: _Collector) -> None:
    def read_all() -> bytes:
        data = _read(path, MAX_PICKLE_BYTES)
        if data is None:
            collector.malformed("object array larger than the analysis limit")
            return b""
        return data

    collector.add(check_npy(_head(path, 1 << 20), size, collector.rel, None, read_all))


def _scan_h5(path: Path, size: int, collector: _Collector) -> None:
    if not _head(path, 8).startswith(H5_MAGIC):
        collector.malformed("not an HDF5 file (bad signature)")
        return

    def chunks() -> Iterator[tuple[int, bytes]]:
        with path.open("rb") as handle:
            at = 0
            while at < MAX_H5_SCAN_BYTES and (chunk := handle.read(_CHUNK)):
                yield at, chunk
                at += len(chunk)

    for offset in lambda_offsets(chunks()):
        collector.findings.append(
            Finding(
                collector.rel,
                None,
                offset,
                rules.H5_LAMBDA,
                Level.HIGH,
                "Lambda",
                "the Keras model config names a Lambda layer (found by byte search, a heuristic): "
                "loading it runs stored Python bytecode",
            )
        )
    if size > MAX_H5_SCAN_BYTES:
        collector.details.append(("note", f"only the first {MAX_H5_SCAN_BYTES} bytes searched"))


_SCANNERS = {
    "pickle": _scan_pickle_file,
    "joblib": _scan_pickle_file,
    "pickle-compressed": _scan_pickle_file,
    "joblib-compressed": _scan_pickle_file,
    "pytorch-zip": _scan_zip,
    "pickle-zip": _scan_zip,
    "numpy-zip": _scan_zip,
    "keras": _scan_zip,
    "safetensors": _scan_safetensors,
    "numpy": _scan_npy,
    "hdf5": _scan_h5,
}
SCANNED_FORMATS = frozenset(_SCANNERS)


class TooManyFilesError(AssayError):
    exit_code = 3


def scan_directory(root: Path, max_files: int = 10_000) -> list[FileScan]:
    """Scan every regular file under ``root`` (``.git`` skipped), sorted by path."""
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts
    )
    if len(files) > max_files:
        raise TooManyFilesError(f"{root}: more than {max_files} files; is this a model directory?")
    return [scan_file(p, p.relative_to(root).as_posix()) for p in files]
