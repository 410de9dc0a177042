import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.environments.licenses import classifier_to_spdx, from_metadata, from_text, to_spdx


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MIT", "MIT"),
        ("mit", "MIT"),
        ("Apache-2.0 OR BSD-3-Clause", "Apache-2.0 OR BSD-3-Clause"),
        ("Apache 2.0", "Apache-2.0"),
        ("LicenseRef-Proprietary", "LicenseRef-Proprietary"),
        ("GPL-2.0+", "GPL-2.0-or-later"),
        ("Some custom license", None),
        ("BSD, Public Domain", None),
        ("MIT\nPermission is hereby granted...", None),
        ("", None),
        (None, None),
    ],
)
def test_to_spdx(text, expected):
    assert to_spdx(text) == expected


def test_license_expression_wins_over_other_fields():
    lic = from_metadata("BSD-3-Clause", "MIT", ["License :: OSI Approved :: MIT License"])
    assert lic is not None
    assert (lic.spdx, lic.origin) == ("BSD-3-Clause", "license-expression")


def test_license_field_then_classifiers():
    lic = from_metadata(
        None,
        "Copyright (c) Foo. All rights reserved.",
        [
            "License :: OSI Approved :: Apache Software License",
            "Programming Language :: Python",
        ],
    )
    assert lic is not None
    assert (lic.spdx, lic.origin) == ("Apache-2.0", "classifier")
    assert lic.raw == "Copyright (c) Foo. All rights reserved."


def test_raw_text_kept_when_nothing_maps():
    lic = from_metadata(None, "Proprietary to ACME", ["License :: OSI Approved :: BSD License"])
    assert lic is not None
    assert (lic.raw, lic.spdx) == ("Proprietary to ACME", None)
    assert from_metadata(None, None, []) is None


def test_several_classifiers_combine_with_or():
    assert (
        classifier_to_spdx(
            [
                "License :: OSI Approved :: MIT License",
                "License :: OSI Approved :: Apache Software License",
            ]
        )
        == "Apache-2.0 OR MIT"
    )


def test_from_text():
    lic = from_text(" BSD-3-Clause ", "conda")
    assert lic is not None
    assert (lic.raw, lic.spdx, lic.origin) == ("BSD-3-Clause", "BSD-3-Clause", "conda")
    assert from_text("  ", "conda") is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"[A-Za-z0-9 .,+()-]{1,40}", fullmatch=True))
def test_to_spdx_never_raises(text):
    result = to_spdx(text)
    assert result is None or isinstance(result, str)
