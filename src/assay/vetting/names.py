"""Name checks: does a package name imitate a popular one?  (pure core, no I/O)

:class:`NameIndex` is built once from a :class:`PopularPackages` list (rank
order, see :mod:`assay.vetting.popularity`) and precomputes every lookup, so
that checking one name is a few hundred dictionary probes, never a scan:

* the separator-free form of every popular name (``-``, ``_``, ``.`` removed);
* the "core" form, with ``py``/``python``/``python3`` prefixes and suffixes removed;
* a symmetric-delete neighbourhood of the popular names that can be imitated
  (the top ``target_top``): every string one deletion away (two for names of at
  least ``LONG_NAME`` characters); a candidate's own deletions are probed in it
  and every hit is confirmed with the optimal-string-alignment
  (Damerau-Levenshtein) distance.

A name is compared after PEP 503 normalisation; names outside ASCII are mapped
through NFKC and a small table of Cyrillic and Greek look-alikes first.  A
popular name is only reported against a *much* more popular one (``ratio`` times
the downloads), so established projects that resemble each other (``boto`` and
``boto3``, ``urllib3``, ``jinja2``) are not flagged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from assay.advisories.severity import Level

# Rule ids (stable).
HOMOGLYPH = "name-homoglyph"
NOT_ASCII = "name-not-ascii"
INVALID = "name-invalid"
SEPARATOR = "name-separator"
AFFIX = "name-python-affix"
TRANSPOSITION = "name-transposition"
REPEATED = "name-repeated-letter"
OMITTED = "name-omitted-letter"
DIGIT_LETTER = "name-digit-letter"
TYPO = "name-typo"
TYPO2 = "name-typo-distance-2"
COMBOSQUAT = "name-combosquat"
COMBO_TYPO = "name-combosquat-typo"

RULES: dict[str, tuple[Level, str]] = {
    HOMOGLYPH: (Level.CRITICAL, "Unicode look-alike letters spell a popular name"),
    NOT_ASCII: (Level.HIGH, "not an ASCII name: no valid package name has these characters"),
    INVALID: (Level.HIGH, "not a valid package name (PEP 508)"),
    SEPARATOR: (Level.HIGH, "the same letters as a popular name with other separators"),
    AFFIX: (Level.HIGH, "a popular name with a py/python prefix or suffix added or removed"),
    TRANSPOSITION: (Level.HIGH, "a popular name with two adjacent letters swapped"),
    REPEATED: (Level.HIGH, "a popular name with a letter doubled"),
    OMITTED: (Level.HIGH, "a popular name with a doubled letter written once"),
    DIGIT_LETTER: (Level.HIGH, "a popular name with a digit for a look-alike letter (0/o, 1/l)"),
    TYPO: (Level.HIGH, "one edit (insert, delete, replace) away from a popular name"),
    TYPO2: (Level.MEDIUM, "two edits away from a long popular name"),
    COMBOSQUAT: (Level.LOW, "a popular name combined with a common word"),
    COMBO_TYPO: (Level.HIGH, "a popular name misspelt by one edit, combined with a common word"),
}

LONG_NAME = 9  # popular names this long are also matched at distance 2 ...
TYPO2_TOP = 1000  # ... when they rank this high
MIN_TYPO_TARGET = 4  # shorter popular names (six, h11, idna...) collide with too much
AFFIXES = ("python3", "python", "py")
_COMMON = (
    "utils util sdk api dev cli core requests lib libs tool tools client server plugin "
    "helper helpers extra extras kit toolkit wrapper package module official secure python "
    "py fast new latest update pro plus auth login"
)
COMMON_WORDS = frozenset(_COMMON.split())
_LOOKALIKE_DIGITS = {("0", "o"), ("1", "l"), ("1", "i"), ("5", "s")}
_SEPARATORS = re.compile(r"[-_.]+")
_VALID = re.compile(r"^([a-z0-9]|[a-z0-9][a-z0-9._-]*[a-z0-9])$", re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u034f\u200b\u200c\u200d\u2060\ufeff"), None)
# Cyrillic and Greek letters that render like Latin ones (after casefolding).
_CONFUSABLES = str.maketrans(
    {
        **dict.fromkeys("\u0430\u03b1", "a"),  # Cyrillic a, Greek alpha
        **dict.fromkeys("\u0441\u03f2", "c"),
        "\u0501": "d",
        **dict.fromkeys("\u0435", "e"),
        "\u0261": "g",
        "\u04bb": "h",
        **dict.fromkeys("\u0456\u03b9\u0131\u0269", "i"),
        **dict.fromkeys("\u0458\u03f3", "j"),
        **dict.fromkeys("\u043a\u03ba", "k"),
        "\u04cf": "l",
        "\u0578": "n",
        **dict.fromkeys("\u043e\u03bf", "o"),
        **dict.fromkeys("\u0440\u03c1", "p"),
        "\u051b": "q",
        "\u0455": "s",
        "\u03c4": "t",
        **dict.fromkeys("\u057d\u03c5", "u"),
        "\u03bd": "v",
        **dict.fromkeys("\u051d\u03c9", "w"),
        **dict.fromkeys("\u0445\u03c7", "x"),
        "\u0443": "y",
    }
)


@dataclass(frozen=True, slots=True)
class PopularPackages:
    """Project names in download-rank order (PEP 503 canonical) and their download counts."""

    names: tuple[str, ...]
    downloads: tuple[int, ...]
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.names) != len(self.downloads):
            raise ValueError("names and downloads differ in length")


@dataclass(frozen=True, slots=True, order=True)
class NameFinding:
    """One reason to doubt a name; ``target`` is the popular name it imitates, if any."""

    name: str
    rule: str
    severity: Level
    target: str | None
    message: str

    def describe(self) -> str:
        aim = f" (imitates {self.target})" if self.target else ""
        return f"{self.name}: {self.severity.label()} {self.rule}{aim}: {self.message}"


def canonicalize(name: str) -> str:
    """PEP 503 normalisation: runs of ``-_.`` become ``-``, lower case."""
    return _SEPARATORS.sub("-", name).lower()


def valid_name(name: str) -> bool:
    """True for a valid PEP 508 project name (ASCII letters, digits, ``-_.`` inside)."""
    return name.isascii() and _VALID.match(name) is not None


def skeleton(name: str) -> str:
    """The ASCII name a reader would see: NFKC, casefold, look-alikes mapped, PEP 503."""
    folded = unicodedata.normalize("NFKC", name).casefold().translate(_INVISIBLE)
    return canonicalize(folded.translate(_CONFUSABLES))


def stripped(name: str) -> str:
    """A canonical name without separators."""
    return name.replace("-", "")


def cores(name: str) -> set[str]:
    """A canonical name without separators, with and without a py/python prefix and suffix."""
    text = stripped(name)
    heads = {text}
    for affix in AFFIXES:
        if text.startswith(affix) and len(text) - len(affix) >= 3:
            heads.add(text[len(affix) :])
            break
    found = set(heads)
    for head in heads:
        for affix in AFFIXES:
            if head.endswith(affix) and len(head) - len(affix) >= 3:
                found.add(head[: -len(affix)])
                break
    return found


def tokens(name: str) -> list[str]:
    return [t for t in name.split("-") if t]


def without_common_words(name: str) -> str:
    """A canonical name without its leading and trailing common-word tokens."""
    parts = tokens(name)
    while len(parts) > 1 and parts[-1] in COMMON_WORDS:
        parts.pop()
    while len(parts) > 1 and parts[0] in COMMON_WORDS:
        parts.pop(0)
    return "-".join(parts)


def deletions(word: str, depth: int) -> set[str]:
    """Every string obtained from ``word`` by deleting up to ``depth`` (at most 2) characters."""
    found = {word}
    if depth >= 1:
        found.update(word[:i] + word[i + 1 :] for i in range(len(word)))
    if depth >= 2:
        found.update(
            word[:i] + word[i + 1 : j] + word[j + 1 :]
            for i in range(len(word))
            for j in range(i + 1, len(word))
        )
    return found


def osa_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal string alignment distance (adjacent transpositions cost 1), capped at limit+1.

    Only the diagonal band ``|i - j| <= limit`` is computed: O(len * limit).
    """
    cap = limit + 1
    if abs(len(a) - len(b)) > limit:
        return cap
    width = len(b) + 1
    previous2 = [cap] * width
    previous = [j if j <= limit else cap for j in range(width)]
    for i in range(1, len(a) + 1):
        current = [cap] * width
        if i <= limit:
            current[0] = i
        low, high = max(1, i - limit), min(len(b), i + limit)
        for j in range(low, high + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = min(value, cap)
        if min(current[low - 1 : high + 1]) >= cap:
            return cap
        previous2, previous = previous, current
    return min(previous[-1], cap)


def classify_edit(candidate: str, target: str) -> str:
    """The rule id of a single edit turning ``target`` into ``candidate``."""
    if len(candidate) == len(target):
        diffs = [i for i, (x, y) in enumerate(zip(candidate, target, strict=True)) if x != y]
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            return TRANSPOSITION
        pair = (candidate[diffs[0]], target[diffs[0]]) if len(diffs) == 1 else ("", "")
        if pair in _LOOKALIKE_DIGITS or pair[::-1] in _LOOKALIKE_DIGITS:
            return DIGIT_LETTER
        return TYPO
    longer, shorter, rule = (
        (candidate, target, REPEATED)
        if len(candidate) > len(target)
        else (target, candidate, OMITTED)
    )
    i = next(
        (k for k, (x, y) in enumerate(zip(longer, shorter, strict=False)) if x != y), len(shorter)
    )
    doubled = (i > 0 and longer[i] == longer[i - 1]) or (
        i + 1 < len(longer) and longer[i] == longer[i + 1]
    )
    return rule if doubled else TYPO


@dataclass(frozen=True, slots=True)
class NameIndex:
    """Precomputed lookups over a popular-packages list; build with :meth:`build`."""

    rank: dict[str, int]  # canonical name -> 1-based rank
    downloads: dict[str, int]
    target_top: int
    ratio: float
    by_stripped: dict[str, tuple[str, ...]]
    by_core: dict[str, tuple[str, ...]]  # every form of cores(name) -> names
    neighbours: dict[str, tuple[str, ...]]  # deletion form -> targets
    vocabulary: frozenset[str]  # tokens of popular names (for slopsquat plausibility)

    @classmethod
    def build(
        cls, popular: PopularPackages, *, target_top: int = 5000, ratio: float = 1000.0
    ) -> NameIndex:
        rank: dict[str, int] = {}
        downloads: dict[str, int] = {}
        for position, (raw, count) in enumerate(zip(popular.names, popular.downloads, strict=True)):
            name = canonicalize(raw)
            if name not in rank:
                rank[name] = position + 1
                downloads[name] = count
        by_stripped: dict[str, list[str]] = {}
        by_core: dict[str, list[str]] = {}
        neighbours: dict[str, list[str]] = {}
        vocabulary: set[str] = set()
        for name, position in rank.items():
            by_stripped.setdefault(stripped(name), []).append(name)
            for form in cores(name):
                by_core.setdefault(form, []).append(name)
            vocabulary.update(t for t in tokens(name) if len(t) >= 2)
            if position > target_top or len(name) < MIN_TYPO_TARGET:
                continue
            depth = 2 if len(name) >= LONG_NAME and position <= TYPO2_TOP else 1
            for form in deletions(name, depth):
                neighbours.setdefault(form, []).append(name)
        return cls(
            rank=rank,
            downloads=downloads,
            target_top=target_top,
            ratio=ratio,
            by_stripped={k: tuple(v) for k, v in by_stripped.items()},
            by_core={k: tuple(v) for k, v in by_core.items()},
            neighbours={k: tuple(v) for k, v in neighbours.items()},
            vocabulary=frozenset(vocabulary),
        )

    def is_popular(self, name: str) -> bool:
        return canonicalize(name) in self.rank

    def _may_imitate(self, candidate: str, target: str) -> bool:
        """True when ``target`` is popular enough to be imitated by ``candidate``."""
        if target == candidate:
            return False
        target_rank = self.rank[target]
        if target_rank > self.target_top:
            return False
        own = self.downloads.get(candidate)
        return own is None or self.downloads[target] >= own * self.ratio

    def _typo_targets(self, name: str) -> Iterator[tuple[str, int]]:
        forms = deletions(name, 2 if len(name) >= LONG_NAME - 1 else 1)
        seen: set[str] = set()
        for form in forms:
            for target in self.neighbours.get(form, ()):
                if target in seen:
                    continue
                seen.add(target)
                limit = 2 if len(target) >= LONG_NAME and self.rank[target] <= TYPO2_TOP else 1
                distance = osa_distance(name, target, limit)
                if 0 < distance <= limit:
                    yield target, distance

    def check(self, raw: str) -> list[NameFinding]:
        """Every reason to think ``raw`` imitates a popular name, most severe first."""
        findings: list[NameFinding] = []
        name = canonicalize(raw)
        if not raw.isascii():
            look = skeleton(raw)
            if look.isascii() and look in self.rank:
                findings.append(_finding(raw, HOMOGLYPH, look))
                return findings
            findings.append(_finding(raw, NOT_ASCII, None))
            name = look if look.isascii() else name
        elif not _VALID.match(raw):
            findings.append(_finding(raw, INVALID, None))
        found = self._imitated(name)
        for target, rule in found.items():
            if self._may_imitate(name, target):
                findings.append(_finding(raw, rule, target))
        findings.sort(key=lambda f: (-f.severity, self.rank.get(f.target or "", 0), f.rule))
        return findings

    def _imitated(self, name: str) -> dict[str, str]:
        """Popular name -> rule, for every popular name ``name`` resembles (first rule wins)."""
        found: dict[str, str] = {}
        for target in self.by_stripped.get(stripped(name), ()):
            found.setdefault(target, SEPARATOR)
        for form in cores(name):
            for target in self.by_core.get(form, ()):
                found.setdefault(target, AFFIX)
        for target, distance in self._typo_targets(name):
            found.setdefault(target, classify_edit(name, target) if distance == 1 else TYPO2)
        for target in self._combo_targets(name):
            found.setdefault(target, COMBOSQUAT)
        inner = without_common_words(name)
        if inner != name and inner not in self.rank and len(inner) > MIN_TYPO_TARGET:
            for target, distance in self._typo_targets(inner):
                if distance == 1:
                    found.setdefault(target, COMBO_TYPO)
        return found

    def _combo_targets(self, name: str) -> Iterable[str]:
        parts = tokens(name)
        for k in range(1, len(parts)):
            head, tail = "-".join(parts[:k]), "-".join(parts[k:])
            if head in self.rank and all(t in COMMON_WORDS for t in parts[k:]):
                yield head
            if tail in self.rank and all(t in COMMON_WORDS for t in parts[:k]):
                yield tail
        flat = stripped(name)
        for word in COMMON_WORDS:
            if len(flat) > len(word) + 2:
                if flat.endswith(word):
                    yield from self.by_stripped.get(flat[: -len(word)], ())
                if flat.startswith(word):
                    yield from self.by_stripped.get(flat[len(word) :], ())

    def plausible(self, raw: str) -> bool:
        """True when the name is made of two or more tokens that popular names use."""
        parts = tokens(canonicalize(raw))
        return len(parts) >= 2 and all(t in self.vocabulary or t in COMMON_WORDS for t in parts)


def _finding(name: str, rule: str, target: str | None) -> NameFinding:
    severity, message = RULES[rule]
    return NameFinding(name=name, rule=rule, severity=severity, target=target, message=message)
