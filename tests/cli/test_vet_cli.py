"""``assay vet`` end to end: formats, exit codes, hostile archives, cache, name checks."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tarfile
from pathlib import Path
from typing import Any

import pytest

from assay.cli import vet as vet_module
from assay.cli.app import run
from assay.vetting import engine as engine_module
from assay.vetting import verdict as verdict_module
from assay.vetting.cache import ENGINE_VERSION, VetCache
from assay.vetting.slopsquat import ProjectInfo, ProjectInfoSource
from tests.advisories.reports.test_sarif import check_sarif_essentials
from tests.support import ASSETS
from tests.vetting import archive_builders as build
from tests.vetting import vet_samples

GOLDEN = ASSETS / "vetting" / "golden"
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path (relative paths in reports), with a private home and no index."""
    monkeypatch.chdir(tmp_path)
    for variable in ("ASSAY_POPULAR_PACKAGES", "ASSAY_INDEX_URL", "PIP_INDEX_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ASSAY_HOME", str(tmp_path / "home"))
    return tmp_path


def vet(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["vet", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def vet_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = vet(capsys, *args, "--format", "json", "--offline")
    return code, json.loads(out), err


def check_golden(name: str, text: str) -> None:
    """Compare with tests/assets/vetting/golden/NAME; ASSAY_UPDATE_GOLDEN=1 rewrites it."""
    text = text.replace(ENGINE_VERSION, "<engine>")
    path = GOLDEN / name
    if os.environ.get("ASSAY_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with ASSAY_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def samples(tmp_path: Path) -> tuple[str, str, str]:
    benign, suspicious = vet_samples.write_samples(tmp_path)
    popular = vet_samples.write_popular(tmp_path)
    return benign.name, suspicious.name, popular.name


# -- formats and golden files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output_format", "golden"), [("json", "vet.json"), ("sarif", "vet.sarif")]
)
def test_golden_reports(capsys, tmp_path, output_format, golden):
    benign, suspicious, popular = samples(tmp_path)
    args = (benign, suspicious, "--popular", popular, "--offline", "--format", output_format)
    code, out, err = vet(capsys, *args)
    assert code == 1
    check_golden(golden, out)
    assert "2 file(s) vetted, 1 at or above --fail-on 7.0" in err
    assert "note: offline: slopsquat signals unavailable (offline)" in err
    if output_format == "sarif":
        check_sarif_essentials(json.loads(out))


def test_json_carries_the_verdict_findings_and_name_checks(capsys, tmp_path):
    benign, suspicious, popular = samples(tmp_path)
    code, document, _ = vet_json(capsys, benign, suspicious, "--popular", popular)
    assert code == 1
    quiet, loud = document["results"]
    assert (quiet["name"], quiet["version"], quiet["label"], quiet["flagged"]) == (
        "tidy",
        "1.0",
        "none",
        False,
    )
    assert quiet["sha256"] == hashlib.sha256(Path(benign).read_bytes()).hexdigest()
    assert (loud["label"], loud["flagged"], loud["kind"]) == ("critical", True, "sdist")
    assert loud["score"] >= 9.0
    reasons = {(r["rule"], r["file"], r["line"]) for r in loud["reasons"]}
    assert ("second-stage-download-execute", "reqeusts-0.1/setup.py", 9) in reasons
    assert all(r["snippet"] and r["explanation"] for r in loud["reasons"])
    names = loud["name_checks"]
    assert names["status"] == "offline"
    assert "offline: slopsquat signals unavailable" in names["note"]
    typo = [f for f in names["findings"] if f["rule"] == "name-transposition"]
    assert typo == [
        {
            "rule": "name-transposition",
            "severity": "high",
            "imitates": "requests",
            "message": typo[0]["message"],
        }
    ]
    assert "Do not install it" in loud["explanation"]


def test_table_shows_reasons_and_all_findings_on_request(capsys, tmp_path):
    _, suspicious, popular = samples(tmp_path)
    code, out, _ = vet(capsys, suspicious, "--popular", popular, "--offline")
    assert code == 1
    assert "risk 10.0/10 critical" in out
    assert "FLAGGED" in out
    assert "reqeusts-0.1/setup.py:9" in out
    assert "name-transposition (imitates requests)" in out
    assert "--all-findings shows them" in out
    code, out, _ = vet(capsys, suspicious, "--offline", "--all-findings")
    assert "other findings" in out
    assert "install-setup-code" in out
    sarif = json.loads(vet(capsys, suspicious, "--offline", "--format", "sarif")[1])
    assert "install-setup-code" not in {r["ruleId"] for r in sarif["runs"][0]["results"]}
    args = (suspicious, "--offline", "--format", "sarif", "--all-findings")
    sarif = json.loads(vet(capsys, *args)[1])
    assert "install-setup-code" in {r["ruleId"] for r in sarif["runs"][0]["results"]}


def test_output_file_and_fail_on(capsys, tmp_path):
    benign, suspicious, _ = samples(tmp_path)
    code, out, _ = vet(capsys, benign, "--offline", "--format", "sarif", "-o", "out.sarif")
    assert (code, out) == (0, "")
    assert json.loads(Path("out.sarif").read_text())["runs"][0]["results"] == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert vet(capsys, suspicious, "--offline", "--fail-on", "critical")[0] == 1
    assert vet(capsys, suspicious, "--offline", "--fail-on", "10")[0] == 1
    assert vet(capsys, benign, "--offline", "--fail-on", "low")[0] == 0
    assert vet(capsys, benign, "--offline", "--fail-on", "0")[0] == 1  # 0: everything fails


def test_a_directory_target(capsys, tmp_path):
    root = tmp_path / "unpacked-2.0"
    (root / "unpacked").mkdir(parents=True)
    (root / "unpacked" / "__init__.py").write_text("VALUE = 1\n")
    (root / "passwd").symlink_to("/etc/passwd")
    code, document, _ = vet_json(capsys, "unpacked-2.0")
    [result] = document["results"]
    assert code == 0
    assert (result["name"], result["version"], result["kind"]) == ("unpacked", "2.0", "directory")
    assert result["sha256"] is None
    [problem] = result["archive"]["problems"]
    assert problem["kind"] == "symlink"
    assert "/etc/passwd" in problem["detail"]
    assert result["findings"][0]["rule"] == "archive-anomaly"


# -- hostile archives ---------------------------------------------------------------------------


def _hostile(tmp_path: Path, name: str, data: bytes) -> str:
    (tmp_path / name).write_bytes(data)
    return name


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


HOSTILE = {
    "bomb-1.0-py3-none-any.whl": lambda: build.deflate_zeros_zip(8 * MiB),
    "bomb-1.0.tar.gz": lambda: build.gzip_zeros_tar(8 * MiB),
    "escape-1.0.tar.gz": lambda: build.tar_bytes(
        [("../../etc/cron.d/x", b"evil"), ("/etc/passwd", b"root"), ("ok.py", b"1")], "gz"
    ),
    "cut-1.0.tar.gz": lambda: _half(build.tar_bytes([("a.py", bytes(range(256)) * 400)], "gz")),
    "cut-1.0-py3-none-any.whl": lambda: build.zip_bytes([("a.py", b"print(1)\n" * 1000)])[:-30],
    "garbage-1.0.tar.gz": lambda: b"\x00not an archive at all\xff" * 50,
    "empty-1.0.tar.gz": lambda: b"",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_unreadable_archives_are_flagged_never_clean(capsys, tmp_path, name):
    target = _hostile(tmp_path, name, HOSTILE[name]())
    code, document, err = vet_json(capsys, target)
    [result] = document["results"]
    assert code == 1, err
    assert result["flagged"]
    assert result["archive"]["complete"] is False
    assert result["reasons"][0]["rule"] == "archive-incomplete"
    assert "not fully analysed" in result["explanation"] or "completely" in result["explanation"]


def test_symlink_to_etc_passwd_is_a_finding(capsys, tmp_path):
    link = build.special("pkg/passwd", tarfile.SYMTYPE, "/etc/passwd")
    target = _hostile(tmp_path, "link-1.0.tar.gz", build.tar_bytes([link, ("pkg/a.py", b"")], "gz"))
    code, document, _ = vet_json(capsys, target)
    [result] = document["results"]
    assert code == 0  # nothing unread: a low anomaly, reported, not flagged
    [finding] = result["findings"]
    assert (finding["rule"], finding["file"], finding["snippet"]) == (
        "archive-anomaly",
        "pkg/passwd",
        "symlink",
    )
    assert "/etc/passwd" in finding["explanation"]


def test_zip_disguised_as_tar_gz(capsys, tmp_path):
    data = build.zip_bytes([("pkg/a.py", b"a = 1\n")])
    code, document, _ = vet_json(capsys, _hostile(tmp_path, "pkg-1.0.tar.gz", data))
    [result] = document["results"]
    assert result["archive"]["format"] == "zip"
    assert [f["snippet"] for f in result["findings"]] == ["format-confusion"]
    assert result["label"] == "high"  # a distribution disguised as another format
    assert code == 1


def test_ten_thousand_files(capsys, tmp_path):
    data = build.zip_bytes([(f"pkg/m{i}.py", b"x = %d\n" % i) for i in range(10_000)])
    code, document, _ = vet_json(capsys, _hostile(tmp_path, "many-1.0-py3-none-any.whl", data))
    [result] = document["results"]
    assert code == 0
    assert (result["archive"]["members_read"], result["archive"]["complete"]) == (10_000, True)


def test_an_analysis_that_raises_is_a_finding(capsys, tmp_path, monkeypatch):
    benign, _, _ = samples(tmp_path)

    real = engine_module.analyse_members

    def broken(name: str, members: list[Any], *args: Any, **kwargs: Any) -> Any:
        if members:  # the package's analysis; the empty fail-closed report still works
            raise RecursionError("maximum recursion depth exceeded")
        return real(name, members, *args, **kwargs)

    monkeypatch.setattr(verdict_module, "analyse_members", broken)
    code, document, _ = vet_json(capsys, benign)
    assert code == 1
    [finding] = document["results"][0]["findings"]
    assert finding["rule"] == "archive-incomplete"
    assert "RecursionError" in finding["explanation"]


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("missing.whl",), 3, "missing.whl: no such file or directory, and not a name==version"),
        (("x.whl", "--bogus"), 2, "No such option '--bogus'"),
        (("x.whl", "--fail-on", "severe"), 2, "--fail-on 'severe': not a score"),
        (("x.whl", "--format", "xml"), 2, "Invalid value for '--format'"),
        (("demo==1.0", "--offline"), 2, "demo==1.0: a name==version target needs the index"),
        (("x.whl", "--popular", "nope.json"), 3, "nope.json"),
    ],
)
def test_bad_input_is_one_line(capsys, tmp_path, args, code, message):
    (tmp_path / "x.whl").write_bytes(vet_samples.wheel_bytes(vet_samples.BENIGN_FILES))
    got, out, err = vet(capsys, *args)
    assert got == code
    assert message in err
    assert err.startswith("assay: error: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_unreadable_file(capsys, tmp_path, monkeypatch):
    path = tmp_path / "locked-1.0.tar.gz"
    path.write_bytes(b"x")
    real_open = Path.open

    def refuse(self, *args, **kwargs):  # tests may run as root, who reads every file
        if self.name == path.name:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    code, _, err = vet(capsys, path.name)
    assert code == 3
    assert "cannot read" in err


def test_a_fifo_or_device_is_refused_without_blocking(capsys, tmp_path):
    os.mkfifo(tmp_path / "pipe.whl")
    code, _, err = vet(capsys, "pipe.whl", "--offline")
    assert code == 3
    assert "pipe.whl: not a regular file or directory" in err


def test_unwritable_output(capsys, tmp_path):
    benign, _, _ = samples(tmp_path)
    code, _, err = vet(capsys, benign, "--offline", "-o", "no/such/dir/out.json")
    assert code == 2
    assert "cannot write" in err


# -- the result cache ---------------------------------------------------------------------------


def test_every_result_is_cached_unless_no_cache(capsys, tmp_path):
    benign, suspicious, popular = samples(tmp_path)
    path = tmp_path / "home" / "vet-cache.sqlite3"
    vet(capsys, benign, "--offline", "--no-cache")
    assert not path.exists()
    _, document, _ = vet_json(capsys, benign, suspicious, "--popular", popular)
    with VetCache(path) as cache:
        for result in document["results"]:
            cached = cache.get(result["sha256"])
            assert cached is not None
            assert (cached.name, cached.version, cached.score, cached.label) == (
                result["name"],
                result["version"],
                result["score"],
                result["label"],
            )
        [loud] = cache.find("REQEUSTS", "0.1.0")
        assert loud.filename == "reqeusts-0.1.tar.gz"
        assert any("second-stage-download-execute" in line for line in loud.reasons)
        assert loud.engine_version == ENGINE_VERSION


def test_a_corrupt_cache_is_exit_4(capsys, tmp_path):
    benign, _, _ = samples(tmp_path)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "vet-cache.sqlite3").write_bytes(b"garbage" * 200)
    code, out, err = vet(capsys, benign, "--offline")
    assert code == 4
    assert "not a usable assay vet cache" in err
    assert out == ""
    assert vet(capsys, benign, "--offline", "--no-cache")[0] == 0


# -- name checks and the upstream index ---------------------------------------------------------


class Established(ProjectInfoSource):
    def project(self, name: str) -> ProjectInfo | None:
        return ProjectInfo(name, releases=40, files=80, first_upload=None, latest_upload=None)


class Missing(ProjectInfoSource):
    def project(self, name: str) -> ProjectInfo | None:
        return None


def test_online_name_checks_without_notes(capsys, tmp_path, monkeypatch):
    benign, _, popular = samples(tmp_path)
    monkeypatch.setattr(vet_module, "project_source", lambda indexes: Established())
    code, out, err = vet(capsys, benign, "--popular", popular, "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["upstream"] == "queried"
    names = document["results"][0]["name_checks"]
    assert (names["status"], names["note"], names["findings"]) == ("checked", None, [])
    assert "note:" not in err


def test_a_project_missing_upstream_is_capped_at_medium(capsys, tmp_path, monkeypatch):
    benign, _, popular = samples(tmp_path)
    monkeypatch.setattr(vet_module, "project_source", lambda indexes: Missing())
    code, out, _ = vet(capsys, benign, "--popular", popular, "--format", "json")
    [result] = json.loads(out)["results"]
    assert code == 0
    assert (result["score"], result["label"], result["code_score"]) == (4.0, "medium", 0.0)
    assert result["name_checks"]["reasons"] == ["upstream-missing"]


def test_an_unreachable_index_degrades_with_a_note(capsys, tmp_path):
    benign, _, popular = samples(tmp_path)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple/"
    code, _, err = vet(capsys, benign, "--popular", popular, "--index-url", url)
    assert code == 0
    assert "note: offline: slopsquat signals unavailable" in err
    assert "ConnectError" in err


def test_without_a_popular_list_the_name_checks_say_so(capsys, tmp_path):
    benign, _, _ = samples(tmp_path)
    code, document, err = vet_json(capsys, benign)
    assert code == 0
    names = document["results"][0]["name_checks"]
    assert names["status"] == "not-run"
    assert "no popular-packages list" in names["note"]
    assert "name checks not run" in err


def test_name_version_from_a_file_index(capsys, tmp_path):
    benign, suspicious, popular = samples(tmp_path)
    files = tmp_path / "files"
    files.mkdir()
    links = []
    for name in (benign, suspicious):
        data = Path(name).read_bytes()
        (files / name).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        links.append(f'<a href="../../files/{name}#sha256={digest}">{name}</a>')
    for project, link in zip(("tidy", "reqeusts"), links, strict=True):
        (tmp_path / "simple" / project).mkdir(parents=True)
        (tmp_path / "simple" / project / "index.html").write_text(link)
    index = (tmp_path / "simple").as_uri()
    code, out, err = vet(
        capsys, "tidy==1.0", "reqeusts==0.1", "--index-url", index, "--popular", popular,
        "--format", "json",
    )  # fmt: skip
    assert code == 1
    results = json.loads(out)["results"]
    assert [(r["target"], r["file"], r["label"]) for r in results] == [
        ("tidy==1.0", benign, "none"),
        ("reqeusts==0.1", suspicious, "critical"),
    ]
    assert results[0]["origin"].startswith("file://")
    assert "not an HTTP(S) index" in err  # slopsquat signals need an HTTP index
    code, _, err = vet(capsys, "tidy==9.9", "--index-url", index)
    assert code == 3
    assert "no files of that version" in err
