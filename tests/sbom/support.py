"""Reference validators for SBOM tests: each format's own library, unmodified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import spdx_python_model
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation import make_schemabased_validator
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document


def assert_valid_cyclonedx(text: str, spec: str = "1.6", *, xml: bool = False) -> None:
    version = SchemaVersion.from_version(spec)
    validator = (
        make_schemabased_validator(OutputFormat.XML, version)
        if xml
        else JsonStrictValidator(version)
    )
    error = validator.validate_str(text)
    assert error is None, str(error)


def assert_valid_spdx2(path: Path) -> Any:
    document = parse_file(str(path))
    messages = validate_full_spdx_document(document)
    assert messages == [], [m.validation_message for m in messages[:5]]
    return document


def load_spdx3(text: str) -> Any:
    """Deserialize through the SPDX 3 bindings (which check types); return the object set."""
    _, objset = spdx_python_model.load_data(json.loads(text))
    return objset
