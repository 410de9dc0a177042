"""The local upstream index the registry tests stand on: real clients accept it."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.registry.upstream_index import (
    HTML_TYPE,
    JSON_TYPE,
    Dist,
    UpstreamIndex,
    build_sdist,
    build_wheel,
    client_env,
    negotiate,
    recent,
)

REPO = Path(__file__).resolve().parents[2]
PIP = [sys.executable, "-m", "pip"]
UV = REPO / ".venv" / "bin" / "uv"


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[UpstreamIndex]:
    with UpstreamIndex(tmp_path) as index:
        index.add(Dist("Demo_Pkg", "1.0", requires_python=">=3.8"), sdist=True)
        index.add(Dist("demo-pkg", "1.1", yanked="broken build", upload_time=recent()))
        index.add(Dist("other", "2.0", license_expression="GPL-3.0-only"))
        yield index


def test_wheel_follows_the_wheel_spec(tmp_path: Path) -> None:
    dist = Dist("Fancy.Name", "0.3", requires_dist=("other>=2",), requires_python=">=3.9")
    path = build_wheel(dist, tmp_path)
    assert path.name == "fancy_name-0.3-py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        record = archive.read("fancy_name-0.3.dist-info/RECORD").decode()
        rows = list(csv.reader(io.StringIO(record)))
        assert {row[0] for row in rows} == set(names)
        for name, digest, size in rows:
            if name.endswith("RECORD"):
                assert (digest, size) == ("", "")
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)
        metadata = archive.read("fancy_name-0.3.dist-info/METADATA").decode()
    assert "Name: Fancy.Name\n" in metadata
    assert "Requires-Dist: other>=2\n" in metadata
    assert "Requires-Python: >=3.9\n" in metadata
    assert "License-Expression: MIT\n" in metadata


def test_sdist_has_pkg_info(tmp_path: Path) -> None:
    path = build_sdist(Dist("demo", "1.0", license_expression="Apache-2.0"), tmp_path)
    with tarfile.open(path) as archive:
        member = archive.extractfile("demo-1.0/PKG-INFO")
        assert member is not None
        assert "License-Expression: Apache-2.0" in member.read().decode()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, HTML_TYPE),
        (JSON_TYPE, JSON_TYPE),
        (f"{JSON_TYPE}, {HTML_TYPE};q=0.1, text/html;q=0.01", JSON_TYPE),
        (f"{JSON_TYPE};q=0.2, {HTML_TYPE}", HTML_TYPE),
        ("text/html", "text/html"),
        ("*/*", HTML_TYPE),
        ("application/xml", None),
        (f"{JSON_TYPE};q=0", None),
    ],
)
def test_content_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_json_page_has_hashes_yanks_times_and_metadata(upstream: UpstreamIndex) -> None:
    response = httpx.get(upstream.simple_url + "demo-pkg/", headers={"Accept": JSON_TYPE})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_TYPE
    assert response.headers["vary"] == "Accept"
    page = response.json()
    assert page["name"] == "demo-pkg"
    assert page["versions"] == ["1.0", "1.1"]
    files = {f["filename"]: f for f in page["files"]}
    assert set(files) == {
        "demo_pkg-1.0-py3-none-any.whl",
        "demo_pkg-1.0.tar.gz",
        "demo_pkg-1.1-py3-none-any.whl",
    }
    wheel = files["demo_pkg-1.0-py3-none-any.whl"]
    data = httpx.get(wheel["url"]).content
    assert (
        hashlib.sha256(data).hexdigest()
        == wheel["hashes"]["sha256"]
        == upstream.file("demo_pkg-1.0-py3-none-any.whl").sha256
    )
    assert wheel["size"] == len(data)
    assert wheel["upload-time"] == "2024-01-01T00:00:00.000000Z"
    assert wheel["requires-python"] == ">=3.8"
    assert wheel["yanked"] is False
    metadata = httpx.get(wheel["url"] + ".metadata").content
    assert hashlib.sha256(metadata).hexdigest() == wheel["core-metadata"]["sha256"]
    assert "core-metadata" not in files["demo_pkg-1.0.tar.gz"]
    assert files["demo_pkg-1.1-py3-none-any.whl"]["yanked"] == "broken build"


def test_html_page_and_redirects(upstream: UpstreamIndex) -> None:
    with httpx.Client(base_url=upstream.base_url) as client:
        moved = client.get("/simple/Demo_Pkg/")
        assert moved.status_code == 301
        assert moved.headers["location"] == "/simple/demo-pkg/"
        assert client.get("/simple/demo-pkg").status_code == 301
        page = client.get("/simple/demo-pkg/", headers={"Accept": "text/html"})
        assert page.headers["content-type"] == "text/html"
        assert 'data-yanked="broken build"' in page.text
        assert 'data-requires-python="&gt;=3.8"' in page.text
        assert "#sha256=" + upstream.file("demo_pkg-1.0.tar.gz").sha256 in page.text
        assert client.get("/simple/nothing-here/").status_code == 404
        listing = client.get("/simple/", headers={"Accept": JSON_TYPE}).json()
        assert [p["name"] for p in listing["projects"]] == ["demo-pkg", "other"]
        etag = page.headers["etag"]
        again = client.get("/simple/demo-pkg/", headers={"If-None-Match": etag})
        assert again.status_code == 304


def test_switches_corrupt_down_and_counts(upstream: UpstreamIndex) -> None:
    name = "other-2.0-py3-none-any.whl"
    url = upstream.file_url(name)
    good = upstream.file(name).sha256
    assert hashlib.sha256(httpx.get(url).content).hexdigest() == good
    upstream.corrupt(name)
    assert hashlib.sha256(httpx.get(url).content).hexdigest() != good
    upstream.corrupt(name, corrupted=False)
    assert upstream.file_hits(name) == 2
    upstream.down("error")
    assert httpx.get(url).status_code == 503
    upstream.down("refuse")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)
    upstream.up()
    assert hashlib.sha256(httpx.get(url).content).hexdigest() == good
    assert upstream.file_hits(name) == 4
    upstream.reset_hits()
    assert upstream.file_hits(name) == 0


def test_down_cuts_open_keep_alive_connections(upstream: UpstreamIndex) -> None:
    with httpx.Client(base_url=upstream.base_url) as client:
        assert client.get("/simple/other/").status_code == 200
        upstream.down("refuse")
        with pytest.raises(httpx.TransportError):
            client.get("/simple/other/")


def test_pip_download_from_the_index(upstream: UpstreamIndex, tmp_path: Path) -> None:
    target = tmp_path / "downloads"
    command = [*PIP, "download", "--no-deps", "--only-binary", ":all:"]
    command += ["--index-url", upstream.simple_url, "--dest", str(target), "demo-pkg"]
    done = subprocess.run(
        command, env=client_env(tmp_path), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    # 1.1 is yanked, so pip takes 1.0.
    data_name = "demo_pkg-1.0-py3-none-any.whl"
    assert [p.name for p in target.iterdir()] == [data_name]
    data = (target / data_name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == upstream.file(data_name).sha256
    assert upstream.hits("/simple/demo-pkg/") >= 1


def test_pip_and_uv_install_the_wheels(upstream: UpstreamIndex, tmp_path: Path) -> None:
    env = client_env(tmp_path)
    pip_target, uv_target = tmp_path / "pip-target", tmp_path / "uv-target"
    command = [*PIP, "install", "--no-deps", "--index-url", upstream.simple_url]
    done = subprocess.run(
        [*command, "--target", str(pip_target), "other==2.0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (pip_target / "other" / "__init__.py").read_text().count("__version__ = '2.0'") == 1
    uv_command = [str(UV), "pip", "install", "--no-deps", "--index-url", upstream.simple_url]
    uv_command += ["--target", str(uv_target), "--python", sys.executable, "demo-pkg==1.0"]
    done = subprocess.run(uv_command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    record = next(uv_target.glob("demo_pkg-1.0.dist-info")) / "RECORD"
    assert "demo_pkg/__init__.py" in record.read_text()
