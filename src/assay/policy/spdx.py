"""License expressions graded against allow / review / deny lists.

An expression is parsed once (cached) with ``license-expression`` and graded
bottom-up: ``OR`` takes the best branch (the user may choose it), ``AND``
the worst (all terms apply).  ``A WITH E`` is looked up as written first and
otherwise graded as ``A`` (an exception only adds permissions).  Ids compare
case-insensitively after normalisation, so a deprecated id such as ``GPL-2.0``
counts as ``GPL-2.0-only`` on either side.  ``LicenseRef-*`` ids are graded like
any id; an id that is not on the SPDX list (and not a ``LicenseRef-``) and an
expression that does not parse are *unknown*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    get_spdx_licensing,
)

from assay.policy.model import Outcome


@lru_cache(maxsize=1)
def licensing() -> Any:
    return get_spdx_licensing()


def _known(key: str) -> bool:
    """A license id: on the SPDX license list (not an exception), or ``LicenseRef-*``."""
    return key.startswith("LicenseRef-") or key in _known_keys()[0]


def _known_exception(key: str) -> bool:
    return key in _known_keys()[1]


@lru_cache(maxsize=1)
def _known_keys() -> tuple[frozenset[str], frozenset[str]]:
    """The SPDX license ids and the SPDX exception ids (one is not the other)."""
    symbols = licensing().known_symbols.values()
    return (
        frozenset(symbol.key for symbol in symbols if not symbol.is_exception),
        frozenset(symbol.key for symbol in symbols if symbol.is_exception),
    )


def normalise_id(text: str) -> str:
    """The normalised form of one list entry (``MIT``, ``A WITH E``, ``LicenseRef-x``).

    Raises ValueError naming what is wrong: not one id, or an unknown id.
    """
    stripped = text.strip()
    try:
        parsed = licensing().parse(stripped)
    except (ExpressionError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{text!r} is not an SPDX license id ({exc})") from None
    if isinstance(parsed, LicenseWithExceptionSymbol):
        base = parsed.license_symbol.key
        exception = parsed.exception_symbol.key
        if not _known(base) or not _known_exception(exception):
            raise ValueError(f"{text!r} names an unknown SPDX license or exception id")
        return f"{base} WITH {exception}".lower()
    if not isinstance(parsed, LicenseSymbol):
        raise ValueError(f"{text!r} is an expression; list one SPDX id per entry")  # noqa: TRY004
    if not _known(parsed.key):
        raise ValueError(f"{text!r} is not a known SPDX license id")
    return str(parsed.key).lower()


@lru_cache(maxsize=8192)
def parse_expression(text: str) -> Any | None:
    """The parsed expression, or None when the text is not an SPDX expression."""
    if not text.strip() or len(text) > 1000:
        return None
    try:
        return licensing().parse(text)
    except (ExpressionError, TypeError, ValueError, AttributeError, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class LicenseLists:
    """Normalised allow / review / deny lists and how unlisted and unknown ids grade."""

    allow: frozenset[str]
    review: frozenset[str]
    deny: frozenset[str]
    unlisted: Outcome
    unknown: Outcome
    _cache: dict[str, tuple[Outcome, str]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def grade(self, expression: str | None) -> tuple[Outcome, str]:
        """The outcome of an expression and why (empty when it passes)."""
        if expression is None:
            return self.unknown, "license unknown"
        cached = self._cache.get(expression)
        if cached is not None:
            return cached
        parsed = parse_expression(expression)
        if parsed is None:
            result = (self.unknown, f"license {expression!r} is not an SPDX expression")
        else:
            outcome, notes = self._node(parsed)
            detail = "; ".join(dict.fromkeys(notes))
            result = (outcome, f"license {parsed}: {detail}" if detail else "")
        if len(self._cache) < 4096:
            self._cache[expression] = result
        return result

    def _node(self, node: Any) -> tuple[Outcome, list[str]]:
        if isinstance(node, LicenseWithExceptionSymbol):
            combined = f"{node.license_symbol.key} WITH {node.exception_symbol.key}"
            listed = self._listed(combined.lower(), combined)
            if listed is not None:
                return listed
            base = self._symbol(str(node.license_symbol.key))
            if not _known_exception(node.exception_symbol.key):
                # unknown, and never milder than the license it is attached to
                note = f"{node.exception_symbol.key} is not a known exception"
                return self.unknown.at_least(base[0]), [*base[1], note]
            return base
        if isinstance(node, LicenseSymbol):
            return self._symbol(str(node.key))
        if isinstance(node, OR):
            return min((self._node(arg) for arg in node.args), key=lambda item: item[0].rank)
        if isinstance(node, AND):
            graded = [self._node(arg) for arg in node.args]
            worst = max((item[0] for item in graded), key=lambda outcome: outcome.rank)
            notes = [note for outcome, found in graded if outcome != Outcome.PASS for note in found]
            return worst, notes
        return self.unknown, [f"{node} is not a license"]

    def _symbol(self, key: str) -> tuple[Outcome, list[str]]:
        listed = self._listed(key.lower(), key)
        if listed is not None:
            return listed
        if not _known(key):
            return self.unknown, [f"{key} is not a known SPDX id"]
        if self.unlisted == Outcome.PASS:
            return Outcome.PASS, []
        return self.unlisted, [f"{key} is not on the allow list"]

    def _listed(self, folded: str, shown: str) -> tuple[Outcome, list[str]] | None:
        if folded in self.deny:
            return Outcome.BLOCK, [f"{shown} is denied"]
        if folded in self.allow:
            return Outcome.PASS, []
        if folded in self.review:
            return Outcome.WARN, [f"{shown} needs review"]
        return None
