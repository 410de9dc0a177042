"""The dependency rule of ARCHITECTURE.md, checked on the source tree itself."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "assay"
FRAMEWORKS = {
    *("click", "rich", "httpx", "sqlite3", "sqlalchemy", "starlette", "uvicorn", "cryptography"),
}
# modules allowed to touch a framework: the CLI, the server, and named I/O adapters
ADAPTERS = {
    "advisories/store.py": {"sqlite3"},
    "advisories/sync.py": {"httpx"},
    "vetting/upstream.py": {"httpx"},
    "vetting/upstream_projects.py": {"httpx"},
    "registry/upstream.py": {"httpx"},
    "registry/state.py": {"sqlite3"},
    "vetting/cache.py": {"sqlite3"},
    "auditlog/keys.py": {"cryptography"},
    "policy/index_facts.py": {"httpx"},
    "registry/tokens.py": {"sqlite3"},
    "registry/internal.py": {"sqlite3"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules() -> list[Path]:
    return sorted(
        p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] not in {"cli", "server"}
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_core_and_adapters_stay_off_frameworks(path):
    allowed = ADAPTERS.get(path.relative_to(SRC).as_posix(), set())
    assert _imports(path) & FRAMEWORKS <= allowed


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_nothing_outside_the_cli_imports_the_cli(path):
    if path.relative_to(SRC).parts[0] == "cli":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {m for m in modules if m.startswith("assay.cli")}


def test_modules_stay_small():
    sizes = {
        p.relative_to(SRC).as_posix(): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 450} == {}
