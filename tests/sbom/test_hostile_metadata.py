"""Odd but real-world METADATA never turns into an invalid document or an internal error."""

import shutil

import pytest

from assay.cli.app import run
from tests.support import ASSETS


@pytest.fixture
def odd_venv(tmp_path):
    venv = tmp_path / "venv"
    shutil.copytree(ASSETS / "installed" / "venv", venv)
    (metadata,) = venv.glob("lib/python3.11/site-packages/requests-*.dist-info/METADATA")
    text = metadata.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n\n")
    head = "\n".join(
        line for line in head.splitlines() if not line.startswith(("Home-page:", "Author-email:"))
    )
    head = head.replace("Summary: ", "Summary: control\x01char ", 1)
    head += "\nHome-page: TBD\nAuthor-email: John Doe"
    metadata.write_text(head + sep + body, encoding="utf-8")
    return venv


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx3-jsonld"])
def test_every_format_is_written(odd_venv, tmp_path, fmt, capsys):
    out = tmp_path / "sbom.out"
    assert run(["sbom", str(odd_venv), "--format", fmt, "-o", str(out)]) == 0, capsys.readouterr()
    text = out.read_text(encoding="utf-8")
    assert "controlchar" in text or "control\\u0001char" in text or "control\x01char" in text
    if fmt == "spdx-json":
        assert '"homepage": "TBD"' not in text  # not a URL SPDX 2.3 accepts: left out


def test_a_name_in_author_email_stays_a_name(odd_venv, capsys):
    assert run(["env", "show", "--json", str(odd_venv)]) == 0
    assert '"name": "John Doe"' in capsys.readouterr().out


def test_aibom_with_that_environment(odd_venv, tmp_path, capsys):
    model = ASSETS / "mlflow-model" / "sklearn-model"
    out = tmp_path / "aibom.json"
    assert run(["aibom", str(model), "--env", str(odd_venv), "-o", str(out)]) == 0
    assert out.stat().st_size > 0


def test_sbom_check_on_wrongly_typed_spdx_ids(tmp_path, capsys):
    document = tmp_path / "odd.spdx.json"
    document.write_text(
        '{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "d",'
        ' "documentDescribes": [["x"]], "creationInfo": {"created": "2026-01-01T00:00:00Z",'
        ' "creators": ["Tool: t"]}, "packages": [{"SPDXID": [], "name": "a"}]}'
    )
    assert run(["sbom", "check", str(document)]) == 1  # elements missing, not an internal error
    assert "internal error" not in capsys.readouterr().err
