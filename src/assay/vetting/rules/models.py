"""Model files shipped in a package whose pickle runs code when it is loaded.

A ``.pt``/``.pth``/``.ckpt`` (legacy pickle or a PyTorch zip), ``.pkl``,
``.pickle``, ``.joblib`` or a ``.bin`` with pickle or zip magic is scanned with
the model-file scanner (:func:`assay.vetting.pickles.scan_pickle`: opcodes are
walked, never unpickled), in memory and within the scanner's byte limits.  A
pickle that imports a code-running global (``os.system``, ``subprocess``,
``builtins.exec``, ``socket`` ...) is critical: whoever loads the "model" runs
it.  Globals computed at load time, calls of computed objects and the
extension registry are medium (obfuscation, rare in real checkpoints).  A
``.pth`` that is text is a site path file, handled by the install rules.
Pickles among tests and docs (scanner test fixtures) are low.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from assay.advisories.severity import Level
from assay.vetting import findings as pickle_rules
from assay.vetting.model_files import MAX_PICKLE_BYTES, MAX_ZIP_MEMBERS
from assay.vetting.pickle_machine import PickleReport
from assay.vetting.pickles import scan_pickle_into
from assay.vetting.rules.base import (
    PACKAGE,
    PAYLOAD,
    FileContext,
    PackageFinding,
    Rule,
    not_installed,
)

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")  # pickles whatever their first byte
MAGIC_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")  # scanned only with pickle or zip magic
_ZIP_MAGIC = b"PK\x03\x04"
_OBFUSCATED = frozenset(
    {pickle_rules.DYNAMIC_GLOBAL, pickle_rules.COMPUTED_CALL, pickle_rules.EXTENSION_CODE}
)


def pickle_magic(data: bytes) -> bool:
    """A binary pickle header (PROTO 2-5)."""
    return len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5


def scan_model_member(path: str, data: bytes) -> PickleReport | None:
    """Scan a pickle-like archive member in memory; None when it is not one."""
    lowered = path.lower()
    report = PickleReport()
    if len(data) > MAX_PICKLE_BYTES:
        return None
    if data.startswith(_ZIP_MAGIC) and lowered.endswith(PICKLE_SUFFIXES + MAGIC_SUFFIXES):
        _scan_zip(path, data, report)
    elif lowered.endswith(PICKLE_SUFFIXES) or (
        lowered.endswith(MAGIC_SUFFIXES) and pickle_magic(data)
    ):
        scan_pickle_into(data, path, None, report)
    else:
        return None
    return report


def _scan_zip(path: str, data: bytes, report: PickleReport) -> None:
    """The pickles of a PyTorch zip (``archive/data.pkl``) or a zipped pickle."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()[:MAX_ZIP_MEMBERS]
            for info in infos:
                if not info.filename.lower().endswith((".pkl", ".pickle")):
                    continue
                if info.file_size > MAX_PICKLE_BYTES:
                    continue
                with archive.open(info) as handle:
                    body = handle.read(MAX_PICKLE_BYTES + 1)
                if len(body) <= MAX_PICKLE_BYTES:
                    scan_pickle_into(body, path, info.filename, report)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, EOFError):
        return  # not a readable zip: nothing a loader could unpickle either


class MaliciousPickle(Rule):
    """A model file whose pickle imports code-running globals."""

    rule_id = "payload-malicious-pickle"
    category = PAYLOAD
    severity = Level.CRITICAL
    explanation = "a model file in the package runs code when it is loaded (pickle)"

    def applies_to(self, path: str) -> bool:
        return path.lower().endswith(PICKLE_SUFFIXES + MAGIC_SUFFIXES)

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        report = scan_model_member(context.path, context.data)
        if report is None:
            return
        dangerous = sorted(
            {f.subject for f in report.findings if f.rule == pickle_rules.DANGEROUS_GLOBAL}
        )
        tricks = sorted({f.subject for f in report.findings if f.rule in _OBFUSCATED})
        if dangerous:
            level, detail = Level.CRITICAL, "imports " + ", ".join(dangerous[:5])
        elif tricks:
            level, detail = Level.MEDIUM, "uncheckable pickle constructs: " + ", ".join(tricks)
        else:
            return
        if not_installed(context.path):
            level = Level.LOW
        yield self.finding(
            context, 0, where=PACKAGE, severity=level, detail=detail, snippet=context.basename
        )


RULES: tuple[Rule, ...] = (MaliciousPickle(),)
