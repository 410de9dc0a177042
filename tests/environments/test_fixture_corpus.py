"""Every real fixture: detected as the right format, and lossless through the artifact."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assay.environments.artifact import dumps, from_document
from assay.environments.readers import detect, format_names

ASSETS = Path(__file__).resolve().parents[1] / "assets"
REPO = Path(__file__).resolve().parents[2]

CORPUS = {
    "installed/venv": "installed",
    "conda-prefix/prefix": "conda-prefix",
    "requirements/uv-requirements.txt": "requirements",
    "requirements/pip-tools-requirements.txt": "requirements",
    "requirements/dev-requirements.txt": "requirements",
    "pip-freeze/freeze.txt": "pip-freeze",
    "pip-inspect/inspect.json": "pip-inspect",
    "pip-report/report.json": "pip-report",
    "pylock/pylock.toml": "pylock",
    "pylock/pylock.pdm.toml": "pylock",
    "pylock/pylock.pip.toml": "pylock",
    "uv-lock/small/uv.lock": "uv-lock",
    "uv-lock/large/uv.lock": "uv-lock",
    "poetry-lock/v1/poetry.lock": "poetry-lock",
    "poetry-lock/v2.0/poetry.lock": "poetry-lock",
    "poetry-lock/v2/poetry.lock": "poetry-lock",
    "pipfile-lock/Pipfile.lock": "pipfile-lock",
    "pdm-lock/pdm.lock": "pdm-lock",
    "conda-environment/environment.yml": "conda-environment",
    "conda-lock/conda-lock.yml": "conda-lock",
    "pixi-lock/pixi.lock": "pixi-lock",
    "pixi-lock/pixi-v5.lock": "pixi-lock",
    "mlflow-model/sklearn-model": "mlflow-model",
    "mlflow-model/uv-model": "mlflow-model",
    "cyclonedx/env-1.4.cdx.json": "cyclonedx",
    "cyclonedx/env-1.6.cdx.json": "cyclonedx",
    "cyclonedx/uv-export.cdx.json": "cyclonedx",
    "spdx/env.spdx.json": "spdx",
    "spdx/sbom4python-requirements.spdx.json": "spdx",
}


def test_the_corpus_covers_every_reader():
    assert set(CORPUS.values()) == set(format_names()) - {"assay-environment"}


@pytest.mark.parametrize(("relative", "expected"), sorted(CORPUS.items()))
def test_detected_and_lossless(relative, expected, tmp_path):
    path = ASSETS / relative
    reader = detect(path)
    assert reader.format_name == expected
    env = reader.read(path)
    assert env.packages, f"{relative} read as empty"
    text = dumps(env)
    assert from_document(path, json.loads(text)) == env
    artifact = tmp_path / "env.json"
    artifact.write_text(text)
    assert detect(artifact).format_name == "assay-environment"
    assert detect(artifact).read(artifact) == env


def test_example_project_lock_and_export_agree():
    lock = detect(REPO / "examples/churn-model/uv.lock").read(REPO / "examples/churn-model/uv.lock")
    export = REPO / "examples/churn-model/requirements.txt"
    exported = detect(export).read(export)
    assert {(p.canonical_name, p.version_raw) for p in exported.packages} == {
        (p.canonical_name, p.version_raw)
        for p in lock.packages
        if p.canonical_name != "churn-model"
    }


def test_digests_do_not_depend_on_the_hash_seed():
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from assay.environments.readers import detect\n"
        "from assay.environments.artifact import environment_digest\n"
        "for rel in json.loads(sys.argv[1]):\n"
        "    p = Path(sys.argv[2]) / rel\n"
        "    print(rel, environment_digest(detect(p).read(p)))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, json.dumps(sorted(CORPUS)), str(ASSETS)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    assert runs[0].count("sha256:") == len(CORPUS)
