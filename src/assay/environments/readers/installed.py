"""Installed environments: a virtualenv, a ``site-packages`` directory or an interpreter.

Only metadata files are read.  For an interpreter path the interpreter is run
once, isolated and without ``site`` (``-I -S``), to ask for its ``purelib`` and
``platlib`` directories, version and platform: no ``.pth`` file and no package
code runs.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from assay.environments.graph import marker_environment
from assay.environments.model import Environment, Source
from assay.environments.ports import EnvironmentReader, ReaderError
from assay.environments.readers._files import (
    decode,
    digest_files,
    parse_json,
    read_bytes,
    require_mapping,
    require_str,
)
from assay.environments.readers.distinfo import (
    SITE_DIR_NAMES,
    Distribution,
    duplicate_notes,
    find_site_dirs,
    is_metadata_dir,
    link_dependencies,
    metadata_entries,
    python_from_lib_dir,
    read_distribution,
)

INTERPRETER_TIMEOUT = 30.0

# Runs under -I -S: standard library only, no site, valid Python 2.7 and 3.x syntax.
# Python < 3.11 applies pyvenv.cfg in site.py, so the venv prefix is found by hand.
_SNIPPET = """
import json, os, platform, sys, sysconfig
prefix = sys.prefix
exe = os.path.abspath(sys.executable)
for d in (os.path.dirname(exe), os.path.dirname(os.path.dirname(exe))):
    if os.path.isfile(os.path.join(d, "pyvenv.cfg")):
        prefix = d
        break
v = {"base": prefix, "platbase": prefix}
sys.stdout.write(json.dumps({
    "purelib": sysconfig.get_path("purelib", vars=v),
    "platlib": sysconfig.get_path("platlib", vars=v),
    "version": platform.python_version(),
    "platform": sysconfig.get_platform(),
    "prefix": prefix,
}))
"""

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where to read: the root for relative paths, the site directories and what is known."""

    root: Path
    sites: tuple[Path, ...]
    python_version: str | None
    platform: str | None
    config: tuple[tuple[str, bytes], ...] = ()
    notes: tuple[str, ...] = ()


def _normalise_version(raw: str | None) -> str | None:
    """``3.11.7``, ``3.11.7.final.0`` or ``3.11`` -> the dotted numeric part."""
    if not raw:
        return None
    match = _VERSION.match(raw.strip())
    if match is None:
        return None
    return ".".join(part for part in match.groups() if part is not None)


def _parse_pyvenv(path: Path, data: bytes) -> dict[str, str]:
    """``key = value`` lines of ``pyvenv.cfg``; other lines are ignored, as ``site`` does."""
    values: dict[str, str] = {}
    for line in decode(path, data).splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _looks_like_site(path: Path) -> bool:
    if path.name in SITE_DIR_NAMES:
        return True
    try:
        with os.scandir(path) as entries:
            for count, entry in enumerate(entries):
                if count > 5000:
                    return False
                if entry.name.endswith(".dist-info") and entry.is_dir():
                    return True
    except OSError:
        return False
    return False


def _venv_layout(path: Path) -> _Layout:
    cfg_path = path / "pyvenv.cfg"
    cfg_bytes = read_bytes(cfg_path, 64 * 1024)
    cfg = _parse_pyvenv(cfg_path, cfg_bytes)
    sites = find_site_dirs(path)
    if not sites:
        raise ReaderError(path, "virtual environment has no lib/pythonX.Y/site-packages directory")
    version = _normalise_version(cfg.get("version_info") or cfg.get("version"))
    if version is None:
        version = next(
            (v for s in sites if (v := python_from_lib_dir(s.parent.name)) is not None), None
        )
    notes: list[str] = []
    if cfg.get("include-system-site-packages", "").lower() == "true":
        home = cfg.get("home", "the base interpreter")
        notes.append(
            f"include-system-site-packages is true: packages of {home} are visible in this "
            "environment but were not read"
        )
    return _Layout(
        root=path,
        sites=tuple(sites),
        python_version=version,
        platform="win32" if any(s.parent.name == "Lib" for s in sites) else None,
        config=(("pyvenv.cfg", cfg_bytes),),
        notes=tuple(notes),
    )


def _site_layout(path: Path) -> _Layout:
    version = python_from_lib_dir(path.parent.name)
    venv = path.parent.parent.parent if version is not None else path.parent.parent
    config: tuple[tuple[str, bytes], ...] = ()
    cfg_path = venv / "pyvenv.cfg"
    if cfg_path.is_file():
        cfg_bytes = read_bytes(cfg_path, 64 * 1024)
        cfg = _parse_pyvenv(cfg_path, cfg_bytes)
        version = _normalise_version(cfg.get("version_info") or cfg.get("version")) or version
        config = (("pyvenv.cfg", cfg_bytes),)
    return _Layout(root=path, sites=(path,), python_version=version, platform=None, config=config)


def _interpreter_layout(path: Path) -> _Layout:
    try:
        result = subprocess.run(  # noqa: S603 - the user named this interpreter; -I -S runs no site code
            [str(path), "-I", "-S", "-c", _SNIPPET],
            capture_output=True,
            timeout=INTERPRETER_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ReaderError(
            path, f"interpreter did not answer within {INTERPRETER_TIMEOUT:g}s"
        ) from None
    except PermissionError:
        raise ReaderError(
            path, "cannot run interpreter: permission denied (not executable)"
        ) from None
    except OSError as exc:
        raise ReaderError(path, f"cannot run interpreter: {exc.strerror or exc}") from None
    if result.returncode != 0:
        lines = [ln.strip() for ln in result.stderr.decode("utf-8", "replace").splitlines()]
        detail = "; ".join(ln for ln in lines if ln)[-300:] or f"exit status {result.returncode}"
        raise ReaderError(path, f"interpreter query failed: {detail}")
    text = result.stdout.decode("utf-8", "replace")
    info = require_mapping(path, parse_json(path, text), "interpreter answer")
    purelib = Path(require_str(path, info.get("purelib"), "purelib"))
    platlib = Path(require_str(path, info.get("platlib"), "platlib"))
    prefix = Path(require_str(path, info.get("prefix"), "prefix"))
    unique: dict[Path, Path] = {}
    for site in (purelib, platlib):
        if site.is_dir():
            unique.setdefault(site.resolve(), site)
    if not unique:
        raise ReaderError(path, f"interpreter's site-packages does not exist: {purelib}")
    return _Layout(
        root=prefix,
        sites=tuple(unique.values()),
        python_version=_normalise_version(require_str(path, info.get("version"), "version")),
        platform=require_str(path, info.get("platform"), "platform"),
    )


def _relative_root(site: Path, root: Path) -> str:
    try:
        rel = site.relative_to(root).as_posix()
    except ValueError:
        return site.as_posix()
    return "" if rel == "." else rel


class InstalledReader(EnvironmentReader):
    """Reads the packages installed in a virtualenv, site-packages directory or interpreter."""

    format_name = "installed"
    description = "An installed environment: a virtualenv, a site-packages directory or a Python."

    def sniff(self, path: Path) -> bool:
        try:
            if path.is_dir():
                if (path / "conda-meta").is_dir():
                    return False
                return (path / "pyvenv.cfg").is_file() or _looks_like_site(path)
            return (
                path.is_file()
                and path.name.lower().startswith("python")
                and os.access(path, os.X_OK)
            )
        except OSError:
            return False

    def read(self, path: Path) -> Environment:
        layout = self._layout(path)
        distributions: list[Distribution] = []
        for site in layout.sites:
            rel_root = _relative_root(site, layout.root)
            distributions.extend(
                read_distribution(meta, rel_root) for meta in metadata_entries(site)
            )
        installed = {d.package.canonical_name for d in distributions}
        packages = link_dependencies(
            distributions, installed, marker_environment(layout.python_version)
        )
        files = list(layout.config)
        for dist in distributions:
            files.extend(dist.files)
        notes = [*layout.notes, *duplicate_notes(distributions, layout.root)]
        return Environment(
            source=Source(kind=self.format_name, path=str(path), digest=digest_files(files)),
            packages=tuple(packages),
            python_version=layout.python_version,
            platform=layout.platform,
            notes=tuple(notes),
        )

    @staticmethod
    def _layout(path: Path) -> _Layout:
        if path.is_dir():
            if (path / "pyvenv.cfg").is_file():
                return _venv_layout(path)
            if path.name in SITE_DIR_NAMES or any(
                is_metadata_dir(p.name) for p in metadata_entries(path)
            ):
                return _site_layout(path)
            sites = find_site_dirs(path)
            if not sites:
                raise ReaderError(
                    path,
                    "not a virtual environment, site-packages directory or Python prefix "
                    "(no pyvenv.cfg, no *.dist-info, no lib/pythonX.Y/site-packages)",
                )
            version = next(
                (v for s in sites if (v := python_from_lib_dir(s.parent.name)) is not None), None
            )
            return _Layout(root=path, sites=tuple(sites), python_version=version, platform=None)
        if path.is_file():
            return _interpreter_layout(path)
        raise ReaderError(path, "no such file or directory")
