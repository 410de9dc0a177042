"""``assay serve``: the curated registry (simple repository API, governed by policy)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import click

from assay.errors import UsageError
from assay.registry.config import RegistryConfig
from assay.registry.ports import Governor
from assay.settings import Settings


def governor_for(config: RegistryConfig, settings: Settings | None = None) -> Governor:
    """The policy governor of every index, with the notes to print about its facts.

    The policy file from settings (``ASSAY_POLICY``), else the starter policy
    that ``assay policy init`` writes; advisories from the local database and
    name checks from the popular-packages list when they are configured.
    """
    from assay.advisories.ports import AdvisoryError  # noqa: PLC0415
    from assay.advisories.store import AdvisoryDatabase  # noqa: PLC0415
    from assay.policy.loading import load_policy, parse_policy  # noqa: PLC0415
    from assay.policy.starter import STARTER_POLICY  # noqa: PLC0415
    from assay.registry.governance import (  # noqa: PLC0415
        NameCheck,
        PolicyGovernor,
        VulnerabilityLookup,
    )
    from assay.registry.licenses import StoredLicenses  # noqa: PLC0415
    from assay.registry.status import FILES_DIR  # noqa: PLC0415
    from assay.registry.store import FileStore  # noqa: PLC0415
    from assay.vetting.names import NameIndex  # noqa: PLC0415
    from assay.vetting.popularity import load_popular  # noqa: PLC0415

    settings = settings or Settings.from_env()
    if settings.policy_file.is_file():
        policy = load_policy(settings.policy_file)
        click.echo(f"assay registry: policy {settings.policy_file} ({policy.digest})")
    else:
        policy = parse_policy(STARTER_POLICY, "starter policy")
        click.echo(
            f"assay registry: no policy at {settings.policy_file}: using the starter policy "
            "(`assay policy init` writes it to edit)"
        )
    for index in config.indexes:
        if index.stage not in policy.stages:
            raise UsageError(
                f"index {index.name}: stage {index.stage!r} is not in the policy "
                f"({', '.join(policy.stages)})"
            )
    try:
        vulnerabilities = VulnerabilityLookup(AdvisoryDatabase(settings.advisory_db))
    except AdvisoryError as exc:
        click.echo(f"assay: warning: vulnerabilities unknown: {exc.message}", err=True)
        vulnerabilities = None
    names = None
    if settings.popular_packages is not None:
        names = NameCheck(NameIndex.build(load_popular(settings.popular_packages)))
    else:
        click.echo(
            "assay: warning: no popular-packages list (ASSAY_POPULAR_PACKAGES): "
            "typosquat checks are off",
            err=True,
        )
    return PolicyGovernor(
        policy,
        vulnerabilities=vulnerabilities,
        licenses=StoredLicenses(FileStore(config.state_dir / FILES_DIR)),
        names=names,
    )


@click.command("serve")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Registry settings (TOML; default: $ASSAY_REGISTRY_CONFIG, else built-in defaults).",
)
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port) [default: 8000].",
)
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    metavar="URL",
    help="Upstream simple index (repeatable; default: $ASSAY_INDEX_URL, else pip's index).",
)
@click.option("--stage", default=None, help="Policy stage for every index [default: production].")
def serve_command(
    config_path: Path | None,
    host: str | None,
    port: int | None,
    upstreams: tuple[str, ...],
    stage: str | None,
) -> None:
    """Serve a PyPI-compatible index that only serves what policy allows.

    Pages and files come from the upstream index on demand, are checked
    against upstream's sha256, cached under $ASSAY_REGISTRY_DIR, vetted before
    first served and ruled on by the policy of each index's stage.  Point pip
    or uv at the printed URL.  Stop with Ctrl-C.  Exit 2: bad configuration or
    the address cannot be listened on.
    """
    # imported here so that other assay commands do not pay for the web stack
    import uvicorn  # noqa: PLC0415

    from assay.registry.config import load_config, with_stage  # noqa: PLC0415
    from assay.server.listen import base_url, bind_socket, is_loopback  # noqa: PLC0415
    from assay.server.registry_app import build_app  # noqa: PLC0415
    from assay.vetting.upstream import redact  # noqa: PLC0415

    config = load_config(config_path, upstreams=upstreams)
    if host is not None:
        config = replace(config, host=host)
    if port is not None:
        config = replace(config, port=port)
    if stage:
        config = with_stage(config, stage)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("assay registry: %(levelname)s: %(message)s"))
    registry_log = logging.getLogger("assay.registry")
    registry_log.addHandler(handler)
    registry_log.setLevel(logging.INFO)  # blocked downloads, stale pages, refused files
    sock = bind_socket(config.host, config.port)
    try:
        app, _ = build_app(config, governor=governor_for(config))
    except BaseException:
        sock.close()
        raise
    base = base_url(sock)
    if not is_loopback(sock):
        click.echo(
            f"assay: warning: listening on {config.host}: any host that can reach it can use it",
            err=True,
        )
    shown = ", ".join(redact(u) for u in config.upstream_urls)
    click.echo(f"assay registry: upstream {shown}; state in {config.state_dir}")
    for index in config.indexes:
        click.echo(
            f"  {base}{index.simple_path}  (stage {index.stage}, blocked files: "
            f"{index.blocked_action})"
        )
    click.echo(f"listening on {base}  (Ctrl-C to stop); try:")
    first = config.indexes[0]
    click.echo(f"  pip install --index-url {base}{first.simple_path} PACKAGE")
    click.echo(f"  uv pip install --index-url {base}{first.simple_path} PACKAGE")
    server_config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    try:
        uvicorn.Server(server_config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    click.echo("assay registry: stopped", err=True)
