"""AIBOM: a CycloneDX 1.6 document describing a model, its files, data and environment.

Built with cyclonedx-python-lib: the ``machine-learning-model`` component
(the BOM's subject, ``metadata.component``), one hashed ``file`` component per
file in the model directory (format, size and scan result as properties), one
``data`` component per dataset, the environment's packages (reusing
:func:`assay.sbom.cyclonedx.component_graph`) as the model's dependencies, and
every scanner finding as a ``vulnerability`` affecting its file.

The library has no type for a model card or for a data component's ``data``
block (CycloneDX 1.5+), so those are added to the serialized JSON as
schema-shaped objects and the whole document is then validated against the
official CycloneDX 1.6 JSON schema; an invalid document is a bug (exit 70).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityRating,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.spdx import fixup_id, is_expression

from assay import __version__
from assay.advisories.severity import Level
from assay.sbom.aibom_card import Dataset, ModelCard
from assay.sbom.aibom_source import ModelSource
from assay.sbom.cyclonedx import component_graph
from assay.sbom.validation import check_cyclonedx_json
from assay.vetting import FileScan, Finding
from assay.vetting.findings import RULES

MODEL_REF = "model"
_SERIAL_NAMESPACE = uuid.UUID("0b7e2c55-6a0f-5f3e-8d0e-9a41f7d2c3b1")
_PLACEHOLDER_SERIAL = uuid.UUID(int=0)
_SEVERITIES = {
    Level.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Level.HIGH: VulnerabilitySeverity.HIGH,
    Level.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Level.LOW: VulnerabilitySeverity.LOW,
    Level.NONE: VulnerabilitySeverity.INFO,
    Level.UNKNOWN: VulnerabilitySeverity.UNKNOWN,
}
_DESERIALIZATION_CWE = 502  # CWE-502: deserialization of untrusted data


def file_ref(scan: FileScan) -> str:
    return f"file:{scan.path}"


def data_ref(dataset: Dataset) -> str:
    return f"data:{dataset.name}"


def _licenses(text: str | None) -> list[DisjunctiveLicense | LicenseExpression]:
    if not text:
        return []
    ack = LicenseAcknowledgement.DECLARED
    spdx = fixup_id(text)
    if spdx is not None:
        return [DisjunctiveLicense(id=spdx, acknowledgement=ack)]
    if " " in text.strip() and is_expression(text):
        return [LicenseExpression(text, acknowledgement=ack)]
    return [DisjunctiveLicense(name=text, acknowledgement=ack)]


def _file_component(scan: FileScan) -> Component:
    status = "findings" if scan.findings else ("clean" if scan.scanned else "not-scanned")
    values = [
        ("assay:model:file-format", scan.format),
        ("assay:model:file-size", str(scan.size)),
        ("assay:scan:status", status),
    ]
    if scan.findings:
        values.append(("assay:scan:worst-severity", scan.worst.label()))
    values.extend(("assay:scan:pickle-global", name) for name in scan.globals)
    values.extend((f"assay:model:{key}", value) for key, value in scan.details)
    return Component(
        type=ComponentType.FILE,
        name=scan.path,
        bom_ref=file_ref(scan),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=scan.sha256)],
        properties=[Property(name=k, value=v) for k, v in values],
    )


def _data_component(dataset: Dataset, source: ModelSource) -> Component:
    local = dict(source.local_data).get(dataset.name)
    values: list[tuple[str, str]] = []
    hashes: list[HashType] = []
    if dataset.path:
        values.append(("assay:dataset:path", dataset.path))
    if local is not None:
        if local.sha256:
            hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=local.sha256))
        if local.digest:
            values.extend(
                [("assay:dataset:digest", local.digest), ("assay:dataset:files", str(local.files))]
            )
    return Component(
        type=ComponentType.DATA,
        name=dataset.name,
        bom_ref=data_ref(dataset),
        licenses=_licenses(dataset.license),
        hashes=hashes,
        properties=[Property(name=k, value=v) for k, v in values],
    )


def _vulnerability(index: int, finding: Finding, ref: str) -> Vulnerability:
    values = [("assay:finding:rule", finding.rule), ("assay:finding:subject", finding.subject)]
    if finding.member:
        values.append(("assay:finding:member", finding.member))
    if finding.offset is not None:
        values.append(("assay:finding:offset", str(finding.offset)))
    deserialization = finding.rule.startswith(("pickle-", "npy-", "keras-", "h5-"))
    return Vulnerability(
        bom_ref=f"finding-{index}",
        id=finding.rule,
        source=VulnerabilitySource(name="assay model-file scanner"),
        ratings=[VulnerabilityRating(severity=_SEVERITIES[finding.severity])],
        cwes=[_DESERIALIZATION_CWE] if deserialization else None,
        description=RULES.get(finding.rule, finding.rule),
        detail=f"{finding.location}: {finding.message}",
        affects=[BomTarget(ref=ref)],
        properties=[Property(name=k, value=v) for k, v in values],
    )


def _model_component(source: ModelSource) -> Component:
    card = source.card
    worst = max((scan.worst for scan in source.files), default=Level.NONE)
    values = [
        ("assay:model:kind", source.kind),
        ("assay:model:files", str(len(source.files))),
        ("assay:scan:findings", str(sum(len(s.findings) for s in source.files))),
        ("assay:scan:worst-severity", worst.label()),
        *card.properties,
    ]
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=source.name,
        version=card.version,
        bom_ref=MODEL_REF,
        description=card.description,
        licenses=_licenses(card.license),
        properties=[Property(name=k, value=v) for k, v in values],
    )


def build_bom(source: ModelSource) -> Bom:
    """Everything the library can express (all but the model card and data blocks)."""
    model = _model_component(source)
    files = [_file_component(scan) for scan in source.files]
    data = [_data_component(d, source) for d in source.card.datasets]
    components: list[Component] = [*files, *data]
    dependencies = [Dependency(ref=c.bom_ref) for c in components]
    env_refs = []
    if source.environment is not None:
        graph = component_graph(source.environment)
        components.extend(graph.components)
        dependencies.extend(graph.dependencies)
        direct = [c.bom_ref for p, c in graph.by_package if p.requested]
        env_refs = direct or [c.bom_ref for c in graph.components]
    dependencies.append(
        Dependency(
            ref=model.bom_ref,
            dependencies=[Dependency(ref=r) for r in [*(f.bom_ref for f in files), *env_refs]],
        )
    )
    vulnerabilities = [
        _vulnerability(index, finding, file_ref(scan))
        for index, (scan, finding) in enumerate(
            ((scan, finding) for scan in source.files for finding in scan.findings), start=1
        )
    ]
    tool = Component(type=ComponentType.APPLICATION, name="assay", version=__version__)
    metadata = BomMetaData(tools=ToolRepository(components=[tool]), component=model)
    return Bom(
        components=components,
        dependencies=dependencies,
        vulnerabilities=vulnerabilities,
        metadata=metadata,
        serial_number=_PLACEHOLDER_SERIAL,
    )


def _clean(value: Any) -> Any:
    """Drop empty strings, lists and objects (the schema forbids none, but they say nothing)."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [c for c in (_clean(v) for v in value) if c not in (None, "", [], {})]
    return value


def model_card_json(card: ModelCard) -> dict[str, Any]:
    """The CycloneDX 1.6 ``modelCard`` object."""
    considerations = card.considerations
    return _clean(
        {
            "modelParameters": {
                "approach": {"type": card.approach} if card.approach else None,
                "task": card.task,
                "architectureFamily": card.architecture_family,
                "modelArchitecture": card.architecture,
                "datasets": [{"ref": data_ref(d)} for d in card.datasets],
                "inputs": [{"format": text} for text in card.inputs],
                "outputs": [{"format": text} for text in card.outputs],
            },
            "quantitativeAnalysis": {
                "performanceMetrics": [
                    {
                        "type": m.type,
                        "value": m.value,
                        "slice": m.slice,
                        "confidenceInterval": {"lowerBound": m.lower, "upperBound": m.upper},
                    }
                    for m in card.metrics
                ]
            },
            "considerations": {
                "users": list(considerations.users),
                "useCases": list(considerations.use_cases),
                "technicalLimitations": list(considerations.technical_limitations),
                "performanceTradeoffs": list(considerations.performance_tradeoffs),
                "ethicalConsiderations": [
                    {"name": name, "mitigationStrategy": mitigation}
                    for name, mitigation in considerations.ethical
                ],
            },
        }
    ) or {"modelParameters": {}}


def data_json(dataset: Dataset) -> dict[str, Any]:
    """The CycloneDX ``componentData`` object of one dataset."""
    owner = {"owners": [{"organization": {"name": dataset.owner}}]} if dataset.owner else None
    result: dict[str, Any] = _clean(
        {
            "type": "dataset",
            "name": dataset.name,
            "contents": {"url": dataset.url},
            "classification": dataset.sensitivity,
            "sensitiveData": list(dataset.sensitive_data),
            "description": dataset.description,
            "governance": owner,
        }
    )
    return result


def aibom_document(
    source: ModelSource, *, reproducible: bool = False, now: datetime | None = None
) -> str:
    """Build, complete, validate and return the AIBOM as CycloneDX 1.6 JSON text."""
    doc = json.loads(JsonV1Dot6(build_bom(source)).output_as_string())
    doc["metadata"]["component"]["modelCard"] = model_card_json(source.card)
    datasets = {data_ref(d): d for d in source.card.datasets}
    for component in doc.get("components", []):
        dataset = datasets.get(component.get("bom-ref", ""))
        if dataset is not None and component.get("type") == "data":
            component["data"] = [data_json(dataset)]
    doc["metadata"].pop("timestamp", None)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    doc["serialNumber"] = uuid.uuid5(_SERIAL_NAMESPACE, hashlib.sha256(canonical).hexdigest()).urn
    if not reproducible:
        moment = now or datetime.now(UTC)
        doc["metadata"] = {"timestamp": moment.isoformat(timespec="seconds"), **doc["metadata"]}
    order = ["$schema", "bomFormat", "specVersion", "serialNumber", "version", "metadata"]
    doc = {**{k: doc[k] for k in order if k in doc}, **doc}
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    check_cyclonedx_json(json.loads(text), "1.6")  # one-line SbomBuildError when invalid
    return text
