"""Who counts as the supplier and where the home page is, from the package model."""

from __future__ import annotations

import pytest

from assay.environments.model import Origin, OriginKind, Package, Party
from assay.sbom.details import homepage_of, repository_owner, supplier_of


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
    assert supplier_of(Package("a", "1", authors=(author,), maintainers=(maint,))) == (
        maint,
        "maintainer",
    )
    assert supplier_of(Package("a", "1", authors=(author,))) == (author, "author")
    linked = Package("a", "1", project_urls=(("Source", "https://github.com/python/typeshed"),))
    assert supplier_of(linked) == (Party("python", None), "repository-owner")
    vcs = Package(
        "a", "1", origin=Origin(OriginKind.VCS, url="https://codeberg.org/someone/repo", vcs="git")
    )
    assert supplier_of(vcs) == (Party("someone"), "repository-owner")
    assert supplier_of(Package("a", "1", authors=(Party(),))) is None
    assert supplier_of(Package("a", "1")) is None


def test_homepage_falls_back_to_the_project_url():
    urls = (("Source", "https://github.com/o/a"), ("Homepage", "https://a.org"))
    assert homepage_of(Package("a", "1", project_urls=urls)) == "https://a.org"
    assert homepage_of(Package("a", "1", homepage="https://h", project_urls=urls)) == "https://h"
    assert homepage_of(Package("a", "1")) is None


def test_installed_packages_from_an_index_have_a_supplier(installed_env):
    without = {p.name for p in installed_env.packages if supplier_of(p) is None}
    assert without == {"editproj", "Git_Pkg", "legacyproj", "wheelpkg"}  # local test packages
    (requests,) = installed_env.by_name("requests")
    assert supplier_of(requests) == (
        Party("Ian Stapleton Cordasco", "graffatcolmingov@gmail.com"),
        "maintainer",
    )


def test_locks_carry_no_details(churn_env):
    assert not any(p.authors or p.maintainers or p.summary for p in churn_env.packages)
