import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.environments.artifact import (
    SCHEMA,
    ArtifactError,
    dumps,
    environment_digest,
    from_document,
)
from assay.environments.model import (
    Ecosystem,
    Environment,
    Hash,
    HashSource,
    License,
    Origin,
    OriginKind,
    Package,
    Party,
    Source,
)
from assay.environments.readers.artifact import ArtifactReader

names = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,12}", fullmatch=True)
texts = st.one_of(st.none(), st.text(min_size=1, max_size=12))
origins = st.builds(
    Origin,
    kind=st.sampled_from(OriginKind),
    url=texts,
    vcs=texts,
    commit=texts,
    requested_revision=texts,
    subdirectory=texts,
    path=texts,
    editable=st.booleans(),
)
parties = st.lists(st.builds(Party, name=texts, email=texts), max_size=3).map(tuple)
packages = st.builds(
    Package,
    name=names,
    version_raw=st.one_of(st.none(), st.from_regex(r"[0-9][0-9a-z.+!-]{0,8}", fullmatch=True)),
    ecosystem=st.sampled_from(Ecosystem),
    specifier=texts,
    hashes=st.lists(
        st.builds(
            Hash,
            algorithm=st.sampled_from(["sha256", "md5"]),
            value=st.from_regex(r"[0-9a-f]{8}", fullmatch=True),
        ),
        max_size=3,
    ).map(tuple),
    hash_source=st.one_of(st.none(), st.sampled_from(HashSource)),
    origin=origins,
    installer=texts,
    requested=st.one_of(st.none(), st.booleans()),
    markers=texts,
    extras=st.lists(names, max_size=2).map(tuple),
    license=st.one_of(st.none(), st.builds(License, raw=texts, spdx=texts, origin=texts)),
    dependencies=st.lists(names, max_size=3).map(tuple),
    platform=texts,
    build=texts,
    summary=texts,
    authors=parties,
    maintainers=parties,
    homepage=texts,
    download_url=texts,
    project_urls=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=3).map(
        tuple
    ),
)
environments = st.builds(
    Environment,
    source=st.builds(Source, kind=names, path=st.text(max_size=10), digest=st.text(max_size=10)),
    packages=st.lists(packages, max_size=6).map(tuple),
    python_version=texts,
    platform=texts,
    name=texts,
    notes=st.lists(st.text(max_size=10), max_size=2).map(tuple),
    properties=st.dictionaries(names, st.text(max_size=8), max_size=3).map(
        lambda d: tuple(d.items())
    ),
)


@settings(max_examples=150, deadline=None)
@given(environments)
def test_artifact_round_trips_losslessly(env):
    text = dumps(env)
    loaded = from_document(Path("x.json"), json.loads(text))
    assert loaded == env
    assert dumps(loaded) == text


def _env(path: str) -> Environment:
    return Environment(
        source=Source(kind="uv-lock", path=path, digest="sha256:ab"),
        packages=(Package("requests", "2.31.0", requested=True), Package("idna", "3.4")),
        python_version="3.11.7",
    )


def test_dumps_is_deterministic_and_digest_ignores_location():
    assert dumps(_env("a/uv.lock")) == dumps(_env("a/uv.lock"))
    assert environment_digest(_env("a/uv.lock")) == environment_digest(_env("/elsewhere/uv.lock"))
    changed = Environment(source=_env("a").source, packages=(Package("requests", "2.32.0"),))
    assert environment_digest(changed) != environment_digest(_env("a"))


def test_core_metadata_details_round_trip(tmp_path):
    requests = Package(
        "requests",
        "2.31.0",
        summary="Python HTTP for Humans.",
        authors=(Party("Kenneth Reitz", "me@kennethreitz.org"),),
        maintainers=(Party("Nate Prewitt", None), Party(None, "team@x.org")),
        homepage="https://requests.readthedocs.io",
        download_url="https://x.org/requests.tar.gz",
        project_urls=(("Source", "https://github.com/psf/requests"), ("Docs", "https://d.org")),
    )
    env = Environment(source=Source("installed", "venv", "sha256:ab"), packages=(requests,))
    text = dumps(env)
    body = json.loads(text)["environment"]["packages"][0]
    assert body["authors"] == [{"name": "Kenneth Reitz", "email": "me@kennethreitz.org"}]
    assert body["maintainers"] == [{"name": "Nate Prewitt"}, {"email": "team@x.org"}]
    assert body["project_urls"][0] == {"label": "Source", "url": "https://github.com/psf/requests"}
    target = tmp_path / "env.json"
    target.write_text(text)
    assert ArtifactReader().read(target) == env
    bare = json.loads(dumps(_env("uv.lock")))["environment"]["packages"][0]
    assert not {"summary", "authors", "maintainers", "homepage", "project_urls"} & set(bare)


def test_reader_loads_a_written_artifact(tmp_path):
    target = tmp_path / "env.json"
    target.write_text(dumps(_env("uv.lock")))
    reader = ArtifactReader()
    assert reader.sniff(target)
    assert reader.read(target) == _env("uv.lock")


def test_tampered_artifact_is_rejected(tmp_path):
    target = tmp_path / "env.json"
    target.write_text(dumps(_env("uv.lock")).replace("2.31.0", "2.99.0"))
    with pytest.raises(ArtifactError, match="digest mismatch"):
        ArtifactReader().read(target)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"schema": "other/9"}, "unsupported artifact schema"),
        ({"schema": SCHEMA, "digest": "x"}, "artifact.environment is missing"),
        ({"schema": SCHEMA, "environment": {}}, "environment.source is missing"),
        (
            {"schema": SCHEMA, "environment": {"source": {"kind": 1}}},
            "environment.source.kind must be a string",
        ),
        (
            {
                "schema": SCHEMA,
                "environment": {
                    "source": {"kind": "k", "path": "p", "digest": "d"},
                    "packages": [{"name": "a", "ecosystem": "npm"}],
                },
            },
            r"packages\[0\].ecosystem must be one of pypi, conda",
        ),
        (
            {
                "schema": SCHEMA,
                "environment": {
                    "source": {"kind": "k", "path": "p", "digest": "d"},
                    "packages": [{"name": "a", "hashes": ["nocolon"]}],
                },
            },
            "is not algorithm:hex",
        ),
        (
            {
                "schema": SCHEMA,
                "environment": {
                    "source": {"kind": "k", "path": "p", "digest": "d"},
                    "packages": [{"name": "a", "authors": "Jane"}],
                },
            },
            r"packages\[0\].authors must be a list of objects",
        ),
        (
            {
                "schema": SCHEMA,
                "environment": {
                    "source": {"kind": "k", "path": "p", "digest": "d"},
                    "packages": [{"name": "a", "project_urls": [{"label": "Source"}]}],
                },
            },
            r"packages\[0\].project_urls\[0\].url must be a string",
        ),
        ([], "artifact must be an object"),
    ],
)
def test_malformed_artifacts_name_the_problem(document, message):
    with pytest.raises(ArtifactError, match=message) as info:
        from_document(Path("env.json"), document)
    assert str(info.value).startswith("env.json: ")
