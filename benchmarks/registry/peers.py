"""The registry benchmark's peers, devpi-server and proxpi, in their own venv under ``.bench/``.

    .venv/bin/python -m benchmarks.registry.peers --prepare   # (re)create the venv

Both are installed from pip's configured index at pinned versions.  Each
server is started as its own process on 127.0.0.1 with a fresh state
directory and pointed at the benchmark's local upstream index:

- devpi-server: ``devpi-init --no-root-pypi`` into a temp server dir, then
  ``devpi-server``; a mirror index ``root/up`` whose ``mirror_url`` is the
  local upstream is created over devpi's HTTP API (basic auth as root).
  Clients use ``/root/up/+simple/``.
- proxpi: its Flask app under waitress (installed with devpi-server), with
  ``PROXPI_INDEX_URL`` set to the local upstream and ``PROXPI_CACHE_DIR`` in
  the temp dir.  Clients use ``/index/``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import venv
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType

import httpx
from tests.registry.serving import NotListeningError, free_port, stop_process, wait_listening

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".bench" / "registry-venv"
PINS = ("devpi-server==6.20.3", "proxpi==1.3.1", "waitress==3.0.2")
ROOT_PASSWORD = secrets.token_urlsafe(16)  # for a throwaway local devpi only


class PeerError(Exception):
    """A peer could not be installed or started."""


def _bin(name: str, env: Path = VENV) -> Path:
    return env / "bin" / name


def installed(env: Path = VENV) -> dict[str, str]:
    python = _bin("python", env)
    if not python.exists():
        return {}
    probe = (
        "import importlib.metadata as m\n"
        "for n in ('devpi-server', 'proxpi', 'waitress'):\n"
        "    try: print(n, m.version(n))\n"
        "    except m.PackageNotFoundError: pass\n"
    )
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)


def prepare(env: Path = VENV, force: bool = False) -> None:
    """Create ``env`` with the pinned peers unless they are already there."""
    wanted = dict(pin.split("==") for pin in PINS)
    if not force and installed(env) == wanted:
        return
    print(f"installing {' '.join(PINS)} into {env} ...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
    command = [str(_bin("python", env)), "-m", "pip", "install", "--quiet", *PINS]
    if subprocess.run(command, check=False).returncode != 0 or installed(env) != wanted:
        raise PeerError(f"pip install {' '.join(PINS)} into {env} failed")


class Peer(AbstractContextManager["Peer"]):
    """A started server: ``simple_url`` ends with ``/``; pages are ``simple_url + name + /``."""

    label = "peer"

    def __init__(self, workdir: Path, upstream_url: str) -> None:
        self.workdir = workdir
        self.upstream_url = upstream_url
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{self.label}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def simple_url(self) -> str:
        raise NotImplementedError

    def start(self) -> Peer:
        raise NotImplementedError

    def _spawn(self, command: list[str], env: dict[str, str] | None = None) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir
            )
        try:
            wait_listening(self.process, self.port, 120, self._tail, self.label)
        except NotListeningError as exc:
            raise PeerError(str(exc)) from None

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def __enter__(self) -> Peer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class Devpi(Peer):
    label = "devpi"

    @property
    def simple_url(self) -> str:
        return f"{self.base_url}/root/up/+simple/"

    def start(self) -> Devpi:
        serverdir = self.workdir / "devpi-server"
        init = [str(_bin("devpi-init")), "--serverdir", str(serverdir), "--no-root-pypi"]
        done = subprocess.run(
            [*init, "--root-passwd", ROOT_PASSWORD], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise PeerError(f"devpi-init failed: {done.stderr[-1000:]}")
        command = [str(_bin("devpi-server")), "--serverdir", str(serverdir)]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        self._spawn(command)
        index = {"type": "mirror", "mirror_url": self.upstream_url, "volatile": True}
        response = httpx.put(
            f"{self.base_url}/root/up",
            json=index,
            auth=("root", ROOT_PASSWORD),
            headers={"Accept": "application/json"},
            timeout=60,
        )
        if response.status_code not in (200, 201):
            self.stop()
            raise PeerError(f"devpi: creating root/up: {response.status_code} {response.text}")
        return self


class Proxpi(Peer):
    label = "proxpi"

    @property
    def simple_url(self) -> str:
        return f"{self.base_url}/index/"

    def start(self) -> Proxpi:
        env = {
            **os.environ,
            "PROXPI_INDEX_URL": self.upstream_url,
            "PROXPI_CACHE_DIR": str(self.workdir / "proxpi-cache"),
            "PROXPI_LOGGING_LEVEL": "WARNING",
        }
        command = [str(_bin("waitress-serve")), "--host", "127.0.0.1", f"--port={self.port}"]
        command += ["--threads", "8", "proxpi.server:app"]
        self._spawn(command, env)
        return self


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepare", action="store_true", help="(re)create the peers' venv")
    args = parser.parse_args(argv)
    try:
        prepare(force=args.prepare)
    except PeerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, version in sorted(installed().items()):
        print(f"{name} {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
