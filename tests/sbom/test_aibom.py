"""``assay aibom``: golden AIBOMs of fixture model dirs, schema validation, findings, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from assay.cli.app import run
from assay.sbom.aibom import aibom_document
from assay.sbom.aibom_source import read_model
from tests.support import ASSETS
from tests.vetting.pickle_builder import gadget, torch_state_dict_pickle, torch_zip

AIBOM = ASSETS / "aibom"
HF = AIBOM / "hf-tiny"
CARD = AIBOM / "card.yaml"
MLFLOW = ASSETS / "mlflow-model" / "sklearn-model"


def _valid(text: str) -> Any:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    return json.loads(text)


def _golden(name: str, text: str) -> None:
    path = AIBOM / name
    if os.environ.get("ASSAY_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _aibom(capsys, *args: str) -> str:
    assert run(["aibom", *args, "--reproducible"]) == 0
    out: str = capsys.readouterr().out
    return out


def test_hf_dir_with_card_matches_golden_and_validates(capsys):
    text = _aibom(capsys, str(HF), "--card", str(CARD))
    _golden("hf-tiny.cdx.json", text)
    doc = _valid(text)
    model = doc["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert (model["name"], model["version"]) == ("tiny-sentiment", "1.0.0")
    params = model["modelCard"]["modelParameters"]
    assert params["task"] == "text-classification"
    assert params["architectureFamily"] == "transformer"
    assert params["modelArchitecture"] == "BertForSequenceClassification"
    assert params["datasets"] == [{"ref": "data:imdb"}, {"ref": "data:reviews-train"}]
    metrics = model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert {(m["type"], m["value"], m.get("slice")) for m in metrics} == {
        ("accuracy", "0.871", "IMDB (test)"),
        ("f1", "0.866", "IMDB (test)"),
        ("accuracy", "0.874", "reviews (holdout)"),
    }


def test_every_file_is_a_hashed_component_with_its_format(capsys):
    doc = _valid(_aibom(capsys, str(HF)))
    files = {c["name"]: c for c in doc["components"] if c["type"] == "file"}
    assert set(files) == {"README.md", "config.json", "model.safetensors", "training_state.pkl"}
    weights = files["model.safetensors"]
    assert weights["hashes"] == [
        {
            "alg": "SHA-256",
            "content": __import__("hashlib")
            .sha256((HF / "model.safetensors").read_bytes())
            .hexdigest(),
        }
    ]
    props = {p["name"]: p["value"] for p in weights["properties"]}
    assert props["assay:model:file-format"] == "safetensors"
    assert props["assay:model:tensors"] == "2"
    assert props["assay:scan:status"] == "clean"
    pkl = {p["name"]: p["value"] for p in files["training_state.pkl"]["properties"]}
    assert (pkl["assay:model:file-format"], pkl["assay:scan:status"]) == ("pickle", "clean")
    assert "vulnerabilities" not in doc
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert sorted(deps["model"]) == sorted(f"file:{name}" for name in files)


def test_datasets_become_data_components(capsys):
    doc = _valid(_aibom(capsys, str(HF), "--card", str(CARD)))
    data = {c["name"]: c for c in doc["components"] if c["type"] == "data"}
    local = data["reviews-train"]
    digest = hashlib.sha256((AIBOM / "data" / "train.csv").read_bytes()).hexdigest()
    assert local["hashes"] == [{"alg": "SHA-256", "content": digest}]
    assert local["licenses"][0]["license"]["id"] == "CC-BY-4.0"
    (block,) = local["data"]
    assert block["classification"] == "internal"
    assert block["governance"]["owners"][0]["organization"]["name"] == "Data Platform team"
    assert data["imdb"]["data"][0]["contents"]["url"].startswith("https://")


def test_mlflow_model_matches_golden_with_environment(capsys):
    text = _aibom(capsys, str(MLFLOW))
    _golden("mlflow-sklearn.cdx.json", text)
    doc = _valid(text)
    model = doc["metadata"]["component"]
    assert model["name"] == "sklearn-model"
    params = model["modelCard"]["modelParameters"]
    assert params["inputs"] == [{"format": "tensor float64 shape [-1, 2]"}]
    assert params["outputs"] == [{"format": "tensor int64 shape [-1]"}]
    assert params["architectureFamily"] == "sklearn 1.9.1"
    libraries = {c["name"] for c in doc["components"] if c["type"] == "library"}
    assert libraries == {"mlflow", "pandas", "scikit-learn", "skops"}
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert "pkg:pypi/scikit-learn@1.9.1" in deps["model"]


def test_env_option_replaces_the_environment(capsys):
    requirements = ASSETS / "requirements"
    source = next(p for p in sorted(requirements.rglob("*.txt")))
    doc = _valid(_aibom(capsys, str(HF), "--env", str(source)))
    assert any(c["type"] == "library" for c in doc["components"])


def test_reproducible_output_is_byte_identical_and_default_has_timestamp(capsys):
    first = _aibom(capsys, str(HF), "--card", str(CARD))
    assert _aibom(capsys, str(HF), "--card", str(CARD)) == first
    assert "timestamp" not in json.loads(first)["metadata"]
    assert run(["aibom", str(HF)]) == 0
    assert "timestamp" in _valid(capsys.readouterr().out)["metadata"]


@pytest.fixture
def evil_model(tmp_path):
    model = tmp_path / "evil"
    shutil.copytree(HF, model)
    (model / "pytorch_model.bin").write_bytes(
        torch_zip(torch_state_dict_pickle(), {"archive/extra.pkl": gadget("os", "system")})
    )
    (model / "optimizer.pkl").write_bytes(pickle.dumps({"lr": 0.1}))
    return model


def test_findings_are_vulnerabilities_and_check_fails(evil_model, capsys, tmp_path):
    doc = _valid(aibom_document(read_model(evil_model), reproducible=True))
    (vuln,) = doc["vulnerabilities"]
    assert vuln["id"] == "pickle-dangerous-global"
    assert vuln["ratings"] == [{"severity": "critical"}]
    assert vuln["affects"] == [{"ref": "file:pytorch_model.bin"}]
    assert vuln["cwes"] == [502]
    props = {p["name"]: p["value"] for p in vuln["properties"]}
    assert props["assay:finding:member"] == "archive/extra.pkl"
    assert props["assay:finding:subject"] == "os.system"

    target = tmp_path / "aibom.json"
    assert run(["aibom", str(evil_model), "--check", "-o", str(target)]) == 1
    out = capsys.readouterr()
    assert (
        "pytorch_model.bin!archive/extra.pkl@2: critical pickle-dangerous-global: os.system"
        in out.out
    )
    assert "1 high or critical" in out.err
    _valid(target.read_text())


def test_check_passes_on_clean_model(capsys):
    assert run(["aibom", str(HF), "--check"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # --check without -o prints findings only, and there are none
    assert "0 findings" in captured.err


def test_plain_directory_of_weights(tmp_path, capsys):
    (tmp_path / "model.pt").write_bytes(torch_zip(torch_state_dict_pickle()))
    doc = _valid(_aibom(capsys, str(tmp_path)))
    model = doc["metadata"]["component"]
    assert model["name"] == tmp_path.name
    assert {p["name"]: p["value"] for p in model["properties"]}["assay:model:kind"] == "plain"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["/no/such/model"], 3, "no such model directory"),
        ([str(HF / "config.json")], 3, "is not a directory"),
        ([str(HF), "--card", "/no/card.yaml"], 3, "no such file"),
        ([str(HF), "--bogus"], 2, "No such option"),
    ],
)
def test_exit_codes(args, code, message, capsys):
    assert run(["aibom", *args]) == code
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("nmae: x\n", "unknown key(s) in `card`: nmae"),
        ("approach: guessing\n", "`approach` must be one of"),
        ("datasets:\n  - url: x\n", "`datasets[0]` needs a `name`"),
        ("metrics:\n  - type: f1\n", "needs `type` and `value`"),
        ("datasets:\n  - name: d\n    path: missing.csv\n", "does not exist"),
        ("name: [\n", "invalid YAML"),
    ],
)
def test_bad_cards_are_input_errors(tmp_path, capsys, card, message):
    path = tmp_path / "card.yaml"
    path.write_text(card)
    assert run(["aibom", str(HF), "--card", str(path)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("assay: error: ")
    assert message in err, err
