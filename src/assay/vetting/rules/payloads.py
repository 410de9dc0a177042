"""Payloads: native executables where none belong, data hidden in images and audio.

A wheel tagged ``py3-none-any`` (or an sdist, which is source) has no reason to
carry ELF, PE or Mach-O files; some benign projects do (launcher stubs), so the
lone signal is medium.  Images and audio with a large tail after their end
marker, or with Python or shell code inside, are a known way to smuggle a
second stage past review.
"""

from __future__ import annotations

from collections.abc import Iterator

from assay.advisories.severity import Level
from assay.vetting.rules.base import PACKAGE, PAYLOAD, FileContext, PackageFinding, Rule

MEDIA_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".wav", ".mp3", ".webp")
APPENDED_LIMIT = 1024  # bytes after an image's end marker tolerated (padding, metadata)
CODE_TOKENS = (b"exec(", b"eval(", b"subprocess", b"os.system", b"base64.b64decode", b"powershell")


def native_kind(data: bytes) -> str | None:
    """ELF, PE or Mach-O from the magic bytes (None for anything else)."""
    if data.startswith(b"\x7fELF"):
        return "ELF"
    if data.startswith(b"MZ") and len(data) >= 64:
        offset = int.from_bytes(data[60:64], "little")
        if data[offset : offset + 4] == b"PE\x00\x00":
            return "PE"
    if data[:4] in {
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
    }:
        return "Mach-O"
    return None


class NativeInPurePackage(Rule):
    """An executable or shared library in a pure-Python wheel or in an sdist."""

    rule_id = "payload-native-binary"
    category = PAYLOAD
    severity = Level.MEDIUM
    explanation = "a native executable in a package that should hold only Python"

    def applies_to(self, path: str) -> bool:
        return not path.endswith((".py", ".pyi", ".txt", ".md", ".rst", ".json", ".toml"))

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        if not context.package.pure:
            return
        kind = native_kind(context.data[: 1024 * 64])
        if kind is not None:
            yield self.finding(context, 0, where=PACKAGE, detail=kind, snippet=context.basename)


def appended_bytes(path: str, data: bytes) -> int:
    """Bytes after the end marker of a PNG or JPEG (0 when none or unknown)."""
    lowered = path.lower()
    if lowered.endswith(".png") and data.startswith(b"\x89PNG"):
        end = data.find(b"IEND")
        return len(data) - (end + 8) if end >= 0 else 0
    if lowered.endswith((".jpg", ".jpeg")) and data.startswith(b"\xff\xd8"):
        end = data.rfind(b"\xff\xd9")
        return len(data) - (end + 2) if end >= 0 else 0
    return 0


class HiddenInMedia(Rule):
    """Images with a large appended tail, or media files holding code."""

    rule_id = "payload-hidden-in-media"
    category = PAYLOAD
    severity = Level.MEDIUM
    explanation = "an image or audio file hides extra data or code"

    def applies_to(self, path: str) -> bool:
        return path.lower().endswith(MEDIA_SUFFIXES)

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        data = context.data
        tail = appended_bytes(context.path, data)
        tokens = [t.decode() for t in CODE_TOKENS if t in data]
        code = bool(tokens) and (b"import " in data or len(tokens) >= 2)
        if code:
            detail = "code inside: " + ", ".join(tokens)
            yield self.finding(
                context,
                0,
                where=PACKAGE,
                severity=Level.HIGH,
                detail=detail,
                snippet=context.basename,
            )
        elif tail > APPENDED_LIMIT:
            detail = f"{tail} bytes after the end of the image"
            yield self.finding(context, 0, where=PACKAGE, detail=detail, snippet=context.basename)


RULES: tuple[Rule, ...] = (NativeInPurePackage(), HiddenInMedia())
