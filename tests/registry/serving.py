"""Running things for the registry tests: ``assay serve`` as a subprocess, client settings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for servers that need one up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class NotListeningError(RuntimeError):
    """A server process exited, or did not accept connections in time."""


def wait_listening(
    process: subprocess.Popen[bytes],
    port: int,
    limit: float,
    output: Callable[[], str],
    name: str,
) -> None:
    """Return once 127.0.0.1:``port`` accepts a connection; NotListeningError otherwise."""
    deadline = time.monotonic() + limit
    while True:
        if process.poll() is not None:
            raise NotListeningError(f"{name} exited {process.returncode}: {output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                detail = f"{name} did not listen on {port} after {limit:.0f} s: {output()}"
                raise NotListeningError(detail) from None
            time.sleep(0.05)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a server process (kill it if it does not go within 20 s)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


def recent(seconds: float = 0) -> datetime:
    """``now - seconds``, timezone-aware (for cooldown tests)."""
    return datetime.now(UTC) - timedelta(seconds=seconds)


def client_env(directory: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for pip and uv that reads no host configuration and no shared cache.

    Drops every ``PIP_*``/``UV_*`` variable (find-links, constraints, extra indexes of
    the host), points pip at no config file and both tools at private caches.
    """
    source = dict(os.environ if base is None else base)
    env = {k: v for k, v in source.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "PIP_CACHE_DIR": str(directory / "pip-cache"),
            "UV_CACHE_DIR": str(directory / "uv-cache"),
            "UV_NO_CONFIG": "1",
            "UV_PYTHON_DOWNLOADS": "never",
            "PIP_DEFAULT_TIMEOUT": "30",
            "UV_HTTP_TIMEOUT": "30",
        }
    )
    return env


class AssayServe:
    """``assay serve`` as a subprocess on 127.0.0.1 (a free port) in front of ``upstream_url``.

    ``home`` becomes ``ASSAY_HOME`` (the registry's state lives under it unless
    ``env`` says otherwise); ``extra_env`` adds ``ASSAY_POLICY``, ``ASSAY_DB``...
    The context manager waits until the server answers and always stops it.
    """

    def __init__(
        self,
        home: Path,
        upstream_url: str,
        *,
        extra_env: dict[str, str] | None = None,
        arguments: tuple[str, ...] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        self.home = home
        self.upstream_url = upstream_url
        self.port = free_port()
        self.extra_env = extra_env or {}
        self.arguments = arguments
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log = home / f"assay-serve-{self.port}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def simple_url(self) -> str:
        return f"{self.base_url}/simple/"

    def command(self) -> list[str]:
        assay = Path(sys.executable).with_name("assay")
        return [
            str(assay),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--upstream",
            self.upstream_url,
            *self.arguments,
        ]

    def start(self) -> AssayServe:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        env.update({"ASSAY_HOME": str(self.home), **self.extra_env})
        with self.log.open("wb") as log:
            # cwd: the home, so no ./assay-policy.toml of the caller's directory is picked up
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.home
            )
        try:
            limit = self.startup_timeout
            wait_listening(self.process, self.port, limit, self.output, "assay serve")
        except NotListeningError:
            self.stop()
            raise
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def kill(self) -> None:
        """Stop it the hard way (SIGKILL): a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)

    def __enter__(self) -> AssayServe:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
