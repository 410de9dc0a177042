"""Checks for the weight formats that are not pickles: safetensors, ``.npy``, Keras.

Each check takes bytes already read (bounded by the caller) and returns
findings plus facts worth recording in an AIBOM.  None of them loads a model.
"""

from __future__ import annotations

import ast
import json
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from assay.advisories.severity import Level
from assay.vetting import findings as rules
from assay.vetting.findings import Finding
from assay.vetting.joblib_arrays import itemsize
from assay.vetting.pickle_machine import PickleReport
from assay.vetting.pickles import scan_pickle_into

MAX_SAFETENSORS_HEADER = 100_000_000  # the safetensors library's own limit
MAX_NPY_HEADER = 1 << 20
_ST_DTYPES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "C64": 8,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}
NPY_MAGIC = b"\x93NUMPY"


@dataclass(slots=True)
class Checked:
    """Findings and facts from one non-pickle check."""

    findings: list[Finding] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    globals: set[str] = field(default_factory=set)


# -- safetensors ------------------------------------------------------------------------------


def check_safetensors(head: bytes, size: int, file: str) -> Checked:
    """Validate a safetensors header; ``head`` holds at least the first 8 + header bytes."""
    out = Checked()

    def bad(text: str, offset: int | None = 0) -> Checked:
        out.findings.append(
            Finding(file, None, offset, rules.SAFETENSORS_HEADER, Level.HIGH, "header", text)
        )
        return out

    if size < 8 or len(head) < 8:
        return bad("file is shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", head[:8])
    if length > MAX_SAFETENSORS_HEADER:
        return bad(f"header length {length} exceeds the {MAX_SAFETENSORS_HEADER} byte limit")
    if 8 + length > size or 8 + length > len(head):
        return bad(f"header length {length} runs past the end of the file ({size} bytes)")
    raw = head[8 : 8 + length]
    if not raw.startswith(b"{"):
        return bad("header does not start with '{'", 8)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return bad(f"header is not valid UTF-8 JSON: {exc}", 8)
    if not isinstance(header, dict):
        return bad("header is not a JSON object", 8)
    data_size = size - 8 - length
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            bad("__metadata__ must map strings to strings", 8)
        else:
            out.details.extend((f"metadata.{k}", v) for k, v in sorted(metadata.items()))
    spans, params, dtypes = _tensor_spans(header, bad)
    _check_coverage(spans, data_size, bad)
    out.details.extend(
        [
            ("tensors", str(len(spans))),
            ("parameters", str(params)),
            ("dtypes", ", ".join(sorted(dtypes))),
        ]
    )
    return out


def _check_coverage(
    spans: list[tuple[int, int, str]], data_size: int, bad: Callable[[str, int], object]
) -> None:
    """Tensors must tile the data section exactly: no overlap, no gap, nothing after."""
    cursor = 0
    for begin, end, name in sorted(spans):
        if begin < cursor:
            bad(f"tensor {name!r} overlaps the tensor before it (offset {begin} < {cursor})", 8)
        elif begin > cursor:
            bad(f"{begin - cursor} bytes before tensor {name!r} are not described by the header", 8)
        cursor = max(cursor, end)
    if cursor != data_size:
        bad(f"tensors cover {cursor} bytes but the data section holds {data_size} bytes", 8)


def _tensor_spans(
    header: dict[str, Any], bad: Callable[[str, int], object]
) -> tuple[list[tuple[int, int, str]], int, set[str]]:
    spans: list[tuple[int, int, str]] = []
    params = 0
    dtypes: set[str] = set()
    for name, info in header.items():
        problem = _tensor_problem(info)
        if problem:
            bad(f"tensor {name!r}: {problem}", 8)
            continue
        begin, end = info["data_offsets"]
        spans.append((begin, end, name))
        params += math.prod(info["shape"])
        dtypes.add(info["dtype"])
    return spans, params, dtypes


def _tensor_problem(info: Any) -> str | None:
    if not isinstance(info, dict):
        return "entry is not an object"
    extra = set(info) - {"dtype", "shape", "data_offsets"}
    if extra:
        return f"unexpected keys {sorted(extra)}"
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in _ST_DTYPES:
        return f"unknown dtype {dtype!r}"
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        return "shape must be a list of non-negative integers"
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(n, int) and n >= 0 for n in offsets)
        or offsets[0] > offsets[1]
    ):
        return "data_offsets must be [begin, end] with 0 <= begin <= end"
    expected = math.prod(shape) * _ST_DTYPES[str(dtype)]
    if offsets[1] - offsets[0] != expected:
        return f"data_offsets span {offsets[1] - offsets[0]} bytes, shape and dtype need {expected}"
    return None


# -- NumPy .npy -------------------------------------------------------------------------------


def check_npy(
    head: bytes, size: int, file: str, member: str | None, read_all: Callable[[], bytes]
) -> Checked:
    """Parse a ``.npy`` header; object arrays are a finding and their pickle is scanned."""
    out = Checked()

    def bad(text: str, offset: int = 0) -> Checked:
        out.findings.append(Finding(file, member, offset, rules.MALFORMED, Level.HIGH, "npy", text))
        return out

    if not head.startswith(NPY_MAGIC) or len(head) < 10:
        return bad("could not be fully analysed: not a NumPy .npy file (bad magic)")
    major = head[6]
    if major == 1:
        (length,), start = struct.unpack("<H", head[8:10]), 10
    elif major in {2, 3} and len(head) >= 12:
        (length,), start = struct.unpack("<I", head[8:12]), 12
    else:
        return bad(f"could not be fully analysed: unsupported .npy version {major}")
    if length > MAX_NPY_HEADER or start + length > len(head):
        return bad("could not be fully analysed: header truncated or too long", 8)
    try:
        text = head[start : start + length].decode("latin1" if major < 3 else "utf-8")
        header = ast.literal_eval(text)  # literals only: never evaluates code
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        return bad("could not be fully analysed: header is not a Python literal", start)
    if not isinstance(header, dict) or not {"descr", "shape", "fortran_order"} <= set(header):
        return bad("could not be fully analysed: header lacks descr/shape/fortran_order", start)
    descr, shape = header["descr"], header["shape"]
    out.details.extend([("dtype", str(descr)), ("shape", str(shape))])
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        return bad("could not be fully analysed: shape is not a tuple of sizes", start)
    if _has_object(descr):
        out.findings.append(
            Finding(
                file,
                member,
                start + length,
                rules.NPY_OBJECT,
                Level.MEDIUM,
                f"dtype {descr!r}",
                "object array: numpy.load(allow_pickle=True) unpickles the data that follows",
            )
        )
        data = read_all()
        report = PickleReport()
        scan_pickle_into(data[start + length :], file, member, report)
        out.findings.extend(_shift(f, start + length) for f in report.findings)
        out.globals |= report.globals
        return out
    size_each = itemsize(descr) if isinstance(descr, str) else None
    if size_each is not None and size - start - length < math.prod(shape) * size_each:
        return bad("could not be fully analysed: array data truncated", start + length)
    return out


def _shift(finding: Finding, by: int) -> Finding:
    if finding.offset is None:
        return finding
    return Finding(
        finding.file,
        finding.member,
        finding.offset + by,
        finding.rule,
        finding.severity,
        finding.subject,
        finding.message,
    )


def _has_object(descr: Any) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, list | tuple):
        return any(_has_object(part) for part in descr)
    return False


# -- Keras ------------------------------------------------------------------------------------


def check_keras_config(config: Any, file: str, member: str | None) -> Checked:
    """Flag ``Lambda`` layers and custom (non-Keras) classes in a Keras model config."""
    out = Checked()
    for node in _walk(config):
        class_name = node.get("class_name")
        if not isinstance(class_name, str):
            continue
        if class_name in {"Lambda", "TFOpLambda"}:
            layer = node.get("config", {})
            name = layer.get("name") if isinstance(layer, dict) else None
            out.findings.append(
                Finding(
                    file,
                    member,
                    None,
                    rules.KERAS_LAMBDA,
                    Level.HIGH,
                    f"{class_name} {name or ''}".strip(),
                    "Lambda layers store Python bytecode that runs when the model is loaded "
                    "with safe_mode=False",
                )
            )
        module = node.get("module")
        if isinstance(module, str) and module and not module.startswith(("keras", "tensorflow")):
            out.findings.append(
                Finding(
                    file,
                    member,
                    None,
                    rules.UNKNOWN_GLOBAL,
                    Level.MEDIUM,
                    f"{module}.{class_name}",
                    "a custom class: loading the model imports its module",
                )
            )
    return out


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node.startswith("{") and '"class_name"' in node:
            try:  # Keras 2 nests configs as JSON strings (HDF5 model_config)
                stack.append(json.loads(node))
            except (json.JSONDecodeError, RecursionError):
                continue


H5_MAGIC = b"\x89HDF\r\n\x1a\n"
_LAMBDA_MARKERS = (b'"class_name": "Lambda"', b'"class_name":"Lambda"')


def lambda_offsets(chunks: Iterator[tuple[int, bytes]]) -> list[int]:
    """Offsets of Lambda layer markers in a byte stream given as (offset, chunk) pairs."""
    hits: list[int] = []
    tail, tail_at = b"", 0
    for at, chunk in chunks:
        window = tail + chunk
        base = at - len(tail)
        for marker in _LAMBDA_MARKERS:
            start = 0
            while (index := window.find(marker, start)) >= 0:
                if base + index not in hits:
                    hits.append(base + index)
                start = index + 1
        tail, tail_at = window[-32:], at
    del tail_at
    return sorted(hits)
