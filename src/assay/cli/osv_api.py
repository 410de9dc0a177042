"""``assay osv-api``: serve the local advisory database as an OSV-compatible API."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import click

from assay.errors import UsageError
from assay.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _listen(host: str, port: int) -> socket.socket:
    """A bound socket for ``host:port``; UsageError (exit 2) when that is impossible."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"--host {host!r}: cannot resolve it: {exc}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise UsageError(
            f"cannot listen on {host}:{port}: {reason} (pick another --port, or 0 for any free one)"
        ) from None
    return sock


def _url_host(address: str) -> str:
    """The host to put in URLs: loopback for a wildcard address, brackets for IPv6."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.is_unspecified:
        ip = ipaddress.ip_address("::1" if ip.version == 6 else "127.0.0.1")
    return f"[{ip}]" if ip.version == 6 else str(ip)


@click.command("osv-api")
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Advisory database to serve (default: $ASSAY_DB, else advisories.sqlite3 in $ASSAY_HOME).",
)
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, printed at start).",
)
def osv_api_command(db_path: Path | None, host: str, port: int) -> None:
    """Serve the advisory database as an OSV-compatible API (offline).

    Endpoints: POST /v1/query, POST /v1/querybatch, GET /v1/vulns/{id}.
    Unmodified `uv audit --service-url` and `pip-audit --osv-url` work against
    it; the exact command lines are printed at start.  Stop with Ctrl-C.
    """
    # imported here so that other assay commands do not pay for the web stack
    import uvicorn  # noqa: PLC0415

    from assay.advisories.store import AdvisoryDatabase  # noqa: PLC0415
    from assay.server import create_osv_app  # noqa: PLC0415

    database = AdvisoryDatabase(db_path or Settings.from_env().advisory_db)
    records = database.status().records
    sock = _listen(host, port)
    bound_address, bound_port = sock.getsockname()[:2]
    base = f"http://{_url_host(bound_address)}:{bound_port}"
    if not ipaddress.ip_address(bound_address.split("%", 1)[0]).is_loopback:
        click.echo(
            f"assay: warning: listening on {host}: any host that can reach it can query it",
            err=True,
        )
    click.echo(f"assay OSV API: {records} advisories from {database.path}")
    click.echo(f"listening on {base}  (Ctrl-C to stop)")
    click.echo(f"  uv audit --service-url {base}")
    click.echo(f"  pip-audit -s osv --osv-url {base}/v1/query")
    config = uvicorn.Config(
        create_osv_app(database), log_level="warning", access_log=False, lifespan="off"
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        database.close()
    click.echo("assay OSV API: stopped", err=True)
