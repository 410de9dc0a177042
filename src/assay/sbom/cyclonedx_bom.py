"""A complete CycloneDX BOM (JSON or XML, spec 1.5 to 1.7), validated before it is returned.

Metadata: the assay tool and version, the timestamp (left out when
reproducible), the author, the lifecycle phase (``pre-build`` for locks,
requirements and SBOM sources, ``operations`` for installed environments and
conda prefixes), the source's kind, name and digest as properties, and the
project as the root component when the environment names it.  The serial
number is derived from the content, so the same input gives the same document.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalContact
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion

from assay.environments.model import Environment
from assay.sbom import context, validation
from assay.sbom.context import SbomOptions
from assay.sbom.cyclonedx import component_graph, package_component

SPEC_VERSIONS: dict[str, SchemaVersion] = {
    "1.5": SchemaVersion.V1_5,
    "1.6": SchemaVersion.V1_6,
    "1.7": SchemaVersion.V1_7,
}
DEFAULT_SPEC = "1.6"
_PHASES = {
    context.PRE_BUILD: LifecyclePhase.PRE_BUILD,
    context.OPERATIONS: LifecyclePhase.OPERATIONS,
}


def build_bom(env: Environment, options: SbomOptions) -> Bom:
    """The environment as a CycloneDX Bom: components, graph and metadata."""
    graph = component_graph(env)
    root_package = context.root_package(env)
    components = list(graph.components)
    dependencies = list(graph.dependencies)
    root: Component | None = None
    if root_package is not None:
        root = graph.component_of(root_package)
        root.type = ComponentType.APPLICATION
        components.remove(root)
    elif env.name:  # the project is named but not listed: a root that needs the top level
        root = Component(type=ComponentType.APPLICATION, name=env.name, bom_ref=f"root:{env.name}")
        tops = {id(p) for p in context.top_level(env)}
        refs = [c.bom_ref for p, c in graph.by_package if id(p) in tops]
        dependencies.append(
            Dependency(ref=root.bom_ref, dependencies=[Dependency(ref=r) for r in refs])
        )
    tool = Component(
        type=ComponentType.APPLICATION, name=context.TOOL_NAME, version=context.TOOL_VERSION
    )
    metadata = BomMetaData(
        tools=ToolRepository(components=[tool]),
        authors=[OrganizationalContact(name=options.author)] if options.author else None,
        component=root,
        lifecycles=[PredefinedLifecycle(_PHASES[context.lifecycle_phase(env)])],
        properties=[Property(name=k, value=v) for k, v in context.environment_properties(env)],
        timestamp=options.timestamp,
    )
    if options.timestamp is None:
        metadata.timestamp = None  # type: ignore[assignment]  # optional in every schema
    return Bom(
        components=components,
        dependencies=dependencies,
        metadata=metadata,
        serial_number=context.serial_uuid(env, options),
    )


_XML_FORBIDDEN = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(value: Any) -> Any:
    """``value`` with every character XML 1.0 forbids removed from its strings.

    Such characters (control bytes in some packages' METADATA) can appear nowhere
    in an XML document, not even escaped; JSON output keeps them.
    """
    if type(value) is str:  # not enum members, which are str subclasses
        return _XML_FORBIDDEN.sub("", value)
    if isinstance(value, tuple):
        return tuple(_xml_safe(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _xml_safe(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return dataclasses.replace(value, **changes)
    return value


def render(bom: Bom, spec: str = DEFAULT_SPEC, *, xml: bool = False) -> str:
    """Serialize ``bom`` and validate the text against the official schema."""
    version = SPEC_VERSIONS[spec]
    output_format = OutputFormat.XML if xml else OutputFormat.JSON
    text = make_outputter(bom, output_format, version).output_as_string(indent=2)
    if xml:
        validation.check_cyclonedx_xml(text, spec)
    else:
        validation.check_cyclonedx_json(json.loads(text), spec)
    return text if text.endswith("\n") else text + "\n"


def cyclonedx_document(
    env: Environment,
    options: SbomOptions,
    *,
    spec: str = DEFAULT_SPEC,
    xml: bool = False,
) -> str:
    """Build, serialize and validate in one call."""
    if xml:
        env = _xml_safe(env)
    return render(build_bom(env, options), spec, xml=xml)


__all__ = [
    "DEFAULT_SPEC",
    "SPEC_VERSIONS",
    "build_bom",
    "cyclonedx_document",
    "package_component",
    "render",
]
