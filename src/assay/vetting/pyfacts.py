"""The facts :mod:`assay.vetting.pysource` records about one Python file (plain values)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Call:
    """One call site: the resolved dotted name (None when the callee is computed)."""

    name: str | None
    line: int
    top_level: bool  # not inside a def/lambda: runs when the module runs
    function: str | None  # the enclosing def, if any
    literal_args: bool  # every argument is a constant (or there are none)
    origins: frozenset[str]  # what flows into the first argument
    hidden: bool  # the name was only found through __import__/getattr/import_module
    first_arg: str | None  # the first argument when it is a (folded) string constant
    cls: str | None = None  # the enclosing class, if any
    arg_names: frozenset[str] = frozenset()  # dotted names read in the arguments


@dataclass(slots=True)
class ModuleFacts:
    """Everything a rule reads about one module."""

    path: str
    aliases: dict[str, str] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)  # full dotted names imported
    calls: list[Call] = field(default_factory=list)
    strings: list[tuple[str, int]] = field(default_factory=list)
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> resolved bases
    env_bulk_reads: list[int] = field(default_factory=list)  # lines reading all of os.environ
    lines: tuple[str, ...] = ()
    reached: frozenset[str] = frozenset()  # functions that top-level code calls
    callees: dict[str | None, set[str]] = field(default_factory=dict)  # caller -> local callees
    _joined: str | None = None

    def joined_strings(self) -> str:
        """Every string constant in one text (for a quick search before a per-string one)."""
        if self._joined is None:
            self._joined = "\n".join(value for value, _ in self.strings)
        return self._joined

    def reach(self, roots: set[str]) -> frozenset[str]:
        """Local functions that calling ``roots`` runs (the roots included)."""
        reached: set[str] = set()
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo.extend(self.callees.get(name, ()))
        return frozenset(reached)

    def snippet(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            text = self.lines[line - 1].strip()
            return text if len(text) <= 160 else text[:157] + "..."
        return ""


@dataclass(frozen=True, slots=True)
class Unparsed:
    """Why a file was not analysed as Python."""

    reason: str
    line: int = 0
    python2: bool = False
