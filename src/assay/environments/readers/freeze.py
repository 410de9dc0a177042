"""``pip freeze`` output: what is installed, as requirement lines.

The lines are parsed with the requirements-file parser.  What freeze adds:
``# Editable install with no version control (name==version)`` (and the other
``# Editable ... (name==version)`` comments pip writes) name the ``-e <path>``
line below them; ``#sha256=`` URL fragments come from the installed
``direct_url.json`` (hash source REPORT).  Freeze cannot tell direct from
transitive packages (``requested`` is None), nor where a plain ``name==version``
came from (origin UNKNOWN).  ``-r`` lines that ``pip freeze -r`` echoes are not
followed: freeze already lists every installed package (a note says so).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from assay.environments.model import Environment
from assay.environments.ports import EnvironmentReader
from assay.environments.readers._reqfile import parse_files
from assay.environments.readers.requirements import build_environment, looks_like_requirements


class PipFreezeReader(EnvironmentReader):
    """The output of ``pip freeze`` saved to a file."""

    format_name: ClassVar[str] = "pip-freeze"
    description: ClassVar[str] = "`pip freeze` output saved to a *freeze*.txt file"

    def sniff(self, path: Path) -> bool:
        name = path.name.lower()
        try:
            return (
                "freeze" in name
                and name.endswith(".txt")
                and path.is_file()
                and looks_like_requirements(path, need_requirement=False)
            )
        except OSError:
            return False

    def read(self, path: Path) -> Environment:
        parsed = parse_files(path, follow_includes=False)
        return build_environment(path, parsed, format_name=self.format_name, freeze=True)
