"""Values the pickle walker tracks, and how joblib lays out the arrays it writes.

joblib (>= 0.10) pickles a ``joblib.numpy_pickle.NumpyArrayWrapper`` (NEWOBJ +
BUILD with a state dict holding ``shape``, ``dtype``, ``order`` and, from 1.2,
``numpy_array_alignment_bytes``) and writes the array right after the BUILD:
one padding-length byte and that much padding when aligned, then
``prod(shape) * itemsize`` raw bytes, or, for object dtypes, a nested pickle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Global:
    module: str
    name: str
    offset: int

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(slots=True)
class Call:
    func: Any
    args: Any
    kind: str  # reduce | newobj | obj | inst
    state: Any = None


def is_joblib_wrapper(func: Any) -> bool:
    return (
        isinstance(func, Global)
        and func.module == "joblib.numpy_pickle"
        and func.name == "NumpyArrayWrapper"
    )


def dtype_code(value: Any) -> str | None:
    """The dtype string of a pickled ``numpy.dtype('f8', False, True)`` call."""
    if isinstance(value, Call) and isinstance(value.func, Global) and value.func.name == "dtype":
        args = value.args
        if isinstance(args, tuple) and args and isinstance(args[0], str):
            return args[0]
    return None


_DTYPE = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)")
_SIZES = {"b": 1, "B": 1, "?": 1, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8, "q": 8, "Q": 8}
_SIZES |= {"e": 2, "f": 4, "d": 8, "g": 16, "F": 8, "D": 16, "G": 32}


def itemsize(code: str) -> int | None:
    match = _DTYPE.match(code)
    if match is None:
        return None
    kind, digits = match.group(1), match.group(2)
    if digits:
        count = int(digits)
        return count * 4 if kind == "U" else count
    return _SIZES.get(kind)
