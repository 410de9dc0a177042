"""Payload rules: native binaries in pure packages, data hidden in media files."""

import struct
import zlib

from assay.advisories.severity import Level
from assay.vetting.rules.payloads import appended_bytes, native_kind
from tests.vetting.package_builder import first, rules, vet_sdist, vet_wheel

ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57
MACHO = b"\xcf\xfa\xed\xfe" + b"\x00" * 60


def _pe() -> bytes:
    header = bytearray(b"MZ" + b"\x00" * 126)
    header[60:64] = struct.pack("<I", 64)
    header[64:68] = b"PE\x00\x00"
    return bytes(header)


def _png(extra: bytes = b"") -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
        + extra
    )


def test_magic_bytes():
    assert native_kind(ELF) == "ELF"
    assert native_kind(_pe()) == "PE"
    assert native_kind(MACHO) == "Mach-O"
    assert native_kind(b"MZ just text that starts with MZ" + b"\x00" * 40) is None
    assert native_kind(b"print('hi')") is None


def test_native_binary_in_a_pure_wheel_and_in_an_sdist():
    assert "payload-native-binary" in rules(vet_wheel({"demo/helper.bin": ELF}), Level.MEDIUM)
    assert "payload-native-binary" in rules(vet_sdist({"demo/tool.exe": _pe()}))


def test_native_library_in_a_platform_wheel_is_expected():
    report = vet_wheel(
        {"demo/_speedups.so": ELF}, name="demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    )
    assert "payload-native-binary" not in rules(report)


def test_image_with_appended_data():
    tail = bytes(range(256)) * 16
    assert appended_bytes("x.png", _png(tail)) == len(tail)
    assert appended_bytes("x.png", _png()) == 0
    assert "payload-hidden-in-media" in rules(vet_wheel({"demo/logo.png": _png(tail)}))
    assert "payload-hidden-in-media" not in rules(vet_wheel({"demo/logo.png": _png()}))


def test_code_inside_an_image_is_high():
    hidden = _png(b"import os\nos.system('x')\nexec(data)\n")
    finding = first(vet_wheel({"demo/icon.png": hidden}), "payload-hidden-in-media")
    assert finding.severity == Level.HIGH
