"""The ``pip:`` section of a conda environment file, read as requirement lines.

Each line is what pip would find on one line of a requirements file, so the
requirements reader's line parser does the work: PEP 508 requirements, ``-e``,
bare URLs and paths, ``--hash``; ``-r`` files are read relative to the
environment file; index options are kept as properties.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from assay.environments.model import HashSource, Origin, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers._reqfile import (
    RequirementLine,
    parse_files,
    parse_hash,
    parse_options,
)
from assay.environments.readers._reqlines import LineContext, line_package

_INDEX_KEYS = frozenset({"index-url", "extra-index-url", "find-links", "no-index"})


@dataclass(frozen=True, slots=True)
class PipSection:
    """What a ``pip:`` section holds."""

    packages: tuple[Package, ...]
    notes: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    files: tuple[tuple[Path, bytes], ...]  # requirement files it includes with -r


def _split(content: str) -> tuple[str, str]:
    """pip's split of a line into requirement text and options (first ``-`` token)."""
    tokens = content.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:])
    return content.strip(), ""


def _line_number(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 0


def _index_origin(options: list[tuple[str, str]]) -> Origin:
    keys = [key for key, _ in options]
    primaries = [value for key, value in options if key == "index-url"]
    single = bool(primaries) and not {"no-index", "extra-index-url", "find-links"} & set(keys)
    return Origin(kind=OriginKind.INDEX, url=primaries[-1] if single else None)


def pip_section(path: Path, text: str, lines: list[str]) -> PipSection:
    """Packages, notes and options of the ``pip:`` lines of the environment file ``path``."""
    options: list[tuple[str, str]] = []
    requirement_lines: list[RequirementLine] = []
    files: list[tuple[Path, bytes]] = []
    notes: list[str] = []
    for raw in lines:
        content = raw.split(" #", 1)[0].strip()
        if not content or content.startswith("#"):
            continue
        number = _line_number(text, raw.strip()) or 0
        args, option_text = _split(content)
        parsed = parse_options(path, number, option_text) if option_text else []
        editables = [value for key, value in parsed if key == "editable"]
        hashes = tuple(parse_hash(path, number, value) for key, value in parsed if key == "hash")
        if args or editables:
            requirement_lines.append(
                RequirementLine(path, number, args or editables[0], bool(editables), False, hashes)
            )
            continue
        for key, value in parsed:
            if key == "requirement":
                target = path.parent / value
                if not target.is_file():
                    reason = "is not a file" if target.exists() else "does not exist"
                    raise ReaderError(path, f"-r {value}: {target} {reason}", line=number or None)
                included = parse_files(target, follow_includes=True)
                files.extend(included.files)
                options.extend(included.options)
                requirement_lines.extend(r for r in included.requirements if not r.constraint)
                if any(r.constraint for r in included.requirements):
                    notes.append(f"constraints included by -r {value} were not applied")
            elif key == "constraint":
                notes.append(f"pip section constraint file -c {value} was not applied")
            else:
                options.append((key, value))
    if any(key not in _INDEX_KEYS for key, _ in options):
        other = sorted({key for key, _ in options if key not in _INDEX_KEYS})
        notes.append(f"pip options in the pip section: {', '.join(other)}")
    ctx = LineContext(
        index_origin=_index_origin(options), fragment_hash_source=HashSource.LOCK, freeze=False
    )
    packages: list[Package] = []
    for line in requirement_lines:
        package = line_package(line, ctx).package
        packages.append(replace(package, installer="pip", requested=True))
    return PipSection(tuple(packages), tuple(notes), tuple(options), tuple(files))
