"""The risk score of a package: 0-10 with a label, from findings that combine.

:func:`assess` is pure: findings in, :class:`Assessment` out.  The score is the
larger of

* the worst single finding (``SEVERITY_POINTS``), and
* the strongest *combination* (``COMBINATIONS``): categories that are ordinary
  alone but alarming together in the same place, e.g. network access plus
  dynamic code on an install-time path (critical), or decoded data plus exec;

plus ``BREADTH_BONUS`` when install-time code shows several risky categories at
once.  A capability alone in library code scores at most low, so a large
library using ``subprocess`` or sockets is not flagged.  Every weight lives in
this module's constants; nothing else decides a score.
"""

from __future__ import annotations

from dataclasses import dataclass

from assay.advisories.severity import Level
from assay.vetting.rules.base import (
    CLIPBOARD,
    DYNAMIC_CODE,
    EXFILTRATION,
    IMPORT,
    INSTALL,
    INSTALL_HOOK,
    NETWORK,
    OBFUSCATION,
    PAYLOAD,
    PERSISTENCE,
    PROCESS,
    RECON,
    SECOND_STAGE,
    SENSITIVE,
    SMALL_PACKAGE,
    PackageFinding,
    not_installed,
)

DEFAULT_THRESHOLD = 7.0  # flagged at or above: the default of --fail-on

SEVERITY_POINTS: dict[Level, float] = {
    Level.UNKNOWN: 0.0,
    Level.NONE: 0.0,
    Level.LOW: 2.0,
    Level.MEDIUM: 4.0,
    Level.HIGH: 7.0,
    Level.CRITICAL: 9.0,
}

LABELS: tuple[tuple[float, str], ...] = ((9.0, "critical"), (7.0, "high"), (4.0, "medium"))

# (scope, required category groups (one of each group must be present), points, reason)
# scope "install": one install-time file's findings (setup.py, a backend, a .pth);
# "import": one file's module-level findings; "file": one file's findings anywhere;
# "package": medium-or-worse exfiltration findings anywhere together with the
# medium-or-worse findings on install and import paths of all files; "hooked"
# (small packages): medium-or-worse install-time findings of all files when one
# of them is a replaced install command.
# Install and import scopes ignore findings their rule graded "none".
Combination = tuple[str, tuple[frozenset[str], ...], float, str]
_RUNS = frozenset({DYNAMIC_CODE, PROCESS, SECOND_STAGE})
_SENDS = frozenset({NETWORK, EXFILTRATION})
COMBINATIONS: tuple[Combination, ...] = (
    ("install", (_SENDS, _RUNS), 9.5, "install-time code reaches the network and runs code"),
    ("install", (_SENDS, frozenset({SENSITIVE})), 9.5, "install-time code reads secrets and sends"),
    ("install", (frozenset({OBFUSCATION}), _RUNS), 9.0, "install-time code runs obfuscated code"),
    ("install", (frozenset({PERSISTENCE}), _RUNS | _SENDS), 8.5, "install-time persistence"),
    ("install", (frozenset({PAYLOAD}), _RUNS), 8.5, "install-time code runs a bundled binary"),
    ("install", (_SENDS, frozenset({INSTALL_HOOK})), 7.5, "an install hook reaches the network"),
    ("install", (_SENDS, frozenset({RECON})), 8.0, "install-time code sends host identity"),
    (
        "install",
        (frozenset({DYNAMIC_CODE}), frozenset({INSTALL_HOOK})),
        7.5,
        "an install command is replaced and install-time code runs code built at run time",
    ),
    ("import", (_SENDS, frozenset({RECON})), 7.5, "module-level code sends host identity"),
    ("import", (_SENDS, _RUNS), 8.0, "module-level code reaches the network and runs code"),
    ("import", (_SENDS, frozenset({SENSITIVE})), 8.5, "module-level code reads secrets and sends"),
    ("import", (frozenset({OBFUSCATION}), _RUNS), 8.0, "module-level code runs obfuscated code"),
    ("file", (frozenset({EXFILTRATION}), frozenset({SENSITIVE})), 8.5, "reads secrets, has a drop"),
    (
        "package",
        (frozenset({EXFILTRATION}), _RUNS),
        8.0,
        "the package runs code on install or import and carries an exfiltration endpoint",
    ),
    ("file", (frozenset({CLIPBOARD}), _SENDS), 7.5, "reads the clipboard and sends data"),
    (
        "shipped",
        (frozenset({EXFILTRATION}), frozenset({NETWORK, PROCESS})),
        7.5,
        "code hard-codes a drop box (webhook, bot token, capture host) and sends or runs",
    ),
    (
        "shipped",
        (frozenset({SENSITIVE}), frozenset({RECON}), frozenset({NETWORK})),
        7.5,
        "one file collects secrets and host identity and has network access",
    ),
    (
        "hooked",
        (frozenset({INSTALL_HOOK}), _RUNS | _SENDS),
        7.5,
        (
            "an install command is replaced by the package's own code, and install-time code "
            "runs processes or code or reaches the network"
        ),
    ),
    (
        "suspicious",
        (frozenset({SECOND_STAGE}), frozenset({EXFILTRATION, SENSITIVE, OBFUSCATION})),
        7.5,
        "the package fetches and runs a second stage and also steals or hides",
    ),
    (
        "suspicious",
        (frozenset({SENSITIVE}), frozenset({EXFILTRATION, OBFUSCATION})),
        7.5,
        "the package reads secrets and carries an exfiltration endpoint or obfuscated code",
    ),
    (
        "suspicious",
        (frozenset({OBFUSCATION}), frozenset({EXFILTRATION})),
        7.5,
        "the package hides code and carries an exfiltration endpoint",
    ),
)
# categories of medium-or-worse findings in shipped (non-test) code that the
# "suspicious" scope combines across files: rare in libraries, common in malware
_SUSPICIOUS = frozenset({SECOND_STAGE, EXFILTRATION, SENSITIVE, OBFUSCATION})
BREADTH_BONUS = 0.5  # per risky install-time (or import-time) category beyond two
_RISKY = frozenset(
    {
        NETWORK,
        PROCESS,
        DYNAMIC_CODE,
        SENSITIVE,
        PERSISTENCE,
        OBFUSCATION,
        EXFILTRATION,
        SECOND_STAGE,
        CLIPBOARD,
        PAYLOAD,
    }
)

# Independent warning signs (rule ids) in shipped code: two at medium or worse, or
# three (or two obfuscation techniques) with one at medium or worse, are more than
# a library's usual noise.
SIGNS_POINTS = 7.0
# Weak signals spread over a package combine only in small packages: malware is a
# handful of files, while a large framework mentions webhooks, paste sites and
# shell one-liners in its integrations and docs.
_SMALL_ONLY = frozenset({"shipped", "suspicious", "hooked"})
_SIGN_CATEGORIES = frozenset({SECOND_STAGE, EXFILTRATION, OBFUSCATION, SENSITIVE, PERSISTENCE})
_SIGN_RULES = frozenset({"capability-suspicious-command", "capability-undeclared-install"})


def warning_signs(findings: list[PackageFinding]) -> list[PackageFinding]:
    """One finding per warning-sign rule when they add up (else an empty list)."""
    by_rule: dict[str, PackageFinding] = {}
    for f in findings:  # worst first
        sign = f.category in _SIGN_CATEGORIES or f.rule in _SIGN_RULES
        if sign and f.severity >= Level.LOW and not not_installed(f.file):
            by_rule.setdefault(f.rule, f)
    medium = sum(f.severity >= Level.MEDIUM for f in by_rule.values())
    hiding = sum(f.category == OBFUSCATION for f in by_rule.values())
    if medium >= 2 or (medium >= 1 and (len(by_rule) >= 3 or hiding >= 2)):
        return list(by_rule.values())
    return []


ADVICE = {
    "critical": "Do not install it; treat any machine that installed it as compromised until "
    "the listed lines are reviewed, and report the package to the index if confirmed.",
    "high": "Do not install it before a reviewer has read the listed lines.",
    "medium": "Review the listed files before relying on the package.",
    "low": "Capabilities that are ordinary for a library; no action unless the package "
    "should not need them.",
    "none": "Nothing risky was found in what was analysed.",
}


@dataclass(frozen=True, slots=True)
class Assessment:
    """A score 0-10, its label, the findings that produced it and what to do."""

    score: float
    label: str
    reasons: tuple[PackageFinding, ...]
    explanation: str

    def flagged(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.score >= threshold


def label_for(score: float) -> str:
    """none (0), low (< 4), medium (< 7), high (< 9), critical."""
    if score <= 0:
        return "none"
    return next((name for floor, name in LABELS if score >= floor), "low")


def _groups(findings: list[PackageFinding]) -> list[tuple[str, str, list[PackageFinding]]]:
    """(scope, place, findings) for every scope a combination can apply to."""
    groups: list[tuple[str, str, list[PackageFinding]]] = []
    by_file: dict[str, list[PackageFinding]] = {}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    for path, found in sorted(by_file.items()):
        # on install and import paths, findings a rule judged harmless (none) do not combine
        for scope in (INSTALL, IMPORT):
            running = [f for f in found if f.where == scope and f.severity > Level.NONE]
            if running:
                groups.append((scope, path, running))
        groups.append(("file", path, found))
        if not not_installed(path):
            groups.append(("shipped", path, found))
    serious = [
        f
        for f in findings
        if f.severity >= Level.MEDIUM
        and (f.where in {INSTALL, IMPORT} or f.category == EXFILTRATION)
    ]
    if serious:
        groups.append(("package", "the whole package", serious))
    hooked = [f for f in findings if f.severity >= Level.MEDIUM and f.where == INSTALL]
    if any(f.category == INSTALL_HOOK for f in hooked):
        groups.append(("hooked", "install-time code", hooked))
    suspicious = [
        f
        for f in findings
        if f.severity >= Level.MEDIUM and f.category in _SUSPICIOUS and not not_installed(f.file)
    ]
    if suspicious:
        groups.append(("suspicious", "the whole package", suspicious))
    return groups


def _combination(
    findings: list[PackageFinding], small: bool = True
) -> tuple[float, str, list[PackageFinding]]:
    best: tuple[float, str, list[PackageFinding]] = (0.0, "", [])
    for scope, place, group in _groups(findings):
        if scope in _SMALL_ONLY and not small:
            continue
        present = {f.category for f in group}
        for wanted_scope, needs, points, reason in COMBINATIONS:
            if wanted_scope != scope or points <= best[0]:
                continue
            if all(present & need for need in needs):
                used = [f for f in group if any(f.category in need for need in needs)]
                best = (points, f"{reason} ({place})", used)
    return best


def assess(
    findings: list[PackageFinding] | tuple[PackageFinding, ...], files: int | None = None
) -> Assessment:
    """Score findings (pure; see the module docstring for the method and weights).

    ``files`` is the number of the package's own (non-test) Python files; the
    package-wide combinations of weak signals only apply to small packages
    (``SMALL_PACKAGE`` files or fewer, or when unknown).
    """
    found = sorted(findings, key=lambda f: (-f.severity, f.file, f.line))
    single = max((SEVERITY_POINTS[f.severity] for f in found), default=0.0)
    small = files is None or files <= SMALL_PACKAGE
    combined, reason, used = _combination(found, small)
    signals = warning_signs(found) if small else []
    if signals and combined < SIGNS_POINTS:
        combined, used = SIGNS_POINTS, signals
        reason = f"{len(signals)} independent warning signs in the package's own code"
    bonus = 0.0
    for scope in (INSTALL, IMPORT):
        categories = {f.category for f in found if f.where == scope and f.severity > Level.NONE}
        categories &= _RISKY
        bonus = max(bonus, BREADTH_BONUS * max(0, len(categories) - 2))
    score = round(min(10.0, max(single, combined) + (bonus if max(single, combined) else 0)), 1)
    label = label_for(score)
    if combined >= single and used:
        reasons = tuple(sorted(used, key=lambda f: (-f.severity, f.file, f.line)))
    else:
        reasons = tuple(f for f in found if SEVERITY_POINTS[f.severity] == single and single > 0)
        top = reasons[0] if reasons else None
        reason = top.explanation if top is not None else ""
    return Assessment(score, label, reasons, explain(score, label, reason, reasons))


def explain(score: float, label: str, reason: str, reasons: tuple[PackageFinding, ...]) -> str:
    """One paragraph: the verdict, why, the evidence with locations, what to do."""
    if label == "none":
        return f"Risk {score:.1f}/10 (none). {ADVICE['none']}"
    evidence = "; ".join(
        f"{f.file}:{f.line} {f.rule}" + (f" `{f.snippet[:60]}`" if f.snippet else "")
        for f in reasons[:4]
    )
    more = f" and {len(reasons) - 4} more" if len(reasons) > 4 else ""
    return f"Risk {score:.1f}/10 ({label}): {reason}. Evidence: {evidence}{more}. {ADVICE[label]}"
