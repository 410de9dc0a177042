"""Authors, maintainers and links from installed metadata; who counts as the supplier."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.sbom.details import PackageDetails, Party, parties, repository_owner, supplier_of
from assay.sbom.metadata import details_from_headers, installed_details, parse_headers


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
        (None, None, ()),
    ],
)  # fmt: skip
def test_parties(names, emails, expected):
    assert parties(names, emails) == expected


@pytest.mark.parametrize(
    ("url", "owner"),
    [
        ("https://github.com/pallets/flask", "pallets"),
        ("git+https://gitlab.com/group/proj.git", "group"),
        ("https://www.github.com/numpy/numpy/issues", "numpy"),
        ("https://github.com/pallets", None),
        ("https://docs.example.org/a/b", None),
    ],
)
def test_repository_owner(url, owner):
    assert repository_owner(url) == owner


def test_supplier_order():
    maint, author = Party("Maint", None), Party("Author", None)
    assert supplier_of(PackageDetails(authors=(author,), maintainers=(maint,))) == (
        maint,
        "maintainer",
    )
    assert supplier_of(PackageDetails(authors=(author,))) == (author, "author")
    linked = PackageDetails(project_urls=(("Source", "https://github.com/python/typeshed"),))
    assert supplier_of(linked) == (Party("python", None), "repository-owner")
    assert supplier_of(None, ("https://codeberg.org/someone/repo",)) == (
        Party("someone"),
        "repository-owner",
    )
    assert supplier_of(PackageDetails()) is None


def test_headers_stop_at_the_body_and_keep_wanted_fields():
    data = (
        b"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\nAuthor-email: A <a@x.org>\n"
        b"Project-URL: Source, https://github.com/o/demo\nProject-URL: broken\n"
        b"Home-page: UNKNOWN\n\nAuthor: not a header, the body\n"
    )
    details = details_from_headers(parse_headers(Path("METADATA"), data))
    assert details.authors == (Party("A", "a@x.org"),)
    assert details.project_urls == (("Source", "https://github.com/o/demo"),)
    assert details.homepage is None


def test_installed_details_match_every_package(installed_env):
    details = installed_details(installed_env)
    assert {(p.canonical_name, p.version_raw) for p in installed_env.packages} <= set(details)
    requests = next(v for (name, _), v in details.items() if name == "requests")
    assert requests.supplier is not None


def test_no_details_for_locks(churn_env):
    assert installed_details(churn_env) == {}
