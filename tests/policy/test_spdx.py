"""License expressions against allow / review / deny lists."""

from __future__ import annotations

import pytest

from assay.policy.model import Outcome
from assay.policy.spdx import LicenseLists, normalise_id

B, W, P = Outcome.BLOCK, Outcome.WARN, Outcome.PASS


def lists(unlisted: Outcome = B, unknown: Outcome = W) -> LicenseLists:
    return LicenseLists(
        allow=frozenset(
            normalise_id(i)
            for i in (
                "MIT",
                "Apache-2.0",
                "LicenseRef-Acme-Internal",
                "GPL-2.0-only WITH Classpath-exception-2.0",
            )
        ),
        review=frozenset(normalise_id(i) for i in ("MPL-2.0", "LGPL-2.1-only")),
        deny=frozenset(normalise_id(i) for i in ("GPL-3.0-only", "GPL-2.0-only")),
        unlisted=unlisted,
        unknown=unknown,
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("MIT", P),
        ("mit", P),  # ids compare case-insensitively
        ("MIT OR GPL-3.0-only", P),  # OR: one allowed branch is enough
        ("GPL-3.0-only OR MIT", P),
        ("MIT AND GPL-3.0-only", B),  # AND: every term applies
        ("MIT AND MPL-2.0", W),
        ("MPL-2.0 OR GPL-3.0-only", W),  # the best branch is the reviewed one
        ("(MIT OR GPL-3.0-only) AND Apache-2.0", P),
        ("(MIT AND GPL-3.0-only) OR MPL-2.0", W),
        ("MIT AND (MPL-2.0 OR (GPL-3.0-only AND Apache-2.0))", W),
        ("GPL-2.0-only WITH Classpath-exception-2.0", P),  # listed as written
        ("GPL-2.0-only", B),
        ("LGPL-2.1-only WITH Classpath-exception-2.0", W),  # not listed: graded as its license
        ("GPL-2.0", B),  # deprecated id: the same license as GPL-2.0-only
        ("GPL-2.0-or-later", B),  # unlisted
        ("LicenseRef-Acme-Internal", P),
        ("LicenseRef-Other", B),  # a LicenseRef not listed is unlisted
        ("BSD-3-Clause", B),
        ("Not-A-License", W),  # unknown id
        ("Not-A-License OR MIT", P),
        ("MIT AND Not-A-License", W),
        ("MIT OR", W),  # does not parse: unknown
        ("(MIT", W),
        ("", W),
    ],
)
def test_expression_grades(expression: str, expected: Outcome) -> None:
    assert lists().grade(expression)[0] == expected


def test_unlisted_and_unknown_settings() -> None:
    assert lists(unlisted=P).grade("BSD-3-Clause")[0] == P
    assert lists(unlisted=W).grade("BSD-3-Clause")[0] == W
    assert lists(unknown=B).grade(None)[0] == B
    assert lists(unknown=P).grade("Not-A-License")[0] == P


def test_messages_name_what_failed() -> None:
    outcome, message = lists().grade("MIT AND GPL-3.0-only AND BSD-3-Clause")
    assert outcome == B
    assert message == (
        "license MIT AND GPL-3.0-only AND BSD-3-Clause: GPL-3.0-only is denied; "
        "BSD-3-Clause is not on the allow list"
    )
    assert lists().grade("MIT OR GPL-3.0-only") == (P, "")
    assert lists().grade("(MIT")[1] == "license '(MIT' is not an SPDX expression"
    assert lists().grade("Custom v2")[1] == "license Custom v2: Custom v2 is not a known SPDX id"


def test_the_cache_returns_the_same_answer() -> None:
    graded = lists()
    assert graded.grade("MIT AND MPL-2.0") == graded.grade("MIT AND MPL-2.0")


@pytest.mark.parametrize(
    ("entry", "normalised"),
    [
        ("MIT", "mit"),
        ("GPL-2.0", "gpl-2.0-only"),
        ("GPL-2.0+", "gpl-2.0-or-later"),
        ("LicenseRef-Acme", "licenseref-acme"),
        ("GPL-2.0-only WITH Classpath-exception-2.0", "gpl-2.0-only with classpath-exception-2.0"),
    ],
)
def test_list_entries_are_normalised(entry: str, normalised: str) -> None:
    assert normalise_id(entry) == normalised


@pytest.mark.parametrize(
    "entry", ["Not-A-License", "MIT OR Apache-2.0", "MIT WITH Not-An-Exception", "", "("]
)
def test_bad_list_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match=r"SPDX|expression"):
        normalise_id(entry)


# --- review of issue 6: an exception is not a license, and a license is not an exception


@pytest.mark.parametrize(
    ("expression", "outcome", "note"),
    [
        ("MIT WITH GPL-3.0-only", W, "GPL-3.0-only is not a known exception"),
        ("GPL-3.0-only WITH MIT", B, "GPL-3.0-only is denied; MIT is not a known exception"),
        ("GPL-3.0-only WITH Bogus-exception", B, "GPL-3.0-only is denied"),
        ("Classpath-exception-2.0", W, "Classpath-exception-2.0 is not a known SPDX id"),
        ("Classpath-exception-2.0 OR MIT", P, ""),
    ],
)
def test_exceptions_and_licenses_are_told_apart(
    expression: str, outcome: Outcome, note: str
) -> None:
    got, message = lists().grade(expression)
    assert got == outcome
    assert note in message


@pytest.mark.parametrize("entry", ["Classpath-exception-2.0", "MIT WITH GPL-3.0-only"])
def test_list_entries_must_be_a_license_or_a_license_with_an_exception(entry: str) -> None:
    with pytest.raises(ValueError, match=r"unknown SPDX|not a known SPDX"):
        normalise_id(entry)
