"""Cross-check: the REAL `uv audit` and `pip-audit` on assay's OSV API, against `assay audit`.

The API runs with uvicorn on 127.0.0.1 (a free port, in a thread that stops at
teardown) over the shared PyPA database.  Both peers are kept off the network:
every proxy variable points at a closed local port (so any request to another
host fails the run), the API is reached directly (``NO_PROXY=127.0.0.1``), and

- ``uv audit`` runs with ``--no-index``: uv 0.13 also asks the package index for
  each package's PEP 792 project status (archived / quarantined); that is not
  a vulnerability lookup and would leave the machine.  ``-v`` output is checked
  so that every request uv sent went to the API;
- ``pip-audit`` runs with ``--disable-pip --no-deps`` on a pinned requirements
  file, so it resolves nothing and only posts to ``--osv-url``.

Findings are compared as (package, version, vulnerability id) sets, exactly.
Known peer behaviours that make them differ from assay's findings are modelled
below and asserted, never tolerated loosely:

- uv reports every matching record on its own; assay groups records sharing an
  id or alias into one finding (listing all ids).  So uv's set is assay's
  findings expanded to every record id.
- pip-audit keeps every PYSEC record, then adds a non-PYSEC record only when
  none of its ids was seen for that package yet (``pip_audit._audit.Auditor``).
- pip-audit evaluates requirement markers for the Python running it and drops
  the lines that do not apply (e.g. ``python_full_version >= '3.12'`` forks,
  ``sys_platform == 'darwin'``), while uv and assay audit every pin in the lock.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from starlette.types import Receive, Scope, Send

from assay.advisories.audit import Auditor, Finding
from assay.advisories.store import AdvisoryDatabase
from assay.environments.readers import read_environment
from assay.server import create_osv_app
from assay.server.listen import base_url, bind_socket

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
CHURN = REPO / "examples" / "churn-model"
LARGE = REPO / "benchmarks" / "assets" / "large-lock"

Triple = tuple[str, str, str]  # (PEP 503 name, version, vulnerability id)


@dataclass
class Api:
    url: str
    requests: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A local port that refuses connections (bound, never listening): the proxy of last resort."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(scope="module")
def api(shared_advisory_db: Path) -> Iterator[Api]:
    database = AdvisoryDatabase(shared_advisory_db)
    app = create_osv_app(database)
    sock = bind_socket("127.0.0.1", 0)  # IPPROTO_TCP, so that asyncio sets TCP_NODELAY
    served = Api(url=base_url(sock))

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        served.requests.append((scope["method"], scope["path"]))
        await app(scope, receive, send)

    config = uvicorn.Config(recording, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the OSV API thread died while starting"
        assert time.monotonic() < deadline, "the OSV API did not start within 10 s"
        time.sleep(0.01)
    yield served
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    database.close()
    assert not thread.is_alive()


@pytest.fixture
def offline_env(tmp_path: Path, closed_port: int) -> dict[str, str]:
    dead = f"http://127.0.0.1:{closed_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = dead
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
    env["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    # exit 1 is "vulnerabilities found" for both peers; anything else is a failure
    assert result.returncode in (0, 1), f"{command[0]} failed:\n{result.stderr[-3000:]}"
    return result


def uv_audit(project: Path, api: Api, env: dict[str, str]) -> set[Triple]:
    command = [str(BIN / "uv"), "-v", "audit", "--frozen", "--no-index", "--no-config"]
    command += ["--project", str(project), "--service-url", api.url, "--output-format", "json"]
    result = _run(command, env)
    sent = re.findall(r"request for: (\S+)", result.stderr)
    assert sent, "uv -v no longer logs its requests: update this check"
    assert all(url.startswith(api.url + "/v1/") for url in sent), sorted(set(sent))
    report = json.loads(result.stdout)
    assert report["adverse_statuses"] == []
    return {
        (canonicalize_name(v["dependency"]["name"]), v["dependency"]["version"], v["id"])
        for v in report["vulnerabilities"]
    }


def pip_audit(
    requirements: Path, api: Api, env: dict[str, str], cache: Path
) -> tuple[set[tuple[str, str]], set[Triple]]:
    """The (name, version) pins pip-audit audited, and its findings."""
    command = [str(BIN / "pip-audit"), "-s", "osv", "--osv-url", f"{api.url}/v1/query"]
    command += ["-r", str(requirements), "--no-deps", "--disable-pip", "--format", "json"]
    command += ["--progress-spinner", "off", "--cache-dir", str(cache)]
    dependencies: list[dict[str, Any]] = json.loads(_run(command, env).stdout)["dependencies"]
    assert not [d for d in dependencies if "skip_reason" in d]
    audited = {(str(canonicalize_name(d["name"])), str(d["version"])) for d in dependencies}
    found = {
        (name, version, v["id"])
        for d in dependencies
        for v in d["vulns"]
        for name, version in [(str(canonicalize_name(d["name"])), str(d["version"]))]
    }
    return audited, found


def assay_findings(lock: Path, database: Path) -> tuple[Finding, ...]:
    with AdvisoryDatabase(database) as source:
        return Auditor(source).audit(read_environment(lock)).findings


def every_record(findings: tuple[Finding, ...]) -> set[Triple]:
    """What uv reports: each matching record separately."""
    return {
        (f.package.canonical_name, f.package.version_raw or "", record.id)
        for f in findings
        for record in f.records
    }


def primary(findings: tuple[Finding, ...]) -> set[Triple]:
    return {(f.package.canonical_name, f.package.version_raw or "", f.id) for f in findings}


def pip_audit_view(findings: tuple[Finding, ...], audited: set[tuple[str, str]]) -> set[Triple]:
    """What pip-audit reports: its alias de-duplication, on the packages it audits."""
    found: set[Triple] = set()
    for finding in findings:
        key = (finding.package.canonical_name, finding.package.version_raw or "")
        if key not in audited:
            continue
        records = sorted(finding.records, key=lambda r: r.id)  # the API answers sorted by id
        kept = [r for r in records if r.id.startswith("PYSEC")]
        seen = {i for r in kept for i in r.ids}
        for record in records:
            if not record.id.startswith("PYSEC") and not seen & set(record.ids):
                kept.append(record)
                seen.update(record.ids)
        found.update((*key, r.id) for r in kept)
    return found


def marker_filtered(requirements: Path) -> set[tuple[str, str]]:
    """The (name, version) pins whose markers hold for this Python: what pip-audit audits."""
    pins: set[tuple[str, str]] = set()
    for line in requirements.read_text().splitlines():
        text = line.split(" \\", 1)[0].strip()
        if not text or text.startswith(("#", "-")):
            continue
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate():
            version = next(iter(requirement.specifier)).version
            pins.add((str(canonicalize_name(requirement.name)), version))
    return pins


def test_example_project_uv_and_pip_audit_agree_with_assay(
    api: Api, offline_env: dict[str, str], shared_advisory_db: Path, tmp_path: Path
) -> None:
    findings = assay_findings(CHURN / "uv.lock", shared_advisory_db)
    requirements = CHURN / "requirements.txt"

    uv = uv_audit(CHURN, api, offline_env)
    audited, pip = pip_audit(requirements, api, offline_env, tmp_path / "pip-audit")

    assert uv == every_record(findings)
    assert audited == marker_filtered(requirements)
    assert pip == pip_audit_view(findings, audited)
    # On this project the explained differences are empty: no alias group has two
    # records, and every pin applies here, so all three report the same 51 triples.
    assert every_record(findings) == primary(findings) == pip_audit_view(findings, audited)
    assert len(uv) == len(pip) == 51
    assert {name for name, _, _ in uv} >= {"aiohttp", "transformers", "werkzeug"}
    kinds = {
        (method, path.rsplit("/", 1)[0] if "/vulns/" in path else path)
        for method, path in api.requests
    }
    # uv: one querybatch, then every record by id; pip-audit: one query per package
    assert kinds == {("POST", "/v1/querybatch"), ("GET", "/v1/vulns"), ("POST", "/v1/query")}


def test_large_lock_uv_and_pip_audit_agree_with_assay(
    api: Api, offline_env: dict[str, str], shared_advisory_db: Path, tmp_path: Path
) -> None:
    findings = assay_findings(LARGE / "uv.lock", shared_advisory_db)
    requirements = tmp_path / "requirements.txt"
    export = [str(BIN / "uv"), "export", "--frozen", "--no-hashes", "--no-header", "--no-config"]
    export += ["--no-emit-project", "--project", str(LARGE), "-o", str(requirements)]
    _run(export, offline_env)

    uv = uv_audit(LARGE, api, offline_env)
    audited, pip = pip_audit(requirements, api, offline_env, tmp_path / "pip-audit")

    assert uv == every_record(findings)
    pins = marker_filtered(requirements)
    assert audited == pins
    assert len(pins) < 1015  # pip-audit really skipped the pins for other Pythons/platforms
    assert pip == pip_audit_view(findings, audited)
    # the explained differences on this lock: none of the skipped pins is vulnerable,
    # and no alias group has two records, so the sets are equal here too
    assert uv == pip == primary(findings)
    assert len(uv) == 44
