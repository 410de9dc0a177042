from packaging.version import Version

from assay.environments.model import (
    Ecosystem,
    Environment,
    Hash,
    Origin,
    OriginKind,
    Package,
    Source,
)


def test_package_normalises_name_and_parses_version():
    package = Package(name="Scikit_Learn", version_raw="1.3.0")
    assert package.canonical_name == "scikit-learn"
    assert package.name == "Scikit_Learn"
    assert package.version == Version("1.3.0")
    assert package.purl == "pkg:pypi/scikit-learn@1.3.0"


def test_non_pep440_version_keeps_raw_string():
    package = Package(name="openssl", version_raw="1.1.1w", ecosystem=Ecosystem.CONDA)
    assert package.version is None
    assert package.version_raw == "1.1.1w"


def test_unpinned_package():
    package = Package(name="torch", version_raw=None, specifier=">=2")
    assert not package.pinned
    assert package.purl == "pkg:pypi/torch"


def test_hashes_extras_and_dependencies_are_canonical_and_sorted():
    package = Package(
        name="a",
        version_raw="1",
        hashes=(Hash("SHA256", "BB"), Hash("md5", "aa"), Hash("sha256", "bb")),
        extras=("Socks", "security"),
        dependencies=("Zope.Interface", "attrs"),
    )
    assert package.hashes == (Hash("md5", "aa"), Hash("sha256", "bb"))
    assert package.extras == ("security", "socks")
    assert package.dependencies == ("attrs", "zope-interface")


def test_conda_purl_carries_build_channel_and_subdir():
    package = Package(
        name="numpy",
        version_raw="1.26.4",
        ecosystem=Ecosystem.CONDA,
        build="py311h64a7726_0",
        platform="linux-64",
        origin=Origin(kind=OriginKind.CHANNEL, url="https://conda.example/conda-forge"),
    )
    assert package.purl == (
        "pkg:conda/numpy@1.26.4?build=py311h64a7726_0"
        "&channel=https://conda.example/conda-forge&subdir=linux-64"
    )


def test_vcs_purl_and_origin_label():
    origin = Origin(
        kind=OriginKind.VCS, url="https://git.example/x.git", vcs="git", commit="a" * 40
    )
    package = Package(name="x", version_raw="0.1", origin=origin)
    assert "vcs_url=git%2Bhttps://git.example/x.git%40" + "a" * 40 in package.purl
    assert origin.describe() == "git@aaaaaaaaaaaa"
    assert Origin(kind=OriginKind.DIRECTORY, editable=True).describe() == "editable"


def test_environment_sorts_packages_and_finds_by_name():
    source = Source(kind="test", path="x", digest="sha256:00")
    env = Environment(
        source=source,
        packages=(
            Package("Zeta", "1"),
            Package("alpha", "2"),
            Package("beta", None, specifier=">1"),
        ),
    )
    assert [p.canonical_name for p in env.packages] == ["alpha", "beta", "zeta"]
    assert env.by_name("ZETA")[0].version_raw == "1"
    assert [p.name for p in env.unpinned] == ["beta"]
