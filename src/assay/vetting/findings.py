"""What a model-file scan reports: one :class:`Finding` per problem, one :class:`FileScan` per file.

Severities use the project's :class:`~assay.advisories.severity.Level` scale so
that the same thresholds (``--check`` fails on high and critical) apply to
advisories and model files alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from assay.advisories.severity import Level

# Rule ids (stable: they appear in AIBOMs and in --check output).
DANGEROUS_GLOBAL = "pickle-dangerous-global"
UNKNOWN_GLOBAL = "pickle-unknown-global"
COMPUTED_CALL = "pickle-computed-call"
DYNAMIC_GLOBAL = "pickle-dynamic-global"
EXTENSION_CODE = "pickle-extension-registry"
TRAILING_DATA = "pickle-trailing-data"
MALFORMED = "file-not-fully-analysed"
NPY_OBJECT = "npy-object-array"
SAFETENSORS_HEADER = "safetensors-invalid-header"
KERAS_LAMBDA = "keras-lambda-layer"
H5_LAMBDA = "h5-lambda-layer"
TORCHSCRIPT_CODE = "torchscript-code"

RULES: dict[str, str] = {
    DANGEROUS_GLOBAL: "the pickle imports a callable that runs commands, code or I/O when loaded",
    UNKNOWN_GLOBAL: "the pickle imports a global outside the allowlist of known-safe ML globals",
    COMPUTED_CALL: "the pickle calls an object that is not a plain imported global",
    DYNAMIC_GLOBAL: "STACK_GLOBAL with operands that are not constant strings",
    EXTENSION_CODE: "the pickle uses the copyreg extension registry (EXT1/2/4)",
    TRAILING_DATA: "bytes after the last pickle that were not analysed",
    MALFORMED: "the file is malformed, truncated or too large and could not be fully analysed",
    NPY_OBJECT: "a NumPy array with object dtype: loading it unpickles",
    SAFETENSORS_HEADER: "the safetensors header is invalid",
    KERAS_LAMBDA: "a Keras Lambda layer: marshalled Python bytecode runs when the model is loaded",
    H5_LAMBDA: "an HDF5 Keras model mentions a Lambda layer (byte search: heuristic)",
    TORCHSCRIPT_CODE: "a TorchScript archive carries code that runs when it is loaded",
}


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem in one file (``member`` is the path inside a zip archive, if any)."""

    file: str
    member: str | None
    offset: int | None
    rule: str
    severity: Level
    subject: str  # the global (module.name), the opcode, or the field at fault
    message: str

    @property
    def location(self) -> str:
        where = f"{self.file}!{self.member}" if self.member else self.file
        return f"{where}@{self.offset}" if self.offset is not None else where

    def describe(self) -> str:
        level = self.severity.label()
        return f"{self.location}: {level} {self.rule}: {self.subject}: {self.message}"


@dataclass(frozen=True, slots=True)
class FileScan:
    """The result of scanning one file: its identity, format, findings and facts."""

    path: str  # relative to the scanned directory, "/" separated
    format: str
    size: int
    sha256: str
    findings: tuple[Finding, ...] = ()
    details: tuple[tuple[str, str], ...] = ()  # e.g. safetensors metadata, tensor count
    globals: tuple[str, ...] = ()  # every pickle global imported (module.name), sorted
    scanned: bool = True  # False: a format the scanner only hashes (JSON, ONNX, GGUF...)

    @property
    def worst(self) -> Level:
        return max((f.severity for f in self.findings), default=Level.NONE)


def blocking(findings: tuple[Finding, ...] | list[Finding]) -> list[Finding]:
    """The findings that fail ``--check`` (high and critical)."""
    return [f for f in findings if f.severity >= Level.HIGH]
