"""Authors, maintainers and links from raw core-metadata values."""

from __future__ import annotations

from email.utils import getaddresses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.environments.core_metadata import (
    _addresses,
    details,
    meaningful,
    parties,
    project_urls,
)
from assay.environments.model import Party
from assay.environments.readers.distinfo import metadata_details, parse_headers


@pytest.mark.parametrize(
    ("names", "emails", "expected"),
    [
        (
            None,
            "Jane Doe <jane@x.org>, bob@y.org",
            (Party("Jane Doe", "jane@x.org"), Party(None, "bob@y.org")),
        ),
        ("The Team", None, (Party("The Team", None),)),
        ("Jane", "jane@x.org", (Party("Jane", "jane@x.org"),)),
        ("Jane", "Jane <jane@x.org>", (Party("Jane", "jane@x.org"),)),
        ("Team", "a@x.org, b@x.org", (Party("Team", "a@x.org"), Party(None, "b@x.org"))),
        (None, None, ()),
    ],
)  # fmt: skip
def test_parties(names, emails, expected):
    assert parties(names, emails) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("  UNKNOWN ", None),
        ("n/a", None),
        ("", None),
        (" A summary ", "A summary"),
        ("folded\n        line", "folded line"),
    ],
)
def test_meaningful(value, expected):
    assert meaningful(value) == expected


def test_project_urls_keep_order_and_skip_malformed():
    entries = ["Source, https://github.com/o/demo", "broken", ", https://x.org", "Docs,  "]
    assert project_urls(entries) == (
        ("Source", "https://github.com/o/demo"),
        ("url", "https://x.org"),
    )


def test_details_drop_placeholders():
    found = details(
        summary="UNKNOWN",
        author="A",
        author_email="UNKNOWN",
        maintainer_email="M <m@x.org>",
        home_page="https://h.org",
        download_url="UNKNOWN",
        project_url=["Home, https://h.org"],
    )
    assert found == {
        "summary": None,
        "authors": (Party("A", None),),
        "maintainers": (Party("M", "m@x.org"),),
        "homepage": "https://h.org",
        "download_url": None,
        "project_urls": (("Home", "https://h.org"),),
    }


def test_headers_stop_at_the_body_and_keep_wanted_fields():
    data = (
        b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nAuthor-email: A <a@x.org>\n"
        b"Project-URL: Source, https://github.com/o/demo\nProject-URL: broken\n"
        b"Summary: one\n  folded\nHome-page: UNKNOWN\n\nAuthor: not a header, the body\n"
    )
    found = metadata_details(parse_headers(Path("METADATA"), data))
    assert found["authors"] == (Party("A", "a@x.org"),)
    assert found["project_urls"] == (("Source", "https://github.com/o/demo"),)
    assert found["summary"] == "one folded"
    assert found["homepage"] is None


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab .,;<>@\"()'-é\t\\", max_size=30))
def test_addresses_are_addresses_and_never_raise(value):
    for _, address in _addresses(value):
        assert address == "" or "@" in address


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Z][a-z]{0,6}( [A-Z][a-z]{0,6})?", fullmatch=True),
            st.from_regex(r"[a-z]{1,6}@[a-z]{1,6}\.org", fullmatch=True),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_well_formed_lists_parse_like_the_email_package(pairs):
    text = ", ".join(f"{name} <{address}>" for name, address in pairs)
    assert _addresses(text) == getaddresses([text]) == list(pairs)


def test_a_name_where_an_address_belongs_is_kept_as_a_name():
    assert _addresses("John Doe") == [("John Doe", "")]
    assert _addresses("Jane <j@x.org>, Bob Smith") == [("Jane", "j@x.org"), ("Bob Smith", "")]
    assert _addresses('"Doe, John" <j@x.org>') == [("Doe, John", "j@x.org")]
