"""The app ``assay serve`` runs, with one part switched off (benchmark only).

    .venv/bin/python -m benchmarks.registry.assay_variant --port N --upstream URL \\
        --state-dir DIR [--allow-all] [--no-vetting]

``--allow-all``: the AllowAll governor instead of the policy governor (the
baseline of the policy-overhead figure).  ``--no-vetting``: no static
analysis of a new file before it is first served (to show what vetting adds to
a cold install).  Otherwise the same ``build_app`` and, without
``--allow-all``, the same ``governor_for`` (``ASSAY_POLICY``, ``ASSAY_DB``) as
``assay serve``.  Not a supported mode of assay.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from assay.cli.serve import governor_for
from assay.registry.config import RegistryConfig
from assay.registry.model import IndexConfig
from assay.registry.ports import AllowAll, Governor
from assay.server.listen import bind_socket
from assay.server.registry_app import build_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--allow-all", action="store_true")
    parser.add_argument("--no-vetting", action="store_true")
    args = parser.parse_args(argv)
    config = RegistryConfig(
        state_dir=args.state_dir,
        upstream_urls=(args.upstream,),
        indexes=(IndexConfig("default", "production"),),
    )
    governor: Governor = AllowAll() if args.allow_all else governor_for(config)
    app, _ = build_app(config, governor=governor, vetting=not args.no_vetting)
    sock = bind_socket("127.0.0.1", args.port)
    server = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    try:
        uvicorn.Server(server).run(sockets=[sock])
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
