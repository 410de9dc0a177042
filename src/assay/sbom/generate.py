"""One entry point for every SBOM format, importing only the library the format needs."""

from __future__ import annotations

from assay.environments.model import Environment
from assay.sbom.context import SbomOptions

FORMATS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx3-jsonld")
CYCLONEDX_SPECS = ("1.5", "1.6", "1.7")
DEFAULT_FORMAT = "cyclonedx-json"
DEFAULT_SPEC = "1.6"


def describe(format_name: str, spec: str = DEFAULT_SPEC) -> str:
    """A label for messages: ``CycloneDX 1.6 JSON``, ``SPDX 2.3 JSON``..."""
    return {
        "cyclonedx-json": f"CycloneDX {spec} JSON",
        "cyclonedx-xml": f"CycloneDX {spec} XML",
        "spdx-json": "SPDX 2.3 JSON",
        "spdx3-jsonld": "SPDX 3.0.1 JSON-LD",
    }[format_name]


def generate(
    env: Environment,
    format_name: str = DEFAULT_FORMAT,
    options: SbomOptions | None = None,
    spec: str = DEFAULT_SPEC,
) -> str:
    """The SBOM text, already validated against its format's schema or model."""
    options = options or SbomOptions()
    if format_name in ("cyclonedx-json", "cyclonedx-xml"):
        from assay.sbom.cyclonedx_bom import cyclonedx_document  # noqa: PLC0415

        return cyclonedx_document(env, options, spec=spec, xml=format_name == "cyclonedx-xml")
    if format_name == "spdx-json":
        from assay.sbom.spdx2 import spdx2_document  # noqa: PLC0415

        return spdx2_document(env, options)
    if format_name == "spdx3-jsonld":
        from assay.sbom.spdx3 import spdx3_document  # noqa: PLC0415

        return spdx3_document(env, options)
    raise ValueError(f"unknown SBOM format {format_name!r}")
