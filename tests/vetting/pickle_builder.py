"""Hand-assembled pickles and model files for the scanner tests (nothing here is unpickled).

torch, numpy and joblib are not installed: their files are built byte by byte
following the layouts they write.
"""

from __future__ import annotations

import builtins
import io
import json
import struct
import zipfile


class Asm:
    """A tiny pickle assembler: each method appends one opcode."""

    def __init__(self, proto: int = 2) -> None:
        self.out = bytearray()
        if proto >= 2:
            self.out += b"\x80" + bytes([proto])

    def raw(self, data: bytes) -> Asm:
        self.out += data
        return self

    def glob(self, module: str, name: str) -> Asm:
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def inst(self, module: str, name: str) -> Asm:
        return self.raw(b"i" + module.encode() + b"\n" + name.encode() + b"\n")

    def text(self, value: str) -> Asm:
        data = value.encode()
        if len(data) < 256:
            return self.raw(b"\x8c" + bytes([len(data)]) + data)
        return self.raw(b"X" + struct.pack("<I", len(data)) + data)

    def binunicode(self, value: str) -> Asm:
        data = value.encode()
        return self.raw(b"X" + struct.pack("<I", len(data)) + data)

    def int(self, value: int) -> Asm:
        return self.raw(b"J" + struct.pack("<i", value))

    def mark(self) -> Asm:
        return self.raw(b"(")

    def tuple(self) -> Asm:
        return self.raw(b"t")

    def tuple2(self) -> Asm:
        return self.raw(b"\x86")

    def empty_tuple(self) -> Asm:
        return self.raw(b")")

    def empty_dict(self) -> Asm:
        return self.raw(b"}")

    def setitems(self) -> Asm:
        return self.raw(b"u")

    def reduce(self) -> Asm:
        return self.raw(b"R")

    def build(self) -> Asm:
        return self.raw(b"b")

    def newobj(self) -> Asm:
        return self.raw(b"\x81")

    def memoize(self) -> Asm:
        return self.raw(b"\x94")

    def binput(self, index: builtins.int) -> Asm:
        return self.raw(b"q" + bytes([index]))

    def binget(self, index: builtins.int) -> Asm:
        return self.raw(b"h" + bytes([index]))

    def pop(self) -> Asm:
        return self.raw(b"0")

    def stack_global(self) -> Asm:
        return self.raw(b"\x93")

    def newfalse(self) -> Asm:
        return self.raw(b"\x89")

    def binpersid(self) -> Asm:
        return self.raw(b"Q")

    def stop(self) -> bytes:
        self.out += b"."
        return bytes(self.out)


def torch_state_dict_pickle() -> bytes:
    """data.pkl as torch.save writes it for {"weight": <2x2 float tensor>} (protocol 2)."""
    a = Asm(2)
    a.glob("collections", "OrderedDict").binput(0).empty_tuple().reduce().binput(1)
    a.mark().text("weight").binput(2)
    a.glob("torch._utils", "_rebuild_tensor_v2").binput(3)
    a.mark()  # args of _rebuild_tensor_v2
    a.mark().text("storage").glob("torch", "FloatStorage").text("0").text("cpu").int(4)
    a.tuple().binpersid()  # persistent id: ('storage', FloatStorage, '0', 'cpu', 4)
    a.int(0)  # storage offset
    a.int(2).int(2).tuple2()  # size
    a.int(2).int(1).tuple2()  # stride
    a.newfalse()  # requires_grad
    a.glob("collections", "OrderedDict").empty_tuple().reduce()  # backward hooks
    a.tuple().reduce().binput(4)
    a.setitems()
    return a.stop()


def torch_zip(data_pkl: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A torch.save zip archive: archive/data.pkl, archive/data/0, archive/version."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", b"little")
        archive.writestr("archive/data/0", struct.pack("<4f", 1, 2, 3, 4))
        archive.writestr("archive/version", b"3\n")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def gadget(module: str, name: str, argument: str = "id", proto: int = 2) -> bytes:
    """The classic payload: GLOBAL module.name, called with one string."""
    return Asm(proto).glob(module, name).mark().text(argument).tuple().reduce().stop()


def safetensors(header: dict[str, object], data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def npy(descr: str, shape: tuple[int, ...], body: bytes) -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + body


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def joblib_with_array(
    values: bytes,
    shape: tuple[int, ...],
    dtype: str = "f8",
    after: bytes = b"",
    aligned: bool = True,
) -> bytes:
    """A joblib (>= 1.2) stream: a dict with one NumpyArrayWrapper; raw array bytes after BUILD."""
    a = Asm(4)
    a.empty_dict().memoize().mark().text("coef").memoize()
    a.text("joblib.numpy_pickle").memoize().text(
        "NumpyArrayWrapper"
    ).memoize().stack_global().memoize()
    a.empty_tuple().newobj().memoize()
    a.empty_dict().memoize().mark()
    a.text("subclass").text("numpy").text("ndarray").stack_global()
    a.text("shape")
    for n in shape:
        a.int(n)
    a.raw({1: b"\x85", 2: b"\x86"}.get(len(shape), b""))
    a.text("order").text("C")
    a.text("dtype").text("numpy").text("dtype").stack_global()
    a.text(dtype).newfalse().raw(b"\x88").raw(b"\x87").reduce()
    a.mark().int(3).text("<").raw(b"N").raw(b"N").raw(b"N").int(-1).int(-1).int(0).tuple().build()
    a.text("allow_mmap").raw(b"\x88")
    if aligned:
        a.text("numpy_array_alignment_bytes").int(16)
    a.setitems().build()
    head = bytes(a.out)
    tail = Asm(0).raw(after).setitems().stop()
    if not aligned:  # joblib < 1.2
        return head + values + tail
    padding = 16 - (len(head) + 1) % 16
    return head + bytes([padding]) + b"\xff" * padding + values + tail
