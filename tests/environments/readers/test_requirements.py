"""requirements reader: files written by uv pip compile and pip-compile, and pip's syntax."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.environments.model import Hash, HashSource, OriginKind
from assay.environments.ports import ReaderError
from assay.environments.readers._files import digest
from assay.environments.readers.requirements import RequirementsReader
from tests.support import FIXTURE_INDEX, SIX_WHEEL_URL

READER = RequirementsReader()
TINYLIB_COMMIT = "a748842d3cdd66eee021e5608cc439c10eec920e"
SIX_URL = SIX_WHEEL_URL
SIX_SHA = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"


@pytest.fixture
def req_dir(assets: Path) -> Path:
    return assets / "requirements"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> ReaderError:
    with pytest.raises(ReaderError) as info:
        READER.read(path)
    return info.value


def test_uv_compile_with_hashes(req_dir: Path) -> None:
    path = req_dir / "uv-requirements.txt"
    env = READER.read(path)
    assert [p.name for p in env.packages] == [
        "certifi", "charset-normalizer", "click", "colorama", "idna", "pysocks", "requests",
        "six", "tinylib", "urllib3",
    ]  # fmt: skip
    assert env.source.kind == "requirements"
    assert env.source.digest == digest(path.read_bytes())
    assert env.python_version == "3.11"
    assert ("generator", "uv") in env.properties
    assert ("index-url", FIXTURE_INDEX) in env.properties

    (certifi,) = env.by_name("certifi")
    assert certifi.version_raw == "2026.10.19.post1"
    assert certifi.hashes == (
        Hash("sha256", "1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2"),
    )
    assert certifi.hash_source is HashSource.LOCK
    assert certifi.origin.kind is OriginKind.INDEX
    assert certifi.origin.url == FIXTURE_INDEX
    assert certifi.requested is False

    (charset,) = env.by_name("charset-normalizer")
    assert len(charset.hashes) == 172  # every wheel, from many continuation lines
    assert (
        Hash("sha256", "2a6f937e0b70133d1f826d0a253331b6fe1a4c874808cc12e16f2fb8177042f4")
        in charset.hashes
    )

    (colorama,) = env.by_name("colorama")
    assert colorama.version_raw == "0.4.6"
    assert colorama.markers == 'sys_platform == "win32"'
    assert colorama.requested is True

    (requests,) = env.by_name("requests")
    assert requests.version_raw == "2.34.2"
    assert requests.extras == ()  # uv writes no extras
    assert requests.requested is True
    assert requests.dependencies == ("certifi", "charset-normalizer", "idna", "pysocks", "urllib3")

    (six,) = env.by_name("six")
    assert six.version_raw == "1.16.0"  # from the wheel file name
    assert six.origin.kind is OriginKind.URL
    assert six.origin.url == SIX_URL
    assert six.hashes == (Hash("sha256", SIX_SHA),)

    (tinylib,) = env.by_name("tinylib")
    assert tinylib.version_raw is None
    assert tinylib.origin.kind is OriginKind.VCS
    assert tinylib.origin.vcs == "git"
    assert tinylib.origin.url == "file:///tmp/pipreaders/tinylib"
    assert tinylib.origin.commit == TINYLIB_COMMIT
    assert tinylib.dependencies == ("idna",)
    assert tinylib.hashes == ()
    assert tinylib.hash_source is None
    assert env.notes == (
        "1 direct reference(s) without a version number: tinylib (git@a748842d3cdd)",
    )

    (idna,) = env.by_name("idna")
    assert idna.requested is False  # "# via" on its own line, then "#   requests" items


def test_pip_compile_with_hashes(req_dir: Path) -> None:
    env = READER.read(req_dir / "pip-tools-requirements.txt")
    assert len(env.packages) == 9
    assert ("generator", "pip-compile") in env.properties
    assert env.python_version == "3.11"
    (requests,) = env.by_name("requests")
    assert requests.extras == ("socks",)
    assert requests.version_raw == "2.34.2"
    assert requests.origin.kind is OriginKind.INDEX
    assert requests.origin.url is None  # pip-compile did not write the (default) index
    (click,) = env.by_name("click")
    assert click.markers == 'python_version >= "3.8"'
    assert len(click.hashes) == 2
    (tinylib,) = env.by_name("tinylib")  # "git+file:/tmp/..." with one slash
    assert tinylib.origin.commit == TINYLIB_COMMIT
    assert tinylib.origin.url == "file:///tmp/pipreaders/tinylib"
    assert {p.name for p in env.packages if p.requested} == {
        "click", "requests", "six", "tinylib",
    }  # fmt: skip


def test_line_annotations_agree_with_block_annotations(req_dir: Path) -> None:
    line_style = READER.read(req_dir / "uv-line.txt")
    block_style = READER.read(req_dir / "pip-tools-requirements.txt")
    assert line_style.properties == ()  # --no-header
    assert line_style.python_version is None
    for package in line_style.packages:
        (other,) = block_style.by_name(package.name)
        assert (package.version_raw, package.requested, package.dependencies) == (
            other.version_raw, other.requested, other.dependencies,
        )  # fmt: skip
        assert package.hashes == ()


def test_report_agrees_with_compiled_versions(req_dir: Path, assets: Path) -> None:
    from assay.environments.readers.pip_json import PipReportReader  # noqa: PLC0415

    report = PipReportReader().read(assets / "pip-report" / "report.json")
    compiled = READER.read(req_dir / "pip-tools-requirements.txt")
    for package in compiled.packages:
        (planned,) = report.by_name(package.name)
        assert package.version_raw in (planned.version_raw, None)
        if package.hashes:
            assert set(planned.hashes) <= set(package.hashes)


def test_layered_compile_annotations(req_dir: Path) -> None:
    env = READER.read(req_dir / "dev-requirements.txt")
    assert [p.name for p in env.packages] == [
        "iniconfig", "packaging", "pluggy", "pygments", "pytest", "urllib3",
    ]  # fmt: skip
    (urllib3,) = env.by_name("urllib3")
    assert urllib3.requested is True  # "-c pip-tools-requirements.txt" and "-r dev.in"
    (pytest_,) = env.by_name("pytest")
    assert pytest_.dependencies == ("iniconfig", "packaging", "pluggy", "pygments")


def test_input_file_with_constraints(req_dir: Path) -> None:
    path = req_dir / "dev.in"
    env = READER.read(path)
    assert [p.name for p in env.packages] == ["pytest", "urllib3"]  # constraints add nothing
    (pytest_,) = env.by_name("pytest")
    assert pytest_.version_raw is None
    assert pytest_.specifier is None
    (urllib3,) = env.by_name("urllib3")
    assert urllib3.version_raw == "2.8.0"  # pinned by the -c file
    assert len(urllib3.hashes) == 2
    assert urllib3.hash_source is HashSource.LOCK
    assert urllib3.requested is None  # no annotations
    assert env.notes == (
        "1 requirement(s) not pinned to one version, kept unpinned: pytest (any version)",
        "8 constraint(s) name packages no requirement asks for (ignored, as pip does)",
    )
    assert env.source.digest != digest(path.read_bytes())  # covers the included file too


def test_unpinned_input_file(req_dir: Path) -> None:
    env = READER.read(req_dir / "requirements.in")
    assert len(env.packages) == 5
    (requests,) = env.by_name("requests")
    assert (requests.version_raw, requests.specifier, requests.extras) == (
        None,
        ">=2.31",
        ("socks",),
    )
    (colorama,) = env.by_name("colorama")
    assert colorama.markers == 'sys_platform == "win32"'
    assert colorama.origin.kind is OriginKind.INDEX
    (six,) = env.by_name("six")
    assert six.version_raw == "1.16.0"
    assert env.unpinned == tuple(p for p in env.packages if p.name != "six")
    assert env.notes[0] == (
        "3 requirement(s) not pinned to one version, kept unpinned: click (any version), "
        "colorama (any version), requests>=2.31"
    )


def test_specifier_forms(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "requirements.txt",
        "Foo_Bar===1.0-custom\nbaz~=1.2\nqux==1.*\nboth>=1,==1.5\nplain\nlocal==2.0+cpu  # pin\n",
    )
    env = READER.read(path)
    got = {p.name: (p.version_raw, p.specifier) for p in env.packages}
    assert got == {
        "Foo_Bar": ("1.0-custom", None),
        "baz": (None, "~=1.2"),
        "qux": (None, "==1.*"),
        "both": ("1.5", ">=1"),
        "plain": (None, None),
        "local": ("2.0+cpu", None),
    }
    (arbitrary,) = env.by_name("foo-bar")
    assert arbitrary.version is None  # not PEP 440, kept raw
    assert "3 requirement(s) not pinned" in env.notes[0]


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    _write(tmp_path / "sub" / "base.txt", "-c ../pins.txt\nattrs\n")
    _write(tmp_path / "pins.txt", "attrs==24.2.0 --hash=sha256:" + "ab" * 32 + "\n")
    path = _write(tmp_path / "requirements.txt", "-r sub/base.txt\nsix==1.16.0\n")
    env = READER.read(path)
    (attrs,) = env.by_name("attrs")
    assert attrs.version_raw == "24.2.0"
    assert attrs.hashes == (Hash("sha256", "ab" * 32),)
    assert len(env.packages) == 2


def test_requirement_inside_constraint_file_is_a_requirement(tmp_path: Path) -> None:
    _write(tmp_path / "more.txt", "idna==3.20\n")
    _write(tmp_path / "pins.txt", "-r more.txt\nsix==1.16.0\n")
    env = READER.read(_write(tmp_path / "requirements.txt", "-c pins.txt\n"))
    assert [(p.name, p.version_raw) for p in env.packages] == [("idna", "3.20")]


def test_error_in_included_file_names_that_file(tmp_path: Path) -> None:
    _write(tmp_path / "inner.txt", "six==1.16.0\nnot a requirement!\n")
    error = _error(_write(tmp_path / "requirements.txt", "attrs\n-r inner.txt\n"))
    assert error.path == str(tmp_path / "inner.txt")
    assert error.line == 2
    assert "invalid requirement" in str(error)


def test_missing_include_names_the_including_file(tmp_path: Path) -> None:
    error = _error(_write(tmp_path / "requirements.txt", "attrs\n\n-r missing.txt\n"))
    assert error.path == str(tmp_path / "requirements.txt")
    assert error.line == 3
    assert "missing.txt" in str(error)
    assert "does not exist" in str(error)


def test_include_cycle(tmp_path: Path) -> None:
    _write(tmp_path / "b.txt", "six\n-r a.txt\n")
    path = _write(tmp_path / "a.txt", "-r b.txt\n")
    error = _error(path)
    assert error.path == str(tmp_path / "b.txt")
    assert error.line == 2
    assert "cycle (a.txt -> b.txt -> a.txt)" in str(error)


def test_include_diamond_is_not_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path / "common.txt", "six==1.16.0\n")
    _write(tmp_path / "x.txt", "-r common.txt\n")
    _write(tmp_path / "y.txt", "-r common.txt\n")
    env = READER.read(_write(tmp_path / "requirements.txt", "-r x.txt\n-r y.txt\n"))
    assert [p.name for p in env.packages] == ["six"]


def test_remote_include_is_not_fetched(tmp_path: Path) -> None:
    error = _error(_write(tmp_path / "requirements.txt", "-r https://example.invalid/r.txt\n"))
    assert error.line == 1
    assert "not fetched" in str(error)


def test_editables_and_direct_references(tmp_path: Path) -> None:
    _write(tmp_path / "proj" / "pyproject.toml", '[project]\nname = "My.Proj"\nversion = "0.4"\n')
    path = _write(
        tmp_path / "requirements.txt",
        "-e ./proj[extra]\n"
        "-e git+https://user:secret@git.example/org/repo.git@v1.2#egg=repo&subdirectory=pkg\n"
        "./dist/wheelpkg-0.2.0-py3-none-any.whl\n"
        "https://files.example/pkgs/sdistpkg-1.0.tar.gz#sha512="
        + "cd"
        * 64
        + " ; os_name == 'posix'\n"
        "direct @ file:///opt/direct-3.0-py3-none-any.whl\n",
    )
    env = READER.read(path)
    (proj,) = env.by_name("my-proj")
    assert proj.version_raw == "0.4"  # static [project] version of the local tree
    assert proj.extras == ("extra",)
    assert (proj.origin.kind, proj.origin.path, proj.origin.editable) == (
        OriginKind.DIRECTORY, "./proj", True,
    )  # fmt: skip
    (repo,) = env.by_name("repo")
    assert repo.origin.kind is OriginKind.VCS
    assert repo.origin.url == "https://***@git.example/org/repo.git"  # no credentials kept
    assert (repo.origin.requested_revision, repo.origin.commit) == ("v1.2", None)
    assert repo.origin.subdirectory == "pkg"
    assert repo.origin.editable
    (wheel,) = env.by_name("wheelpkg")
    assert (wheel.version_raw, wheel.origin.path) == (
        "0.2.0",
        "./dist/wheelpkg-0.2.0-py3-none-any.whl",
    )
    (sdist,) = env.by_name("sdistpkg")
    assert sdist.version_raw == "1.0"
    assert sdist.markers == 'os_name == "posix"'
    assert sdist.hashes == (Hash("sha512", "cd" * 64),)
    (direct,) = env.by_name("direct")
    assert (direct.version_raw, direct.origin.path) == ("3.0", "/opt/direct-3.0-py3-none-any.whl")
    # pyproject.toml read to name the editable is part of the digest
    assert env.source.digest != digest(path.read_bytes())


def test_editable_without_a_name_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "unnamed").mkdir()
    error = _error(_write(tmp_path / "requirements.txt", "six\n-e ./unnamed\n"))
    assert error.line == 2
    assert "#egg=" in str(error)


def test_index_options(tmp_path: Path) -> None:
    single = READER.read(
        _write(tmp_path / "a.txt", "-i https://tok:pw@mirror.example/simple\nsix==1\n")
    )
    assert single.packages[0].origin.url == "https://***@mirror.example/simple"
    assert ("index-url", "https://***@mirror.example/simple") in single.properties
    several = READER.read(
        _write(
            tmp_path / "b.txt",
            "--index-url https://one.example/simple\n--extra-index-url=https://two.example/simple\n"
            "--trusted-host two.example\n--find-links ./wheels\n--no-index\n--prefer-binary\n"
            "six==1\n",
        )
    )
    assert several.packages[0].origin.kind is OriginKind.INDEX
    assert several.packages[0].origin.url is None  # several places to look: no single index
    assert ("trusted-host", "two.example") in several.properties
    assert ("no-index", "true") in several.properties


def test_duplicates_merge_and_conflicts(tmp_path: Path) -> None:
    env = READER.read(
        _write(
            tmp_path / "requirements.txt",
            "six>=1\nsix==1.16.0\n"
            "numpy==1.24.4 ; python_version < '3.9'\nnumpy==2.0.2 ; python_version >= '3.9'\n",
        )
    )
    (six,) = env.by_name("six")
    assert (six.version_raw, six.specifier) == ("1.16.0", ">=1")
    assert [p.version_raw for p in env.by_name("numpy")] == ["1.24.4", "2.0.2"]
    error = _error(_write(tmp_path / "bad.txt", "six==1.16.0\nattrs\nsix==1.15.0\n"))
    assert error.line == 3
    assert "conflicts with 1.16.0" in str(error)


def test_unannotated_line_in_annotated_file(tmp_path: Path) -> None:
    env = READER.read(
        _write(
            tmp_path / "requirements.txt",
            "idna==3.20\n    # via requests\nrequests==2.34.2  # via -r requirements.in\n"
            "six==1.16.0\n",
        )
    )
    got = {p.name: (p.requested, p.dependencies) for p in env.packages}
    assert got == {
        "idna": (False, ()),
        "requests": (True, ("idna",)),
        "six": (None, ()),  # added by hand: no annotation, so unknown
    }


def test_constraint_markers(tmp_path: Path) -> None:
    _write(tmp_path / "c.txt", "numpy==1.24.4 ; python_version < '3.9'\nsix==1.16.0\n")
    env = READER.read(
        _write(
            tmp_path / "requirements.txt",
            "-c c.txt\nnumpy ; python_version < '3.9'\nnumpy>=2 ; python_version >= '3.9'\nsix\n",
        )
    )
    assert [(p.version_raw, p.specifier) for p in env.by_name("numpy")] == [
        (None, ">=2"),
        ("1.24.4", None),
    ]
    assert env.by_name("six")[0].version_raw == "1.16.0"


def test_conflicting_constraint(tmp_path: Path) -> None:
    _write(tmp_path / "c.txt", "six==2.0\n")
    error = _error(_write(tmp_path / "requirements.txt", "-c c.txt\nsix==1.16.0\n"))
    assert error.path == str(tmp_path / "c.txt")
    assert error.line == 1


def test_unsafe_packages_are_noted(tmp_path: Path) -> None:
    env = READER.read(
        _write(
            tmp_path / "requirements.txt",
            "wheel==0.45.0\n    # via -r requirements.in\n\n"
            "# The following packages are considered to be unsafe in a requirements file:\n"
            "# setuptools\n",
        )
    )
    assert [p.name for p in env.packages] == ["wheel"]
    assert env.notes == (
        "pip-compile commented out 'unsafe' package(s), not installed from this file: setuptools",
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("six==1\n--frobnicate\n", 2, "unknown option '--frobnicate'"),
        ("six==1\n-x foo\n", 2, "unknown option '-x'"),
        ("six==1 \\\n    --hash=sha256:" + "a" * 64 + " \\\n", 1, "line continuation"),
        ("six==1 --hash=md5:abcd\n", 1, "--hash algorithm"),
        ("six==1 --hash=sha256:not-hex\n", 1, "--hash must look like"),
        ("--hash=sha256:" + "a" * 64 + "\n", 1, "must follow a requirement"),
        ("six==1 --index-url https://x.example\n", 1, "cannot follow a requirement"),
        ("-r\n", 1, "needs a value"),
        ("--no-index=yes\n", 1, "takes no value"),
        ("six==1 'unbalanced\n", 1, "invalid requirement"),
        ("\n\nsix=1.0\n", 3, "invalid requirement"),
        ("six==1,==2\n", 1, "pins more than one version"),
        ("six @ gopher://x.example/six.whl\n", 1, "unsupported URL scheme"),
        ("-e ./nowhere\n", 1, "#egg="),
        ("six\n-e git+https://git.example/r.git#egg=bad!name\n", 2, "not a valid package name"),
    ],
)
def test_bad_lines(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    error = _error(path)
    assert error.path == str(path)
    assert error.line == line
    assert message in str(error)


def test_latin1_bytes(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"six==1.16.0\n# caf\xe9\n")
    error = _error(path)
    assert (error.path, error.line) == (str(path), 2)
    assert "UTF-8" in str(error)


def test_empty_and_comment_only_files(tmp_path: Path) -> None:
    for text in ("", "# nothing here\n\n"):
        env = READER.read(_write(tmp_path / "requirements.txt", text))
        assert env.packages == ()
        assert env.notes == ()


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in str(_error(tmp_path / "requirements.txt"))


def test_sniff(req_dir: Path, tmp_path: Path) -> None:
    for name in ("uv-requirements.txt", "pip-tools-requirements.txt", "uv-line.txt", "dev.in"):
        assert READER.sniff(req_dir / name), name
    assert READER.sniff(_write(tmp_path / "requirements-empty.txt", "# only a comment\n"))
    assert READER.sniff(_write(tmp_path / "deps.txt", "-e .\nsix>=1 ; python_version<'4'\n"))
    assert not READER.sniff(_write(tmp_path / "notes.txt", "Remember to buy milk.\n"))
    assert not READER.sniff(_write(tmp_path / "empty.txt", ""))
    assert not READER.sniff(_write(tmp_path / "CMakeLists.txt", "cmake_minimum_required(3.10)\n"))
    assert not READER.sniff(_write(tmp_path / "requirements.json", json.dumps({"a": 1})))
    assert not READER.sniff(_write(tmp_path / "requirements.txt", "--not-an-option\n"))
    assert not READER.sniff(tmp_path)
    assert not READER.sniff(tmp_path / "absent-requirements.txt")
