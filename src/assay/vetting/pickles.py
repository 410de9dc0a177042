"""Static analysis of pickle streams: walk the opcodes, never unpickle.

A small symbolic machine follows the unpickler's stack and memo (strings,
numbers, tuples, lists, dicts, imported globals and calls) so that
``STACK_GLOBAL`` is resolved from the strings actually on the stack, even when
they were memoised and fetched back with ``BINGET``, and calls (``REDUCE``,
``NEWOBJ``, ``OBJ``, ``INST``) are tied to what they call.  Every global outside
the allowlist (:mod:`assay.vetting.allowlist`) is a finding; so is any call of
something that is not a plain imported global, any ``STACK_GLOBAL`` whose
operands are not constant strings, and any use of the extension registry.

Anything the walker cannot follow (truncated stream, unknown opcode, stack
underflow, a memo slot never written) is a ``file-not-fully-analysed``
finding: the scanner fails closed, it never calls such a file clean.

joblib streams are followed through the raw array bytes joblib writes after a
``NumpyArrayWrapper`` (their length comes from the wrapper's shape and dtype;
object arrays are a nested pickle, scanned too).  Legacy (non-zip) PyTorch
files are five pickles followed by raw storage bytes.
"""

from __future__ import annotations

import contextlib
import io
import math
import pickletools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from assay.advisories.severity import Level
from assay.vetting import findings as rules
from assay.vetting.allowlist import is_allowed, severity_of
from assay.vetting.findings import Finding
from assay.vetting.joblib_arrays import Call, Global, dtype_code, is_joblib_wrapper, itemsize
from assay.vetting.pickle_machine import (
    UNKNOWN,
    Machine,
    MalformedError,
    PickleReport,
)

_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_MAX_PICKLES = 64  # concatenated pickles followed in one stream
_MAX_NESTING = 4  # pickles inside joblib object arrays inside pickles ...


class _Scanner:
    """Scans every pickle in one byte string (a file or a zip member)."""

    def __init__(self, file: str, member: str | None, report: PickleReport, depth: int) -> None:
        self.file = file
        self.member = member
        self.report = report
        self.depth = depth
        self._seen: set[tuple[str, str]] = set()

    def finding(self, offset: int | None, rule: str, level: Level, subject: str, text: str) -> None:
        self.report.findings.append(
            Finding(self.file, self.member, offset, rule, level, subject, text)
        )

    def import_global(self, module: str, name: str, pos: int) -> Global:
        ref = Global(module, name, pos)
        self.report.globals.add(ref.dotted)
        if not is_allowed(module, name) and (module, name) not in self._seen:
            self._seen.add((module, name))
            level = severity_of(module, name)
            rule = rules.DANGEROUS_GLOBAL if level is Level.CRITICAL else rules.UNKNOWN_GLOBAL
            why = (
                "can run commands, code or I/O when the file is loaded"
                if level is Level.CRITICAL
                else "is not on the allowlist of known-safe ML globals; loading imports it"
            )
            self.finding(pos, rule, level, ref.dotted, f"imports {ref.dotted}, which {why}")
        return ref

    def dynamic_global(self, pos: int) -> None:
        self.finding(
            pos,
            rules.DYNAMIC_GLOBAL,
            Level.CRITICAL,
            "STACK_GLOBAL",
            "imports a global whose module or name is computed at load time: it cannot be checked",
        )

    def check_call(self, func: Any, pos: int, opcode: str) -> None:
        if isinstance(func, Global):
            return
        self.finding(
            pos,
            rules.COMPUTED_CALL,
            Level.HIGH,
            opcode,
            f"{opcode} calls {_describe(func)}, not a plain imported global (e.g. a getattr chain)",
        )

    def extension(self, opcode: str, pos: int) -> None:
        self.finding(
            pos,
            rules.EXTENSION_CODE,
            Level.HIGH,
            opcode,
            "loads an object from the copyreg extension registry: it cannot be checked statically",
        )

    # -- walking ---------------------------------------------------------------------------

    def scan(self, data: bytes) -> None:
        stream = io.BytesIO(data)
        try:
            self._scan_stream(stream, len(data))
        except MalformedError as exc:
            where = f" at offset {exc.offset}" if exc.offset is not None else ""
            self.finding(
                exc.offset,
                rules.MALFORMED,
                Level.HIGH,
                "pickle",
                f"could not be fully analysed{where}: {exc.message}",
            )

    def _scan_stream(self, stream: io.BytesIO, size: int) -> None:
        first = self._scan_one(stream)
        legacy_torch = first == _TORCH_LEGACY_MAGIC
        count = 1
        while stream.tell() < size:
            if legacy_torch and count == 5:
                return  # the rest is raw tensor storage, read as bytes by torch.load
            start = stream.tell()
            if count >= _MAX_PICKLES:
                raise MalformedError(start, f"more than {_MAX_PICKLES} pickles in one stream")
            if stream.getbuffer()[start] != 0x80 and not legacy_torch:
                self.finding(
                    start,
                    rules.TRAILING_DATA,
                    Level.LOW,
                    f"{size - start} bytes",
                    f"{size - start} bytes after the last pickle were not analysed",
                )
                return
            self._scan_one(stream)
            count += 1
        if legacy_torch and count < 5:
            raise MalformedError(size, "legacy PyTorch file ends before its storage keys")

    def _scan_one(self, stream: io.BytesIO) -> Any:
        """Walk one pickle (up to STOP); returns its value when it is a plain literal."""
        self.report.pickles += 1
        machine = Machine(self)
        last: Any = None
        while True:
            stopped, last, built = self._walk(machine, stream)
            if stopped:
                return last
            wrapper = built
            if wrapper is None:
                raise MalformedError(stream.tell(), "internal: walk paused without a joblib array")
            self._shadow_walk(machine, stream)
            self._skip_joblib_array(wrapper, stream)

    def _walk(self, machine: Machine, stream: io.BytesIO) -> tuple[bool, Any, Call | None]:
        ops: Iterator[tuple[Any, Any, int | None]] = pickletools.genops(stream)
        pos = stream.tell()
        try:
            for opcode, arg, at in ops:
                pos = at if at is not None else pos
                if opcode.name == "STOP":
                    value = machine.pop(pos)
                    return True, value, None
                built = machine.step(opcode.name, arg, pos)
                if built is not None and is_joblib_wrapper(built.func):
                    return False, None, built
        except MalformedError:
            raise
        except Exception as exc:  # noqa: BLE001 - genops raises ValueError and friends on bad bytes
            raise MalformedError(stream.tell(), f"{type(exc).__name__}: {exc}") from None
        raise MalformedError(stream.tell(), "pickle ends without STOP (truncated)")

    def _shadow_walk(self, machine: Machine, stream: io.BytesIO) -> None:
        """Read the array bytes as plain ``pickle.load`` would, not joblib.

        joblib skips them, but a caller using plain pickle executes them as opcodes;
        for real array data the first byte (the padding length) is no valid opcode.
        """
        start = stream.tell()
        shadow_report = PickleReport()
        shadow = _Scanner(self.file, self.member, shadow_report, self.depth + 1)
        copy = Machine(shadow)
        copy.stack, copy.memo = list(machine.stack), dict(machine.memo)
        with contextlib.suppress(MalformedError):
            shadow._walk(copy, stream)
        stream.seek(start)
        self.report.globals |= shadow_report.globals
        self.report.findings.extend(
            replace(f, message=f"if loaded with plain pickle instead of joblib: {f.message}")
            for f in shadow_report.findings
            if f.rule != rules.MALFORMED
        )

    def _skip_joblib_array(self, wrapper: Call, stream: io.BytesIO) -> None:
        state = wrapper.state if isinstance(wrapper.state, dict) else {}
        shape, dtype = state.get("shape"), dtype_code(state.get("dtype"))
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise MalformedError(stream.tell(), "joblib array wrapper without a readable shape")
        if dtype is None:
            raise MalformedError(stream.tell(), "joblib array wrapper without a readable dtype")
        if dtype.startswith("O"):
            if self.depth >= _MAX_NESTING:
                raise MalformedError(stream.tell(), "joblib object arrays nested too deeply")
            nested = _Scanner(self.file, self.member, self.report, self.depth + 1)
            nested._seen = self._seen
            nested._scan_one(stream)
            return
        size_each = itemsize(dtype)
        if size_each is None:
            raise MalformedError(stream.tell(), f"joblib array with unsupported dtype {dtype!r}")
        if state.get("numpy_array_alignment_bytes") is not None:
            padding = stream.read(1)
            if len(padding) != 1:
                raise MalformedError(stream.tell(), "joblib array padding truncated")
            stream.seek(padding[0], io.SEEK_CUR)
        end = stream.tell() + math.prod(shape) * size_each
        if end > len(stream.getbuffer()):
            raise MalformedError(stream.tell(), "joblib array data truncated")
        stream.seek(end)


def _describe(value: Any) -> str:
    if isinstance(value, Call):
        inner = value.func.dotted if isinstance(value.func, Global) else "a computed object"
        return f"the result of calling {inner}"
    if value is UNKNOWN:
        return "an object the scanner cannot name"
    return f"a {type(value).__name__} constant"


def scan_pickle(data: bytes, file: str, member: str | None = None) -> PickleReport:
    """Scan every pickle in ``data`` (a raw pickle, joblib or legacy PyTorch file)."""
    report = PickleReport()
    _Scanner(file, member, report, 0).scan(data)
    return report


def scan_pickle_into(data: bytes, file: str, member: str | None, report: PickleReport) -> None:
    """Like :func:`scan_pickle`, adding to an existing report (zip members of one file)."""
    _Scanner(file, member, report, 0).scan(data)
