"""Schema validation of generated documents, before anything is written.

CycloneDX JSON is checked against the official schema files that
cyclonedx-python-lib ships (the same files and registry its
``JsonStrictValidator`` uses) with ``jsonschema``'s Draft 7 validator and
format checker, except that ``iri-reference`` / ``iri`` use
:mod:`assay.sbom.iri` (a regular expression) instead of the Earley parser
``jsonschema`` picks, which costs ~40 ms per URL.  CycloneDX XML goes through
the library's own XSD validator.  Any failure raises
:class:`~assay.sbom.context.SbomBuildError`: an invalid document is a bug.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from assay.sbom import iri
from assay.sbom.context import SbomBuildError

_BLOCKED = "rfc3987_syntax"


def _import_jsonschema() -> Any:
    """Import ``jsonschema`` without building the Earley IRI grammar (~1 s) it does not need.

    Only when nothing has imported ``jsonschema`` yet: the optional grammar
    module is hidden during that one import (``jsonschema`` then registers no
    IRI checker) and put back right after, so later imports behave normally.
    """
    if "jsonschema" in sys.modules:
        import jsonschema  # type: ignore[import-untyped]  # noqa: PLC0415

        return jsonschema
    had = _BLOCKED in sys.modules
    saved = sys.modules.get(_BLOCKED)
    sys.modules[_BLOCKED] = None  # type: ignore[assignment]  # makes `import` raise ImportError
    try:
        import jsonschema  # noqa: PLC0415
    finally:
        if had:
            sys.modules[_BLOCKED] = saved  # type: ignore[assignment]
        else:
            del sys.modules[_BLOCKED]
    return jsonschema


@cache
def _cyclonedx_json_validator(spec: str) -> Any:
    jsonschema = _import_jsonschema()
    from cyclonedx.schema import SchemaVersion  # noqa: PLC0415
    from cyclonedx.schema._res import (  # noqa: PLC0415
        BOM_JSON_STRICT,
        CRYPTOGRAPHY_DEFS,
        JSF,
        SPDX_JSON,
    )
    from referencing import Registry  # noqa: PLC0415
    from referencing.jsonschema import DRAFT7  # noqa: PLC0415

    version = SchemaVersion.from_version(spec)
    schema_file = BOM_JSON_STRICT[version]
    if schema_file is None:  # pragma: no cover - every supported spec has a schema
        raise SbomBuildError(f"no CycloneDX {spec} JSON schema")
    prefix = "http://cyclonedx.org/schema/"
    resources = []
    for name, file in (
        ("spdx.SNAPSHOT.schema.json", SPDX_JSON),
        ("cryptography-defs.SNAPSHOT.schema.json", CRYPTOGRAPHY_DEFS),
        ("jsf-0.82.SNAPSHOT.schema.json", JSF),
    ):
        document = json.loads(Path(file).read_text(encoding="utf-8"))
        resources.append((prefix + name, DRAFT7.create_resource(document)))
    schema = json.loads(Path(schema_file).read_text(encoding="utf-8"))
    checker = _format_checker(jsonschema)
    validator_class = jsonschema.validators.extend(
        jsonschema.Draft7Validator, {"uniqueItems": _unique_items(jsonschema)}
    )
    return validator_class(
        schema, registry=Registry().with_resources(resources), format_checker=checker
    )


def _unique_items(jsonschema: Any) -> Any:
    """``uniqueItems`` in linear time: items compared by their canonical JSON text.

    ``jsonschema`` compares unhashable items pairwise (quadratic: ~1 s for a few
    hundred components).  Canonical text differs from JSON equality only for
    numbers such as ``1`` and ``1.0``, which assay's documents do not contain.
    """

    def unique_items(validator: Any, unique: bool, instance: Any, schema: Any) -> Any:
        if not unique or not validator.is_type(instance, "array"):
            return
        seen: set[str] = set()
        for item in instance:
            key = json.dumps(item, sort_keys=True, separators=(",", ":"))
            if key in seen:
                yield jsonschema.ValidationError(f"{instance!r} has non-unique elements")
                return
            seen.add(key)

    return unique_items


def _format_checker(jsonschema: Any) -> Any:
    base = jsonschema.Draft7Validator.FORMAT_CHECKER
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    checker.checkers["iri-reference"] = (_str_check(iri.is_iri_reference), ())
    checker.checkers["iri"] = (_str_check(iri.is_iri), ())
    return checker


def _str_check(check: Any) -> Any:
    def run(instance: object) -> bool:
        return not isinstance(instance, str) or bool(check(instance))

    return run


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(document)"
    return f"{where}: {error.message}"


def check_cyclonedx_json(document: Any, spec: str) -> None:
    """Raise SbomBuildError unless ``document`` (parsed JSON) is valid CycloneDX ``spec``."""
    error = next(iter(_cyclonedx_json_validator(spec).iter_errors(document)), None)
    if error is not None:
        raise SbomBuildError(
            f"generated CycloneDX {spec} JSON is not schema-valid: {_describe(error)}"
        )


def check_cyclonedx_xml(text: str, spec: str) -> None:
    """Raise SbomBuildError unless ``text`` is valid CycloneDX ``spec`` XML (library XSD)."""
    from cyclonedx.schema import OutputFormat, SchemaVersion  # noqa: PLC0415
    from cyclonedx.validation import make_schemabased_validator  # noqa: PLC0415

    validator = make_schemabased_validator(OutputFormat.XML, SchemaVersion.from_version(spec))
    error = validator.validate_str(text)
    if error is not None:
        raise SbomBuildError(f"generated CycloneDX {spec} XML is not schema-valid: {error}")
