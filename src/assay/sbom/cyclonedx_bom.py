"""A complete CycloneDX BOM (JSON or XML, spec 1.5 to 1.7), validated before it is returned.

Metadata: the assay tool and version, the timestamp (left out when
reproducible), the author, the lifecycle phase (``pre-build`` for locks,
requirements and SBOM sources, ``operations`` for installed environments and
conda prefixes), the source's kind, name and digest as properties, and the
project as the root component when the environment names it.  The serial
number is derived from the content, so the same input gives the same document.
"""

from __future__ import annotations

import json

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
    return render(build_bom(env, options), spec, xml=xml)


__all__ = [
    "DEFAULT_SPEC",
    "SPEC_VERSIONS",
    "build_bom",
    "cyclonedx_document",
    "package_component",
    "render",
]
