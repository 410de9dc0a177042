"""The ``assay env`` commands end to end, through the real entry point."""

import json

import pytest

from assay.cli.app import run
from assay.environments.artifact import dumps
from assay.environments.model import Environment, Package, Source


@pytest.fixture
def artifact(tmp_path):
    env = Environment(
        source=Source("uv-lock", "uv.lock", "sha256:ab"),
        packages=(Package("requests", "2.31.0", requested=True), Package("idna", "3.4")),
        python_version="3.11.7",
    )
    path = tmp_path / "env.json"
    path.write_text(dumps(env))
    return path


def test_show_table(artifact, capsys):
    assert run(["env", "show", str(artifact)]) == 0
    out = capsys.readouterr().out
    assert "2 packages" in out
    assert "python 3.11.7" in out
    assert "requests" in out
    assert "direct" in out


def test_show_json_is_the_artifact(artifact, capsys):
    assert run(["env", "show", "--json", str(artifact)]) == 0
    assert capsys.readouterr().out == artifact.read_text()


def test_capture_writes_atomically_and_reports_digest(artifact, tmp_path, capsys):
    target = tmp_path / "out.json"
    assert run(["env", "capture", str(artifact), "-o", str(target)]) == 0
    assert target.read_text() == artifact.read_text()
    assert "captured 2 packages" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_capture_into_missing_directory_fails_cleanly(artifact, tmp_path, capsys):
    assert run(["env", "capture", str(artifact), "-o", str(tmp_path / "no" / "x.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("assay: error: ")
    assert err.count("\n") == 1


def test_diff_exit_codes(artifact, tmp_path, capsys):
    assert run(["env", "diff", str(artifact), str(artifact)]) == 0
    assert "no differences" in capsys.readouterr().out
    other = Environment(
        source=Source("pip-freeze", "f.txt", "sha256:cd"),
        packages=(Package("requests", "2.32.0"), Package("urllib3", "2.0.0")),
    )
    other_path = tmp_path / "other.json"
    other_path.write_text(dumps(other))
    assert run(["env", "diff", "--json", str(artifact), str(other_path)]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in document["added"]] == ["urllib3"]
    assert [p["name"] for p in document["removed"]] == ["idna"]
    assert document["changed"][0]["aspects"] == ["version"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["env", "show", "/definitely/not/here"], 3, "/definitely/not/here: no such file"),
        (["env", "show", "--format", "nope", "x"], 2, "unknown --format 'nope'"),
        (["env", "show", "--bogus", "x"], 2, "No such option"),
        (["env", "shw"], 2, "No such command"),
        (["env", "show"], 2, "Missing argument"),
    ],
)
def test_bad_usage_is_one_line_with_exit_code(argv, code, message, capsys):
    assert run(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("assay: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_unknown_file_format(tmp_path, capsys):
    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"\x00\x01\x02")
    assert run(["env", "show", str(blob)]) == 3
    assert "not a file assay can read" in capsys.readouterr().err


def test_version(capsys):
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("assay ")
