from assay.environments.diff import Aspect, diff_environments
from assay.environments.model import (
    Environment,
    Hash,
    HashSource,
    Origin,
    OriginKind,
    Package,
    Source,
)


def _env(*packages: Package) -> Environment:
    return Environment(source=Source("t", "t", "sha256:0"), packages=packages)


def test_identical_environments_have_no_difference():
    env = _env(Package("a", "1"), Package("b", "2"))
    assert diff_environments(env, env).empty


def test_added_removed_and_version_changes():
    result = diff_environments(
        _env(Package("a", "1"), Package("b", "2")),
        _env(Package("B", "3"), Package("c", "1")),
    )
    assert [p.name for p in result.added] == ["c"]
    assert [p.name for p in result.removed] == ["a"]
    assert [(c.name, c.aspects) for c in result.changed] == [("b", (Aspect.VERSION,))]


def test_archive_hashes_must_share_a_digest():
    lock = Package(
        "a",
        "1",
        hashes=(Hash("sha256", "11"), Hash("sha256", "22")),
        hash_source=HashSource.LOCK,
    )
    same_wheel = Package("a", "1", hashes=(Hash("sha256", "22"),), hash_source=HashSource.REPORT)
    other = Package("a", "1", hashes=(Hash("sha256", "33"),), hash_source=HashSource.REPORT)
    record = Package("a", "1", hashes=(Hash("sha256", "44"),), hash_source=HashSource.RECORD)
    assert diff_environments(_env(lock), _env(same_wheel)).empty
    assert diff_environments(_env(lock), _env(other)).changed[0].aspects == (Aspect.HASHES,)
    assert diff_environments(_env(lock), _env(record)).empty  # different kinds of evidence


def test_origin_changes_when_both_sides_know_it():
    index = Package("a", "1", origin=Origin(kind=OriginKind.INDEX))
    vcs = Package("a", "1", origin=Origin(kind=OriginKind.VCS, vcs="git", commit="abc"))
    moved = Package("a", "1", origin=Origin(kind=OriginKind.VCS, vcs="git", commit="def"))
    unknown = Package("a", "1")
    assert diff_environments(_env(index), _env(vcs)).changed[0].aspects == (Aspect.ORIGIN,)
    assert diff_environments(_env(vcs), _env(moved)).changed[0].aspects == (Aspect.ORIGIN,)
    assert diff_environments(_env(index), _env(unknown)).empty


def test_multi_platform_entries_compare_per_platform():
    before = _env(
        Package("numpy", "1.26", platform="linux-64"),
        Package("numpy", "1.26", platform="osx-arm64"),
    )
    after = _env(
        Package("numpy", "1.26", platform="linux-64"), Package("numpy", "2.0", platform="osx-arm64")
    )
    result = diff_environments(before, after)
    assert [(c.platform, c.aspects) for c in result.changed] == [("osx-arm64", (Aspect.VERSION,))]
