"""The ``conda-prefix`` reader: conda-meta records, history and pip-installed packages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assay.environments.model import (
    Ecosystem,
    Environment,
    HashSource,
    OriginKind,
    Package,
    Party,
)
from assay.environments.ports import ReaderError
from assay.environments.readers.conda_prefix import CondaPrefixReader, requested_names
from assay.environments.readers.installed import InstalledReader
from tests.support import CONDA_FORGE, CONDA_MAIN

READER = CondaPrefixReader()
SITE = "lib/python3.11/site-packages"
MAIN = CONDA_MAIN
FORGE = CONDA_FORGE


@pytest.fixture
def prefix(assets: Path) -> Path:
    return assets / "conda-prefix" / "prefix"


@pytest.fixture
def copied(prefix: Path, tmp_path: Path) -> Path:
    target = tmp_path / "prefix"
    shutil.copytree(prefix, target)
    return target


def _one(env: Environment, name: str) -> Package:
    (package,) = env.by_name(name)
    return package


def test_reads_fixture(prefix: Path) -> None:
    env = READER.read(prefix)
    conda = [p for p in env.packages if p.ecosystem is Ecosystem.CONDA]
    pypi = [p for p in env.packages if p.ecosystem is Ecosystem.PYPI]
    assert len(conda) == 14
    assert [p.name for p in pypi] == [
        "opt-einsum"
    ]  # numpy, pip, six are conda's, not counted twice
    assert env.python_version == "3.11.8"
    assert env.platform == "linux-64"
    assert env.source.kind == "conda-prefix"
    assert len(env.notes) == 1
    assert env.notes[0].startswith("15 conda dependencies are not installed in the prefix")
    assert "tk" not in env.notes[0]  # only the first ten are named
    assert "__glibc" not in env.notes[0]  # virtual packages are never installed


def test_conda_package_details(prefix: Path) -> None:
    env = READER.read(prefix)
    record = json.loads((prefix / "conda-meta" / "openssl-3.0.13-h7f8727e_0.json").read_text())
    openssl = _one(env, "openssl")
    assert openssl.version_raw == "3.0.13"
    assert openssl.ecosystem is Ecosystem.CONDA
    assert openssl.build == "h7f8727e_0"
    assert openssl.platform == "linux-64"
    assert openssl.origin.kind is OriginKind.CHANNEL
    assert openssl.origin.url == MAIN
    assert openssl.origin.describe() == "main"
    assert openssl.hash_source is HashSource.CONDA_META
    assert {str(h) for h in openssl.hashes} == {
        f"md5:{record['md5']}",
        f"sha256:{record['sha256']}",
    }
    assert openssl.license is not None
    assert (openssl.license.spdx, openssl.license.origin) == ("Apache-2.0", "conda-meta")
    assert openssl.installer == "conda"
    assert openssl.requested is True
    assert openssl.authors == ()  # no python metadata: nothing to say
    assert openssl.dependencies == ("ca-certificates", "libgcc-ng")
    assert openssl.purl == (
        f"pkg:conda/openssl@3.0.13?build=h7f8727e_0&channel={MAIN}&subdir=linux-64"
    )

    numpy = _one(env, "numpy")
    assert numpy.ecosystem is Ecosystem.CONDA
    assert numpy.origin.url == FORGE
    assert numpy.requested is True
    assert numpy.dependencies == ("libgcc-ng", "python", "python_abi")

    jpeg = _one(env, "jpeg")
    assert jpeg.version_raw == "9e"
    assert jpeg.version is None  # not PEP 440, kept raw
    assert jpeg.requested is True
    assert jpeg.license is not None
    assert jpeg.license.spdx == "IJG"

    tzdata = _one(env, "tzdata")
    assert (tzdata.platform, tzdata.requested) == ("noarch", False)

    six = _one(env, "six")  # its egg-info has no INSTALLER but its record lists it
    assert (six.ecosystem, six.requested, six.platform) == (Ecosystem.CONDA, True, "noarch")

    mutex = _one(env, "_libgcc_mutex")
    assert mutex.license is None
    assert mutex.requested is False
    assert _one(env, "ca-certificates").requested is False
    assert _one(env, "python").dependencies == (
        "ld_impl_linux-64",
        "libgcc-ng",
        "openssl",
        "tzdata",
    )


def test_conda_python_packages_get_details_from_their_metadata(prefix: Path) -> None:
    env = READER.read(prefix)
    numpy = _one(env, "numpy")
    assert numpy.ecosystem is Ecosystem.CONDA
    assert numpy.summary == "Fundamental package for array computing in Python"
    assert numpy.maintainers == (Party("NumPy Developers", "numpy-discussion@python.org"),)
    assert numpy.homepage == "https://numpy.org"
    assert ("Source", "https://github.com/numpy/numpy") in numpy.project_urls
    six = _one(env, "six")  # a conda-owned egg-info directory
    assert six.authors == (Party("Benjamin Peterson", "benjamin@python.org"),)
    (einsum,) = env.by_name("opt-einsum")  # installed by pip
    assert einsum.ecosystem is Ecosystem.PYPI
    assert einsum.summary


def test_unreadable_conda_owned_metadata_is_noted(copied: Path) -> None:
    (copied / SITE / "numpy-1.26.4.dist-info" / "METADATA").unlink()
    env = READER.read(copied)
    numpy = _one(env, "numpy")
    assert numpy.summary is None
    assert any("metadata of a conda package not read" in n for n in env.notes)


def test_pip_package_in_prefix(prefix: Path) -> None:
    opt = _one(READER.read(prefix), "opt_einsum")
    assert opt.ecosystem is Ecosystem.PYPI
    assert opt.version_raw == "3.3.0"
    assert opt.installer == "pip"
    assert opt.requested is True
    assert opt.origin.kind is OriginKind.INDEX
    assert opt.hash_source is HashSource.RECORD
    assert opt.dependencies == ("numpy",)  # satisfied by conda's numpy
    assert opt.license is not None
    assert opt.license.spdx == "MIT"


def test_sniff(prefix: Path, assets: Path, tmp_path: Path) -> None:
    assert READER.sniff(prefix)
    assert not READER.sniff(assets / "installed" / "venv")
    assert not READER.sniff(prefix / "conda-meta" / "history")
    assert not READER.sniff(tmp_path / "missing")
    assert not READER.sniff(tmp_path)
    assert not InstalledReader().sniff(prefix)


def test_digest_follows_records(copied: Path) -> None:
    before = READER.read(copied).source.digest
    history = copied / "conda-meta" / "history"
    history.write_text(history.read_text() + "# remove specs: ['jpeg']\n")
    after = READER.read(copied)
    assert after.source.digest != before
    assert _one(after, "jpeg").requested is False


# --- history -----------------------------------------------------------------------------


def test_history_update_and_remove_specs() -> None:
    text = (
        "==> 2024-01-01 10:00:00 <==\n"
        "# cmd: /opt/conda/bin/conda create -n x python=3.11 'scikit-learn>=1.3'\n"
        "# update specs: ['python=3.11', 'scikit-learn[version=\">=1.3\"]']\n"
        "==> 2024-01-02 10:00:00 <==\n"
        "# cmd: /opt/conda/bin/conda install conda-forge::Pandas\n"
        '# update specs: ["conda-forge::Pandas"]\n'
        "==> 2024-01-03 10:00:00 <==\n"
        "# cmd: /opt/conda/bin/conda remove scikit-learn\n"
        "# remove specs: ['scikit-learn']\n"
        "# neutered specs: ['numpy']\n"
    )
    assert requested_names(text) == {"python", "pandas"}


def test_history_with_only_cmd_lines() -> None:
    text = (
        "==> 2017-05-01 10:00:00 <==\n"
        "# cmd: /opt/conda/bin/conda create -p /envs/old -c defaults python=2.7 numpy --yes\n"
        "+python-2.7.13-0\n"
        "==> 2017-05-02 10:00:00 <==\n"
        "# cmd: /opt/conda/bin/conda install --name old scipy\n"
        "==> 2017-05-03 10:00:00 <==\n"
        "# cmd: conda remove -n old numpy\n"
        "==> 2017-05-04 10:00:00 <==\n"
        "# cmd: /usr/bin/pip install requests\n"
    )
    assert requested_names(text) == {"python", "scipy"}


def test_missing_history(copied: Path) -> None:
    (copied / "conda-meta" / "history").unlink()
    env = READER.read(copied)
    assert _one(env, "python").requested is None
    assert any("history is missing" in note for note in env.notes)


# --- conda and pip side by side ----------------------------------------------------------


def test_pip_over_conda_numpy_is_kept_with_a_note(copied: Path, prefix: Path) -> None:
    site = copied / SITE
    shutil.copytree(site / "opt_einsum-3.3.0.dist-info", site / "numpy-2.0.0.dist-info")
    meta = site / "numpy-2.0.0.dist-info" / "METADATA"
    meta.write_text("Metadata-Version: 2.1\nName: numpy\nVersion: 2.0.0\n")
    env = READER.read(copied)
    assert {(p.ecosystem, p.version_raw) for p in env.by_name("numpy")} == {
        (Ecosystem.CONDA, "1.26.4"),
        (Ecosystem.PYPI, "2.0.0"),
    }
    assert "numpy is installed by both conda and pip (both kept)" in env.notes


def test_unlisted_conda_dist_info_is_noted(copied: Path) -> None:
    meta = copied / SITE / "ghost-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Name: ghost\nVersion: 1.0\n")
    (meta / "INSTALLER").write_text("conda\n")
    env = READER.read(copied)
    assert env.by_name("ghost") == ()
    assert any("ghost-1.0.dist-info says INSTALLER conda" in note for note in env.notes)


def test_channel_from_url_when_channel_missing(copied: Path) -> None:
    path = copied / "conda-meta" / "jpeg-9e-h5eee18b_1.json"
    record = json.loads(path.read_text())
    del record["channel"]
    path.write_text(json.dumps(record))
    assert _one(READER.read(copied), "jpeg").origin.url == MAIN


# --- bad input ---------------------------------------------------------------------------


def test_missing_prefix(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no such directory"):
        READER.read(tmp_path / "nope")


def test_not_a_prefix(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no conda-meta directory"):
        READER.read(tmp_path)


def test_broken_json_names_the_file(copied: Path) -> None:
    path = copied / "conda-meta" / "openssl-3.0.13-h7f8727e_0.json"
    path.write_text(path.read_text()[:200])
    with pytest.raises(ReaderError, match="invalid JSON") as info:
        READER.read(copied)
    assert info.value.path == str(path)
    assert info.value.line is not None
    assert str(info.value).startswith(f"{path}:")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": None}, "version must be a string"),
        ({"name": 7}, "name must be a string"),
        ({"version": ""}, "must not be empty"),
        ({"depends": "ca-certificates"}, "depends must be a list"),
        ({"depends": [1]}, "depends entry must be a string"),
        ({"build_number": "0"}, "build_number must be an integer"),
        ({"md5": 5}, "md5 must be a string"),
        ({"sha256": "not-hex"}, "is not a 64-digit hex digest"),
        ({"files": {}}, "files must be a list"),
        ({"files": ["bin/openssl", None]}, "files entry must be a string"),
    ],
)
def test_malformed_record(copied: Path, change: dict[str, object], message: str) -> None:
    path = copied / "conda-meta" / "openssl-3.0.13-h7f8727e_0.json"
    record = json.loads(path.read_text())
    record.update(change)
    path.write_text(json.dumps(record))
    with pytest.raises(ReaderError, match=message) as info:
        READER.read(copied)
    assert info.value.path == str(path)


def test_record_that_is_not_an_object(copied: Path) -> None:
    path = copied / "conda-meta" / "jpeg-9e-h5eee18b_1.json"
    path.write_text("[]")
    with pytest.raises(ReaderError, match="must be a mapping"):
        READER.read(copied)


def test_empty_record(copied: Path) -> None:
    path = copied / "conda-meta" / "jpeg-9e-h5eee18b_1.json"
    path.write_text("")
    with pytest.raises(ReaderError, match="invalid JSON") as info:
        READER.read(copied)
    assert info.value.path == str(path)


def test_latin1_history(copied: Path) -> None:
    history = copied / "conda-meta" / "history"
    history.write_bytes(history.read_bytes() + "# cmd: conda install café\n".encode("latin-1"))
    with pytest.raises(ReaderError, match="not valid UTF-8") as info:
        READER.read(copied)
    assert info.value.path == str(history)
    assert info.value.line == 27


def test_pip_metadata_without_version(copied: Path) -> None:
    meta = copied / SITE / "opt_einsum-3.3.0.dist-info" / "METADATA"
    meta.write_text("Metadata-Version: 2.1\nName: opt-einsum\n")
    with pytest.raises(ReaderError, match="has no Version field") as info:
        READER.read(copied)
    assert info.value.path == str(meta)
