"""When is a locked package installed? Markers combined along the lock graph.

A universal lock (uv.lock) records markers on dependency edges, not on the
packages.  A package is installed when some path from a root reaches it with
every edge marker on that path true.  That condition is kept in disjunctive
normal form (a set of conjunctions of edge-marker strings) and propagated to a
fixed point.  Two rules keep it readable: absorption (``a or (a and b)`` is
``a``) and complements (``(c and x < '1') or (c and x >= '1')`` is ``c``), which
is how forked resolutions split their edges.  When a condition still grows past
a fixed size it is given up (``None``, i.e. unknown).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence

Conjunction = frozenset[str]
Condition = frozenset[Conjunction]

ALWAYS: Condition = frozenset({frozenset()})
MAX_CONJUNCTIONS = 32
MAX_ATOMS = 12

_COMPARISON = re.compile(r"""^([a-z_]+) (<=|>=|==|!=|<|>) ('[^']*'|"[^"]*")$""")
_OPPOSITE = {"<": ">=", ">=": "<", ">": "<=", "<=": ">", "==": "!=", "!=": "=="}


def atoms(marker: str) -> frozenset[str]:
    """A marker's top-level ``and`` terms when it is a plain conjunction, else itself."""
    if "(" in marker or " or " in marker:
        return frozenset({marker.strip()})
    return frozenset(part.strip() for part in marker.split(" and "))


def _complement(atom: str) -> str | None:
    match = _COMPARISON.match(atom)
    if match is None:
        return None
    variable, operator, value = match.groups()
    return f"{variable} {_OPPOSITE[operator]} {value}"


def _merge_complements(condition: set[Conjunction]) -> set[Conjunction]:
    """``(c and a) or (c and not a)`` becomes ``c``, repeatedly."""
    changed = True
    while changed:
        changed = False
        for conj in list(condition):
            for atom in conj:
                other = _complement(atom)
                if other is None:
                    continue
                partner = (conj - {atom}) | {other}
                if partner in condition:
                    condition -= {conj, partner}
                    condition.add(conj - {atom})
                    changed = True
                    break
            if changed:
                break
    return condition


def _absorb(condition: set[Conjunction]) -> Condition:
    """Drop conjunctions implied by a smaller one (``a or (a and b)`` is ``a``)."""
    ordered = sorted(_merge_complements(set(condition)), key=len)
    kept: list[Conjunction] = []
    for conj in ordered:
        if not any(small <= conj for small in kept):
            kept.append(conj)
    return frozenset(kept)


def propagate(
    roots: Iterable[int],
    edges: Mapping[int, Sequence[tuple[int, str | None]]],
) -> tuple[dict[int, Condition | None], int]:
    """The install condition of every node reachable from ``roots``.

    ``edges[n]`` lists ``(target, marker)`` pairs.  Returns the conditions
    (``None`` where the condition grew too large to keep) and how many nodes
    were given up.
    """
    conditions: dict[int, Condition | None] = {}
    queue: deque[int] = deque()
    for root in roots:
        conditions[root] = ALWAYS
        queue.append(root)
    given_up: set[int] = set()
    while queue:
        node = queue.popleft()
        here = conditions[node]
        for target, marker in edges.get(node, ()):
            old = conditions.get(target, frozenset())
            if old is None:
                continue
            if here is None:
                new: Condition | None = None
            else:
                extended = {conj | atoms(marker) if marker else conj for conj in here}
                merged = _absorb(set(old) | extended)
                too_big = len(merged) > MAX_CONJUNCTIONS or any(
                    len(conj) > MAX_ATOMS for conj in merged
                )
                new = None if too_big else merged
            if new is None:
                given_up.add(target)
            if target in conditions and new == old:
                continue
            conditions[target] = new
            queue.append(target)
    return conditions, len(given_up)


def render(condition: Condition | None) -> str | None:
    """A PEP 508 marker for ``condition``; ``None`` when always true or unknown."""
    if condition is None or condition == ALWAYS or not condition:
        return None
    clauses: list[str] = []
    for conj in condition:
        atoms = sorted(conj)
        if len(atoms) == 1:
            clauses.append(atoms[0])
        else:
            clauses.append(" and ".join(_wrap(atom) for atom in atoms))
    clauses.sort()
    if len(clauses) == 1:
        return clauses[0]
    return " or ".join(_wrap(clause) for clause in clauses)


def _wrap(text: str) -> str:
    return f"({text})" if " or " in text or " and " in text else text
