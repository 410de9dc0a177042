"""The ``assay`` command and its error handling.

Every failure ends in one line on stderr and a documented exit code:
0 success, 1 the command's check failed (e.g. ``env diff`` found differences),
2 usage error, 3 unreadable or malformed input, 70 internal error (a bug).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from assay import __version__
from assay.errors import AssayError

# Commands are imported when used, so `assay env ...` never pays for httpx,
# starlette or the SBOM libraries.
_COMMANDS = {
    "env": ("assay.cli.env", "env_group"),
    "db": ("assay.cli.db", "db_group"),
    "audit": ("assay.cli.audit", "audit_command"),
    "osv-api": ("assay.cli.osv_api", "osv_api_command"),
    "sbom": ("assay.cli.sbom", "sbom_group"),
    "serve": ("assay.cli.serve", "serve_command"),
    "aibom": ("assay.cli.aibom", "aibom_command"),
    "gate": ("assay.cli.gate", "gate_command"),
    "promote": ("assay.cli.promote", "promote_command"),
    "log": ("assay.cli.log", "log_group"),
    "policy": ("assay.cli.policy", "policy_group"),
    "registry": ("assay.cli.registry", "registry_group"),
    "vet": ("assay.cli.vet", "vet_command"),
    "vet-name": ("assay.cli.vet_name", "vet_name_command"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


EXIT_USAGE = 2
EXIT_INTERNAL = 70


@click.group(
    cls=_LazyGroup,
    name="assay",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="assay", message="%(prog)s %(version)s")
def cli() -> None:
    """Governance for Python and ML dependencies."""


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"assay: error: {message}\n")
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting."""
    try:
        result = cli.main(args=argv, prog_name="assay", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n")
        return 0
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        return _fail(exc.format_message() + hint, EXIT_USAGE)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        return _fail("aborted", 130)
    except AssayError as exc:
        return _fail(exc.message, exc.exit_code)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last line of defence: one line, never a traceback
        if os.environ.get("ASSAY_DEBUG"):
            raise
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (set ASSAY_DEBUG=1)", EXIT_INTERNAL
        )
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())
