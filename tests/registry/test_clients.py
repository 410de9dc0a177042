"""Real clients through a real ``assay serve``: pip and uv against a local upstream.

Every test builds its upstream from wheels it makes (:mod:`upstream_index`),
starts ``assay serve`` as a subprocess on 127.0.0.1 with a private
``ASSAY_HOME``, the policy below and a one-advisory database (made with
``assay db import``), and installs with ``pip install --target`` / ``uv pip
install --target`` (no client cache, no host pip configuration, no retries).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assay.vetting.index_config import configured_indexes
from tests.registry.upstream_index import (
    JSON_TYPE,
    AssayServe,
    Dist,
    UpstreamIndex,
    build_wheel,
    client_env,
    recent,
)

UV = Path(sys.executable).with_name("uv")
ASSAY = Path(sys.executable).with_name("assay")
ADVISORY_ID = "ASSAY-TEST-2026-0001"
POLICY = """\
[policy]
stages = ["sandbox", "staging", "production"]
unavailable = "pass"

[rules.vulnerabilities]
action = "block"
severity = "high"

[rules.licenses]
action = { sandbox = "off", default = "block" }
allow = ["MIT", "BSD-3-Clause", "Apache-2.0"]
deny = ["GPL-3.0-only", "GPL-3.0-or-later", "AGPL-3.0-only"]
unlisted = "block"
unknown = "pass"

[rules.cooldown]
action = { sandbox = "off", default = "block" }
days = 7
"""


def _advisory() -> dict[str, object]:
    return {
        "schema_version": "1.6.0",
        "id": ADVISORY_ID,
        "modified": "2026-01-02T00:00:00Z",
        "published": "2026-01-01T00:00:00Z",
        "summary": "remote code execution in vuln-pkg before 1.1 (test advisory)",
        "details": "A test advisory made by the registry client tests.",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "vuln-pkg"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}
                ],
                "versions": ["1.0"],
            }
        ],
    }


@pytest.fixture(scope="module")
def governance(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``ASSAY_POLICY`` and ``ASSAY_DB`` for the servers: the policy above, one advisory."""
    directory = tmp_path_factory.mktemp("governance")
    records = directory / "osv"
    records.mkdir()
    (records / f"{ADVISORY_ID}.json").write_text(json.dumps(_advisory()), encoding="utf-8")
    database = directory / "advisories.sqlite3"
    env = {"ASSAY_DB": str(database), "ASSAY_HOME": str(directory), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(ASSAY), "db", "import", str(records)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    policy = directory / "assay-policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    return {"ASSAY_POLICY": str(policy), "ASSAY_DB": str(database)}


def serve(
    upstream: UpstreamIndex,
    home: Path,
    governance: dict[str, str],
    *,
    action: str = "hide",
    stage: str = "production",
    env: dict[str, str] | None = None,
) -> AssayServe:
    """``assay serve`` for one test (use it as a context manager)."""
    extra = {**governance, "ASSAY_REGISTRY_BLOCKED_ACTION": action, **(env or {})}
    return AssayServe(home, upstream.simple_url, extra_env=extra, arguments=("--stage", stage))


def pip_install(
    index_url: str, target: Path, *requirements: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir"]
    command += ["--retries", "0", "--index-url", index_url, "--target", str(target), *requirements]
    return subprocess.run(
        command, env=client_env(target.parent), capture_output=True, text=True, check=False
    )


def uv_install(
    index_url: str, target: Path, *requirements: str
) -> subprocess.CompletedProcess[str]:
    command = [str(UV), "pip", "install", "--no-deps", "--no-cache", "--python", sys.executable]
    command += ["--index-url", index_url, "--target", str(target), *requirements]
    env = {**client_env(target.parent), "UV_HTTP_RETRIES": "0"}
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def installed_version(target: Path, module: str) -> str | None:
    init = target / module / "__init__.py"
    if not init.is_file():
        return None
    for line in init.read_text().splitlines():
        if line.startswith("__version__ = "):
            return line.split("=", 1)[1].strip().strip("'\"")
    return None


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[UpstreamIndex]:
    with UpstreamIndex(tmp_path) as index:
        index.add(Dist("plain-pkg", "1.0"))
        index.add(Dist("plain-pkg", "1.2", requires_python=">=3.8"))
        index.add(Dist("yanky", "1.0"))
        index.add(Dist("yanky", "1.1", yanked="broken build: do not use"))
        index.add(Dist("broken-hash", "1.0"))
        index.add(Dist("never-cached", "1.0"))
        index.add(Dist("vuln-pkg", "1.0"))
        index.add(Dist("vuln-pkg", "1.1"))
        index.add(Dist("fresh-pkg", "1.0"))
        index.add(Dist("fresh-pkg", "2.0", upload_time=recent()))
        index.add(Dist("copyleft-pkg", "1.0", license_expression="GPL-3.0-only"))
        index.add(Dist("permissive-pkg", "1.0", license_expression="BSD-3-Clause"))
        yield index


@pytest.fixture
def registry(
    upstream: UpstreamIndex, tmp_path: Path, governance: dict[str, str]
) -> Iterator[AssayServe]:
    with serve(upstream, tmp_path / "home", governance) as server:
        yield server


def test_pip_and_uv_install_an_allowed_package(
    upstream: UpstreamIndex, registry: AssayServe, tmp_path: Path
) -> None:
    done = pip_install(registry.simple_url, tmp_path / "pip" / "t", "plain-pkg")
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed_version(tmp_path / "pip" / "t", "plain_pkg") == "1.2"
    done = uv_install(registry.simple_url, tmp_path / "uv" / "t", "plain-pkg==1.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed_version(tmp_path / "uv" / "t", "plain_pkg") == "1.0"
    # Each file came from upstream once and only through the registry's verified store.
    assert upstream.file_hits("plain_pkg-1.2-py3-none-any.whl") == 1
    assert upstream.file_hits("plain_pkg-1.0-py3-none-any.whl") == 1
    done = pip_install(registry.simple_url, tmp_path / "again" / "t", "plain-pkg==1.2")
    assert done.returncode == 0, done.stderr
    assert upstream.file_hits("plain_pkg-1.2-py3-none-any.whl") == 1


def test_yanked_with_reason(registry: AssayServe, tmp_path: Path) -> None:
    page = httpx.get(registry.simple_url + "yanky/", headers={"Accept": JSON_TYPE}).json()
    yanked = {f["filename"]: f.get("yanked", False) for f in page["files"]}
    assert yanked == {
        "yanky-1.0-py3-none-any.whl": False,
        "yanky-1.1-py3-none-any.whl": "broken build: do not use",
    }
    # Unpinned, both clients skip the yanked release.
    done = pip_install(registry.simple_url, tmp_path / "pip" / "t", "yanky")
    assert done.returncode == 0, done.stderr
    assert installed_version(tmp_path / "pip" / "t", "yanky") == "1.0"
    done = uv_install(registry.simple_url, tmp_path / "uv" / "t", "yanky")
    assert done.returncode == 0, done.stderr
    assert installed_version(tmp_path / "uv" / "t", "yanky") == "1.0"
    # Pinned exactly, pip installs it and shows the reason (PEP 592); uv warns with it too.
    done = pip_install(registry.simple_url, tmp_path / "pin" / "t", "yanky==1.1")
    assert done.returncode == 0, done.stderr
    assert "yanked" in done.stderr
    assert "broken build: do not use" in done.stderr
    done = uv_install(registry.simple_url, tmp_path / "uvpin" / "t", "yanky==1.1")
    assert done.returncode == 0, done.stderr
    assert "broken build: do not use" in done.stderr


def test_hash_mismatch_from_upstream_is_refused(
    upstream: UpstreamIndex, registry: AssayServe, tmp_path: Path
) -> None:
    filename = "broken_hash-1.0-py3-none-any.whl"
    upstream.corrupt(filename)
    done = pip_install(registry.simple_url, tmp_path / "pip" / "t", "broken-hash")
    assert done.returncode != 0
    assert "502" in done.stdout + done.stderr
    assert not (tmp_path / "pip" / "t" / "broken_hash").exists()
    done = uv_install(registry.simple_url, tmp_path / "uv" / "t", "broken-hash")
    assert done.returncode != 0
    assert not (tmp_path / "uv" / "t" / "broken_hash").exists()
    page = httpx.get(registry.simple_url + "broken-hash/", headers={"Accept": JSON_TYPE})
    url = page.url.join(page.json()["files"][0]["url"])
    refused = httpx.get(url)
    assert refused.status_code == 502
    assert "sha256 mismatch" in refused.text
    # Nothing unverified was kept: once upstream serves the right bytes, they are served.
    upstream.corrupt(filename, corrupted=False)
    good = httpx.get(url)
    assert good.status_code == 200
    assert hashlib.sha256(good.content).hexdigest() == upstream.file(filename).sha256


def test_upstream_down_cached_files_are_still_served(
    upstream: UpstreamIndex, tmp_path: Path, governance: dict[str, str]
) -> None:
    # Pages are revalidated at once (tiny TTL), so the outage is noticed and marked.
    env = {"ASSAY_REGISTRY_PAGE_TTL": "0.001"}
    with serve(upstream, tmp_path / "home", governance, env=env) as registry:
        done = pip_install(registry.simple_url, tmp_path / "warm" / "t", "plain-pkg==1.2")
        assert done.returncode == 0, done.stderr
        upstream.down("refuse")
        page = httpx.get(registry.simple_url + "plain-pkg/", headers={"Accept": JSON_TYPE})
        assert page.status_code == 200
        assert "x-assay-stale" in page.headers
        done = pip_install(registry.simple_url, tmp_path / "pip" / "t", "plain-pkg==1.2")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "pip" / "t", "plain_pkg") == "1.2"
        done = uv_install(registry.simple_url, tmp_path / "uv" / "t", "plain-pkg==1.2")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "uv" / "t", "plain_pkg") == "1.2"
        # What was never fetched cannot be served, and is not guessed.
        done = pip_install(registry.simple_url, tmp_path / "never" / "t", "never-cached")
        assert done.returncode != 0
        missing = httpx.get(registry.simple_url + "never-cached/")
        assert missing.status_code == 503
        # A file listed on the cached page but never downloaded is not served either.
        listed = page.url.join(
            next(
                f["url"]
                for f in page.json()["files"]
                if f["filename"] == "plain_pkg-1.0-py3-none-any.whl"
            )
        )
        assert httpx.get(listed).status_code == 503


def _upload_token(home: Path) -> str:
    """A fresh upload token for the registry under ``home`` (``assay registry token create``)."""
    command = [str(ASSAY), "registry", "token", "create", "--scope", "upload", "--format", "json"]
    command += ["--state-dir", str(home / "registry")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    secret: str = json.loads(done.stdout)["secret"]
    return secret


def test_internal_package_shadows_upstream(
    upstream: UpstreamIndex, tmp_path: Path, governance: dict[str, str]
) -> None:
    # Upstream has a look-alike of the internal name, with a higher version (the
    # dependency-confusion attack); the registry must never resolve the name there.
    upstream.add(Dist("corp-lib", "9.9", summary="not ours"))
    (tmp_path / "dist").mkdir()
    internal = build_wheel(Dist("corp-lib", "1.0", summary="ours"), tmp_path / "dist")
    home = tmp_path / "home"
    token = _upload_token(home)
    with serve(upstream, home, governance) as registry:
        publish = [str(UV), "publish", "--publish-url", f"{registry.base_url}/legacy/"]
        publish += ["--username", "__token__", "--password", token, str(internal)]
        done = subprocess.run(
            publish, env=client_env(tmp_path), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        done = pip_install(registry.simple_url, tmp_path / "pip" / "t", "corp-lib")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "pip" / "t", "corp_lib") == "1.0"
        done = uv_install(registry.simple_url, tmp_path / "uv" / "t", "corp-lib")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "uv" / "t", "corp_lib") == "1.0"
        done = pip_install(registry.simple_url, tmp_path / "bad" / "t", "corp-lib==9.9")
        assert done.returncode != 0
        page = httpx.get(registry.simple_url + "corp-lib/", headers={"Accept": JSON_TYPE})
        assert [f["filename"] for f in page.json()["files"]] == [internal.name]
    assert upstream.hits("/simple/corp-lib/") == 0
    assert upstream.file_hits("corp_lib-9.9-py3-none-any.whl") == 0


def _file_url(registry: AssayServe, project: str, filename: str) -> str:
    """The registry's URL of a file, from the page of a registry that lists everything."""
    page = httpx.get(registry.simple_url + f"{project}/", headers={"Accept": JSON_TYPE})
    for entry in page.json()["files"]:
        if entry["filename"] == filename:
            return str(page.url.join(entry["url"])).split("#")[0]
    raise LookupError(filename)


def _listed(registry: AssayServe, project: str) -> dict[str, object]:
    page = httpx.get(registry.simple_url + f"{project}/", headers={"Accept": JSON_TYPE})
    assert page.status_code == 200, page.text
    return {f["filename"]: f.get("yanked", False) for f in page.json()["files"]}


def test_blocked_by_vulnerability(
    upstream: UpstreamIndex, tmp_path: Path, governance: dict[str, str]
) -> None:
    with serve(upstream, tmp_path / "home", governance) as registry:
        assert list(_listed(registry, "vuln-pkg")) == ["vuln_pkg-1.1-py3-none-any.whl"]
        done = pip_install(registry.simple_url, tmp_path / "pin" / "t", "vuln-pkg==1.0")
        assert done.returncode != 0
        assert not (tmp_path / "pin" / "t" / "vuln_pkg").exists()
        done = uv_install(registry.simple_url, tmp_path / "uvpin" / "t", "vuln-pkg==1.0")
        assert done.returncode != 0
        done = pip_install(registry.simple_url, tmp_path / "pip" / "t", "vuln-pkg")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "pip" / "t", "vuln_pkg") == "1.1"
        done = uv_install(registry.simple_url, tmp_path / "uv" / "t", "vuln-pkg")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "uv" / "t", "vuln_pkg") == "1.1"
    # A direct download of the blocked file: 403 with the reason (the yank action lists it).
    with serve(upstream, tmp_path / "yank", governance, action="yank") as registry:
        yanked = _listed(registry, "vuln-pkg")
        reason = yanked["vuln_pkg-1.0-py3-none-any.whl"]
        assert isinstance(reason, str)
        assert ADVISORY_ID in reason
        refused = httpx.get(_file_url(registry, "vuln-pkg", "vuln_pkg-1.0-py3-none-any.whl"))
        assert refused.status_code == 403
        assert ADVISORY_ID in refused.text
        done = pip_install(registry.simple_url, tmp_path / "ypin" / "t", "vuln-pkg==1.0")
        assert done.returncode != 0
        assert "403" in done.stdout + done.stderr


def test_blocked_by_cooldown(
    upstream: UpstreamIndex, tmp_path: Path, governance: dict[str, str]
) -> None:
    with serve(upstream, tmp_path / "home", governance) as registry:
        assert list(_listed(registry, "fresh-pkg")) == ["fresh_pkg-1.0-py3-none-any.whl"]
        done = pip_install(registry.simple_url, tmp_path / "pip" / "t", "fresh-pkg")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "pip" / "t", "fresh_pkg") == "1.0"
        done = uv_install(registry.simple_url, tmp_path / "uv" / "t", "fresh-pkg==2.0")
        assert done.returncode != 0
        assert not (tmp_path / "uv" / "t" / "fresh_pkg").exists()
    # The sandbox stage has the cooldown off: the same release is served there.
    with serve(upstream, tmp_path / "sandbox", governance, stage="sandbox") as registry:
        done = pip_install(registry.simple_url, tmp_path / "sb" / "t", "fresh-pkg")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "sb" / "t", "fresh_pkg") == "2.0"


def test_blocked_by_license(
    upstream: UpstreamIndex, tmp_path: Path, governance: dict[str, str]
) -> None:
    with serve(upstream, tmp_path / "home", governance, action="yank") as registry:
        done = pip_install(registry.simple_url, tmp_path / "pip" / "t", "copyleft-pkg==1.0")
        assert done.returncode != 0
        assert not (tmp_path / "pip" / "t" / "copyleft_pkg").exists()
        done = uv_install(registry.simple_url, tmp_path / "uv" / "t", "copyleft-pkg")
        assert done.returncode != 0
        refused = httpx.get(
            _file_url(registry, "copyleft-pkg", "copyleft_pkg-1.0-py3-none-any.whl")
        )
        assert refused.status_code == 403
        assert "GPL-3.0-only" in refused.text
        done = pip_install(registry.simple_url, tmp_path / "ok" / "t", "permissive-pkg")
        assert done.returncode == 0, done.stderr
        assert installed_version(tmp_path / "ok" / "t", "permissive_pkg") == "1.0"


@pytest.mark.online
def test_online_ml_set_through_the_registry(tmp_path: Path, shared_advisory_db: Path) -> None:
    """numpy, pandas and scikit-learn wheels from the live upstream, through the registry."""
    live = [url for url in configured_indexes() if url.startswith(("https://", "http://"))]
    assert live, "no http(s) index in pip's configuration"
    policy = tmp_path / "assay-policy.toml"
    policy.write_text(POLICY.replace('unlisted = "block"', 'unlisted = "warn"'), encoding="utf-8")
    env = {"ASSAY_POLICY": str(policy), "ASSAY_DB": str(shared_advisory_db)}
    wanted = ("numpy", "pandas", "scikit-learn")
    with AssayServe(tmp_path / "home", live[0], extra_env=env) as registry:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir"]
        command += ["--only-binary", ":all:", "--index-url", registry.simple_url]
        command += ["--dest", str(tmp_path / "wheels"), *wanted]
        done = subprocess.run(
            command, env=client_env(tmp_path), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr + registry.output()
    names = sorted(p.name.split("-")[0] for p in (tmp_path / "wheels").iterdir())
    assert names == ["numpy", "pandas", "scikit_learn"]
