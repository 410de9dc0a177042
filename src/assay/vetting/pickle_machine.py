"""The symbolic stack machine behind the pickle scanner (see :mod:`assay.vetting.pickles`).

It follows the unpickler's stack and memo without creating any object, and
reports imports and calls to a :class:`Reporter` (the scanner).
"""

from __future__ import annotations

import pickletools
from dataclasses import dataclass, field
from typing import Any, Protocol

from assay.vetting.findings import Finding
from assay.vetting.joblib_arrays import Call


class Reporter(Protocol):
    """What the machine tells the scanner about."""

    def extension(self, code: Any, pos: int) -> Any: ...

    def import_global(self, module: str, attr: str, pos: int) -> Any: ...

    def dynamic_global(self, pos: int) -> Any: ...

    def check_call(self, func: Any, pos: int, opcode: str) -> None: ...


class _Mark:
    def __repr__(self) -> str:
        return "MARK"


class _Unknown:
    def __repr__(self) -> str:
        return "?"


MARK = _Mark()
UNKNOWN = _Unknown()


class MalformedError(Exception):
    def __init__(self, offset: int | None, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(slots=True)
class PickleReport:
    """Findings and the globals one stream imports."""

    findings: list[Finding] = field(default_factory=list)
    globals: set[str] = field(default_factory=set)
    pickles: int = 0


_STRINGS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
}
_LITERALS = _STRINGS | {
    "INT",
    "BININT",
    "BININT1",
    "BININT2",
    "LONG",
    "LONG1",
    "LONG4",
    "FLOAT",
    "BINFLOAT",
    "BINBYTES",
    "SHORT_BINBYTES",
    "BINBYTES8",
}
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_CALL_OPS = {"GLOBAL", "INST", "STACK_GLOBAL", "REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ", "BUILD"}


class Machine:
    """One pickle's stack and memo, plus the report shared by the whole file."""

    def __init__(self, scanner: Reporter) -> None:
        self.scanner = scanner
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}

    def pop(self, pos: int) -> Any:
        if not self.stack or self.stack[-1] is MARK:
            raise MalformedError(pos, "stack underflow")
        return self.stack.pop()

    def pop_mark(self, pos: int) -> list[Any]:
        items: list[Any] = []
        while self.stack:
            item = self.stack.pop()
            if item is MARK:
                items.reverse()
                return items
            items.append(item)
        raise MalformedError(pos, "no MARK on the stack")

    def step(self, name: str, arg: Any, pos: int) -> Any:
        """Apply one opcode; returns the object a BUILD completed, else None."""
        if name in _CALL_OPS:
            return self._call_op(name, arg, pos)
        self._data_op(name, arg, pos)
        return None

    def _data_op(self, name: str, arg: Any, pos: int) -> None:  # noqa: PLR0912, PLR0915 - opcode table
        stack = self.stack
        if name in _LITERALS:
            stack.append(arg)
        elif name in _CONSTANTS:
            stack.append(_CONSTANTS[name])
        elif name == "MARK":
            stack.append(MARK)
        elif name in {"PUT", "BINPUT", "LONG_BINPUT"}:
            if not stack:
                raise MalformedError(pos, "memo PUT with an empty stack")
            self.memo[int(arg)] = stack[-1]
        elif name == "MEMOIZE":
            if not stack:
                raise MalformedError(pos, "MEMOIZE with an empty stack")
            self.memo[len(self.memo)] = stack[-1]
        elif name in {"GET", "BINGET", "LONG_BINGET"}:
            if int(arg) not in self.memo:
                raise MalformedError(pos, f"memo slot {arg} read before it was written")
            stack.append(self.memo[int(arg)])
        elif name == "EMPTY_TUPLE":
            stack.append(())
        elif name in {"TUPLE1", "TUPLE2", "TUPLE3"}:
            count = int(name[-1])
            items = [self.pop(pos) for _ in range(count)]
            stack.append(tuple(reversed(items)))
        elif name == "TUPLE":
            stack.append(tuple(self.pop_mark(pos)))
        elif name == "EMPTY_LIST":
            stack.append([])
        elif name == "LIST":
            stack.append(self.pop_mark(pos))
        elif name == "APPEND":
            value = self.pop(pos)
            target = self._top(pos)
            if isinstance(target, list):
                target.append(value)
        elif name == "APPENDS":
            values = self.pop_mark(pos)
            target = self._top(pos)
            if isinstance(target, list):
                target.extend(values)
        elif name == "EMPTY_DICT":
            stack.append({})
        elif name == "DICT":
            stack.append(_pairs_to_dict({}, self.pop_mark(pos)))
        elif name == "SETITEM":
            value, key = self.pop(pos), self.pop(pos)
            _pairs_to_dict(self._top(pos), [key, value])
        elif name == "SETITEMS":
            items = self.pop_mark(pos)
            _pairs_to_dict(self._top(pos), items)
        elif name in {"EXT1", "EXT2", "EXT4"}:
            self.scanner.extension(name, pos)
            stack.append(UNKNOWN)
        elif name not in {"PROTO", "FRAME", "STOP"}:
            self._generic(name, pos)

    def _call_op(self, name: str, arg: Any, pos: int) -> Any:  # noqa: PLR0912 - opcode table
        stack = self.stack
        if name in {"GLOBAL", "INST"}:
            module, _, attr = str(arg).partition(" ")
            ref = self.scanner.import_global(module, attr, pos)
            if name == "GLOBAL":
                stack.append(ref)
            else:
                stack.append(Call(ref, tuple(self.pop_mark(pos)), "inst"))
        elif name == "STACK_GLOBAL":
            attr, module = self.pop(pos), self.pop(pos)
            if isinstance(module, str) and isinstance(attr, str):
                stack.append(self.scanner.import_global(module, attr, pos))
            else:
                self.scanner.dynamic_global(pos)
                stack.append(UNKNOWN)
        elif name == "REDUCE":
            args, func = self.pop(pos), self.pop(pos)
            self.scanner.check_call(func, pos, "REDUCE")
            stack.append(Call(func, args, "reduce"))
        elif name == "NEWOBJ":
            args, cls = self.pop(pos), self.pop(pos)
            self.scanner.check_call(cls, pos, "NEWOBJ")
            stack.append(Call(cls, args, "newobj"))
        elif name == "NEWOBJ_EX":
            kwargs, args, cls = self.pop(pos), self.pop(pos), self.pop(pos)
            self.scanner.check_call(cls, pos, "NEWOBJ_EX")
            stack.append(Call(cls, (args, kwargs), "newobj"))
        elif name == "OBJ":
            items = self.pop_mark(pos)
            if not items:
                raise MalformedError(pos, "OBJ without a class")
            self.scanner.check_call(items[0], pos, "OBJ")
            stack.append(Call(items[0], tuple(items[1:]), "obj"))
        elif name == "BUILD":
            state = self.pop(pos)
            target = self._top(pos)
            if isinstance(target, Call):
                target.state = state
                return target
        return None

    def _top(self, pos: int) -> Any:
        if not self.stack or self.stack[-1] is MARK:
            raise MalformedError(pos, "stack underflow")
        return self.stack[-1]

    def _generic(self, name: str, pos: int) -> None:
        """Stack effect from pickletools' own opcode table (sets, buffers, POP, DUP, PERSID...)."""
        op = pickletools.opcodes[_OPCODE_INDEX[name]]
        before = [s.name for s in op.stack_before]
        if "stackslice" in before:
            self.pop_mark(pos)
            before = before[: before.index("mark")]
        popped = [self.pop(pos) for _ in before]
        if name == "DUP":
            self.stack.extend([popped[0], popped[0]])
            return
        self.stack.extend(UNKNOWN for _ in op.stack_after)


_OPCODE_INDEX = {op.name: index for index, op in enumerate(pickletools.opcodes)}


def _pairs_to_dict(target: Any, items: list[Any]) -> Any:
    if len(items) % 2:
        raise MalformedError(None, "odd number of items for a dict")
    if isinstance(target, dict):
        for key, value in zip(items[::2], items[1::2], strict=True):
            if isinstance(key, str | int | float | bool | bytes | tuple | type(None)):
                try:
                    target[key] = value
                except TypeError:  # a tuple holding unhashable values
                    continue
    return target
