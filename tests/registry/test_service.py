"""The registry service over fake ports: caching, single flight, integrity, governance."""

import asyncio
from dataclasses import replace

import pytest

from assay.registry.model import IndexConfig
from assay.registry.ports import IntegrityError, UpstreamUnavailable
from assay.registry.service import Blocked, NotFound, RegistryService
from assay.registry.status import read_status
from tests.registry.fakes import (
    Clock,
    FakeInternal,
    FakeUpstream,
    FakeVetter,
    RuleGovernor,
    make_service,
    sha,
)

PROD = IndexConfig("default", "production")


def run(coroutine):
    return asyncio.run(coroutine)


def partials(service):
    return sorted(p.name for p in service.store.root.rglob(".partial-*"))


def test_page_is_fetched_once_then_cached(tmp_path):
    upstream = FakeUpstream()
    upstream.add("Demo_Pkg", "1.0")
    service = make_service(tmp_path, upstream)

    async def scenario():
        first = await service.page(PROD, "demo-pkg")
        second = await service.page(PROD, "Demo.Pkg")
        return first, second

    first, second = run(scenario())
    assert [f.filename for f in first.files] == ["demo_pkg-1.0-py3-none-any.whl"]
    assert second is first
    assert upstream.page_calls["demo-pkg"] == 1


def test_unknown_project_is_not_found(tmp_path):
    service = make_service(tmp_path, FakeUpstream())
    with pytest.raises(NotFound):
        run(service.page(PROD, "nothing-here"))


def test_expired_page_is_revalidated_not_refetched(tmp_path):
    upstream = FakeUpstream()
    upstream.add("demo", "1.0")
    upstream.etag = '"v1"'
    clock = Clock()
    service = make_service(tmp_path, upstream, clock=clock)

    async def scenario():
        await service.page(PROD, "demo")
        clock.now += service.config.page_ttl + 1
        return await service.page(PROD, "demo")

    page = run(scenario())
    assert len(page.files) == 1
    assert upstream.page_calls["demo"] == 2
    assert service.state.counters()["page_revalidated"] == 1


def test_pages_survive_a_restart_in_the_state_file(tmp_path):
    upstream = FakeUpstream()
    upstream.add("demo", "1.0")
    run(make_service(tmp_path, upstream).page(PROD, "demo"))
    again = make_service(tmp_path, upstream)
    page = run(again.page(PROD, "demo"))
    assert page.files[0].sha256 == upstream.pages["demo"].files[0].sha256
    assert upstream.page_calls["demo"] == 1


def test_files_without_sha256_are_never_listed(tmp_path):
    upstream = FakeUpstream()
    upstream.add("demo", "1.0", hashes={"md5": "0" * 32})
    service = make_service(tmp_path, upstream)
    assert run(service.page(PROD, "demo")).files == ()


def test_fifty_concurrent_downloads_share_one_upstream_fetch(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0", b"x" * 10_000)
    vetter = FakeVetter()
    service = make_service(tmp_path, upstream, vetter=vetter)

    async def scenario():
        await service.page(PROD, "demo")
        upstream.gate = asyncio.Event()
        tasks = [
            asyncio.create_task(service.file(PROD, file.sha256, file.filename)) for _ in range(50)
        ]
        for _ in range(200):  # let every request reach the download before it can finish
            await asyncio.sleep(0)
        upstream.gate.set()
        return await asyncio.gather(*tasks)

    paths = run(scenario())
    assert upstream.downloads() == 1
    assert vetter.calls == 1
    assert len(set(paths)) == 1
    assert sha(paths[0].read_bytes()) == file.sha256
    assert paths[0] == service.store.root / "sha256" / file.sha256[:2] / file.sha256[2:]


def test_hash_mismatch_is_refused_and_nothing_is_stored(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0", b"the real bytes", served=b"tampered bytes")
    service = make_service(tmp_path, upstream)

    async def scenario():
        await service.page(PROD, "demo")
        return await service.file(PROD, file.sha256, file.filename)

    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        run(scenario())
    assert not service.store.has(file.sha256)
    assert partials(service) == []
    assert service.state.counters()["integrity_failures"] == 1


def test_crash_mid_download_leaves_no_partial_file(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0", b"y" * 1000)
    upstream.crash_after = 500
    service = make_service(tmp_path, upstream)

    async def scenario():
        await service.page(PROD, "demo")
        with pytest.raises(UpstreamUnavailable, match="connection reset"):
            await service.file(PROD, file.sha256, file.filename)
        assert not service.store.has(file.sha256)
        assert partials(service) == []
        upstream.crash_after = None
        return await service.file(PROD, file.sha256, file.filename)

    path = run(scenario())
    assert path.read_bytes() == b"y" * 1000
    assert upstream.downloads() == 2


def test_upstream_down_serves_cached_pages_and_files_only(tmp_path):
    upstream = FakeUpstream()
    cached = upstream.add("demo", "1.0", b"cached file")
    never = upstream.add("demo", "2.0", b"never downloaded")
    clock = Clock()
    service = make_service(tmp_path, upstream, clock=clock)

    async def scenario():
        await service.page(PROD, "demo")
        await service.file(PROD, cached.sha256, cached.filename)
        upstream.down = True
        clock.now += service.config.page_ttl + 1
        page = await service.page(PROD, "demo")
        path = await service.file(PROD, cached.sha256, cached.filename)
        with pytest.raises(UpstreamUnavailable):
            await service.file(PROD, never.sha256, never.filename)
        with pytest.raises(UpstreamUnavailable):
            await service.page(PROD, "other")
        return page, path

    page, path = run(scenario())
    assert page.stale
    assert path.read_bytes() == b"cached file"
    assert service.state.counters()["stale_served"] == 1


def _block_version(version, reason="CVE-2024-0001: remote code execution (critical)"):
    return lambda index, file, vet: [reason] if file.version == version else []


def test_blocked_files_are_hidden_with_their_version(tmp_path):
    upstream = FakeUpstream()
    upstream.add("demo", "1.0")
    upstream.add("demo", "1.1")
    service = make_service(tmp_path, upstream, governor=RuleGovernor(_block_version("1.1")))
    page = run(service.page(PROD, "demo"))
    assert [f.version for f in page.files] == ["1.0"]
    assert page.versions == ("1.0",)


def test_blocked_files_can_be_yanked_with_the_reason(tmp_path):
    upstream = FakeUpstream()
    upstream.add("demo", "1.0")
    upstream.add("demo", "1.1")
    index = IndexConfig("default", "production", blocked_action="yank")
    governor = RuleGovernor(_block_version("1.1"))
    service = make_service(tmp_path, upstream, governor=governor, indexes=(index,))
    page = run(service.page(index, "demo"))
    assert [f.yanked for f in page.files] == [
        False,
        "blocked by policy: CVE-2024-0001: remote code execution (critical)",
    ]
    assert page.versions == ("1.0", "1.1")


def test_ruling_action_overrides_the_index_setting(tmp_path):
    upstream = FakeUpstream()
    upstream.add("demo", "1.0")
    governor = RuleGovernor(_block_version("1.0"), action="yank")
    service = make_service(tmp_path, upstream, governor=governor)
    page = run(service.page(PROD, "demo"))
    assert page.files[0].yanked


def test_direct_download_of_a_blocked_file_is_refused_with_reasons(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.1")
    service = make_service(tmp_path, upstream, governor=RuleGovernor(_block_version("1.1")))

    async def scenario():
        await service.page(PROD, "demo")
        await service.file(PROD, file.sha256, file.filename)

    with pytest.raises(Blocked, match="CVE-2024-0001") as caught:
        run(scenario())
    assert "stage production" in str(caught.value)
    blocked = service.state.blocked()
    assert [(b.filename, b.stage) for b in blocked] == [(file.filename, "production")]
    assert "CVE-2024-0001" in blocked[0].reasons


def _risky(index, file, vet):
    return [f"vetting: {r}" for r in vet.reasons] if vet is not None and vet.score >= 7 else []


def test_files_are_vetted_once_before_first_served(tmp_path):
    upstream = FakeUpstream()
    good = upstream.add("demo", "1.0", b"harmless wheel")
    evil = upstream.add("demo", "1.1", b"EVIL wheel")
    vetter = FakeVetter()
    service = make_service(tmp_path, upstream, governor=RuleGovernor(_risky), vetter=vetter)

    async def scenario():
        before = await service.page(PROD, "demo")
        await service.file(PROD, good.sha256, good.filename)
        await service.file(PROD, good.sha256, good.filename)
        with pytest.raises(Blocked, match="posts credentials"):
            await service.file(PROD, evil.sha256, evil.filename)
        after = await service.page(PROD, "demo")
        return before, after

    before, after = run(scenario())
    assert len(before.files) == 2  # not vetted yet: the policy allowed "unknown"
    assert [f.version for f in after.files] == ["1.0"]  # vetted critical: hidden now
    assert vetter.calls == 2
    assert service.state.pending() == []


def test_stages_govern_each_index(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.1")
    sandbox = IndexConfig("sandbox", "sandbox", "/sandbox")
    prod = IndexConfig("prod", "production", "/prod")

    def rule(index, f, vet):
        return ["too new for production"] if index.stage == "production" else []

    service = make_service(tmp_path, upstream, governor=RuleGovernor(rule), indexes=(sandbox, prod))

    async def scenario():
        assert len((await service.page(sandbox, "demo")).files) == 1
        assert (await service.page(prod, "demo")).files == ()
        assert await service.file(sandbox, file.sha256, file.filename)
        with pytest.raises(Blocked):
            await service.file(prod, file.sha256, file.filename)

    run(scenario())
    assert upstream.downloads() == 1


def test_internal_packages_shadow_upstream_completely(tmp_path):
    upstream = FakeUpstream()
    confused = upstream.add("corp-utils", "9.9", b"attacker's upload")
    internal = FakeInternal(tmp_path / "internal")
    mine = internal.add("corp-utils", "1.0", b"our own wheel")
    service = make_service(tmp_path, upstream, internal=internal)

    async def scenario():
        page = await service.page(PROD, "Corp_Utils")
        path = await service.file(PROD, mine.sha256, mine.filename)
        with pytest.raises(NotFound):
            await service.file(PROD, confused.sha256, confused.filename)
        names = await service.projects(PROD)
        return page, path, names

    page, path, names = run(scenario())
    assert [f.filename for f in page.files] == [mine.filename]
    assert page.internal
    assert path.read_bytes() == b"our own wheel"
    assert upstream.page_calls["corp-utils"] == 0
    assert upstream.downloads() == 0
    assert names == ["corp-utils"]


def test_metadata_is_fetched_verified_and_stored(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0", metadata=b"Metadata-Version: 2.1\nName: demo\n")
    service = make_service(tmp_path, upstream)

    async def scenario():
        await service.page(PROD, "demo")
        first = await service.metadata(PROD, file.sha256, file.filename)
        second = await service.metadata(PROD, file.sha256, file.filename)
        return first, second

    first, second = run(scenario())
    assert first == second
    assert first.read_bytes().startswith(b"Metadata-Version")
    assert upstream.downloads() == 1


def test_tampered_metadata_is_refused(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0", metadata=b"Name: demo\n")
    upstream.blobs[file.url + ".metadata"] = b"Name: other\n"
    service = make_service(tmp_path, upstream)

    async def scenario():
        await service.page(PROD, "demo")
        await service.metadata(PROD, file.sha256, file.filename)

    with pytest.raises(IntegrityError):
        run(scenario())


def test_unlisted_digest_is_not_found(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0")
    service = make_service(tmp_path, upstream)

    async def scenario():
        await service.page(PROD, "demo")
        with pytest.raises(NotFound):
            await service.file(PROD, "0" * 64, file.filename)
        with pytest.raises(NotFound):
            await service.file(PROD, "not-a-digest", file.filename)

    run(scenario())
    assert upstream.downloads() == 0


def test_status_reports_cache_counters_and_blocks(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0", b"z" * 100)
    service = make_service(tmp_path, upstream)

    async def scenario():
        await service.page(PROD, "demo")
        await service.page(PROD, "demo")
        await service.file(PROD, file.sha256, file.filename)
        await service.file(PROD, file.sha256, file.filename)

    run(scenario())
    status = service.status()
    assert status["cache"] == {"files": 1, "bytes": 100, "projects": 1}
    assert status["counters"]["page_hits"] == 1
    assert status["counters"]["file_hits"] == 1
    assert status["hit_rate"] == 0.5


def test_offline_status_reads_without_writing(tmp_path):
    empty = tmp_path / "nothing"
    assert read_status(empty)["cache"] == {"files": 0, "bytes": 0, "projects": 0}
    assert not empty.exists()
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0", b"q" * 10)
    service = make_service(tmp_path, upstream)

    async def scenario():
        await service.page(PROD, "demo")
        await service.file(PROD, file.sha256, file.filename)

    run(scenario())
    service.state.close()
    status = read_status(tmp_path / "registry")
    assert status["cache"] == {"files": 1, "bytes": 10, "projects": 1}
    assert status["counters"] == {"file_misses": 1, "page_misses": 1}


def test_fifty_concurrent_page_requests_ask_upstream_once(tmp_path):
    upstream = FakeUpstream()
    upstream.add("demo", "1.0")
    service = make_service(tmp_path, upstream)

    async def scenario():
        return await asyncio.gather(*[service.page(PROD, "demo") for _ in range(50)])

    found = run(scenario())
    assert upstream.page_calls["demo"] == 1
    assert all(page is found[0] for page in found)


def test_internal_sdists_with_dashes_are_served(tmp_path):
    internal = FakeInternal(tmp_path / "internal")
    wheel = internal.add("corp-data-tools", "2.0", b"wheel bytes")
    sdist = replace(wheel, filename="corp-data-tools-2.0.tar.gz", hashes={"sha256": sha(b"sd")})
    (tmp_path / "internal" / sdist.filename).write_bytes(b"sd")
    internal.pages["corp-data-tools"] = replace(
        internal.pages["corp-data-tools"], files=(wheel, sdist)
    )
    service = make_service(tmp_path, FakeUpstream(), internal=internal)
    path = run(service.file(PROD, sdist.sha256, sdist.filename))
    assert path.read_bytes() == b"sd"


def test_pages_are_ruled_again_once_the_bytes_are_here(tmp_path):
    upstream = FakeUpstream()
    file = upstream.add("demo", "1.0", b"License-Expression: GPL-3.0-only")
    holder: dict[str, RegistryService] = {}

    def license_rule(index, f, vet):
        store = holder["service"].store
        if store.has(f.sha256) and b"GPL" in store.path(f.sha256).read_bytes():
            return ["licenses: GPL-3.0-only is denied"]
        return []

    service = make_service(tmp_path, upstream, governor=RuleGovernor(license_rule))
    holder["service"] = service

    async def scenario():
        before = await service.page(PROD, "demo")
        with pytest.raises(Blocked, match=r"GPL-3\.0-only is denied"):
            await service.file(PROD, file.sha256, file.filename)
        return before, await service.page(PROD, "demo")

    before, after = run(scenario())
    assert len(before.files) == 1
    assert after.files == ()
