"""``assay osv-api``: serve the local advisory database as an OSV-compatible API."""

from __future__ import annotations

from pathlib import Path

import click

from assay.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


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
    Exit 2: the address cannot be listened on; 4: no usable advisory database.
    """
    # imported here so that other assay commands do not pay for the web stack
    import uvicorn  # noqa: PLC0415

    from assay.advisories.store import AdvisoryDatabase  # noqa: PLC0415
    from assay.server import create_osv_app  # noqa: PLC0415
    from assay.server.listen import base_url, bind_socket, is_loopback  # noqa: PLC0415

    database = AdvisoryDatabase(db_path or Settings.from_env().advisory_db)
    try:
        records = database.status().records
        sock = bind_socket(host, port)
    except BaseException:
        database.close()
        raise
    base = base_url(sock)
    if not is_loopback(sock):
        click.echo(
            f"assay: warning: listening on {host}: any host that can reach it can query it",
            err=True,
        )
    click.echo(f"assay OSV API: {records} advisories from {database.path}")
    click.echo(f"listening on {base}  (Ctrl-C to stop)")
    click.echo(f"  uv audit --no-index --service-url {base}")
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
