"""The pure parts of the vetting benchmark, on synthetic data only (never malware)."""

import hashlib
import json
import math
import statistics

import pytest
from benchmarks.vet import corpus, guarddog, run
from benchmarks.vet.fetch_top import select_files
from benchmarks.vet.metrics import Outcome, Verdict, percentile, speedup, summarise, table
from packaging.tags import Tag
from packaging.version import Version

import assay.vetting


def _outcome(tool, identifier, malicious, flagged, seconds, *, project=None, error=None):
    verdict = Verdict(flagged, 9.0 if flagged else 0.0, seconds, error=error)
    return Outcome(tool, identifier, project or identifier, malicious, verdict)


def test_summary_counts_recall_false_positives_and_projects():
    outcomes = [
        _outcome("t", "m1", True, True, 0.1),
        _outcome("t", "m2", True, True, 0.2),
        _outcome("t", "m3", True, False, 0.3, error="boom"),
        _outcome("t", "m4", True, True, 0.4),
        _outcome("t", "a (wheel)", False, True, 0.5, project="a"),
        _outcome("t", "a (sdist)", False, False, 0.6, project="a"),
        _outcome("t", "b (wheel)", False, False, 0.7, project="b"),
        _outcome("t", "b (sdist)", False, False, 0.8, project="b"),
        _outcome("other", "m1", True, False, 5.0),
    ]
    s = summarise("t", outcomes)
    assert (s.malware, s.detected, s.recall) == (4, 3, 0.75)
    assert (s.benign, s.false_positives, s.fp_rate) == (4, 1, 0.25)
    assert (s.benign_projects, s.flagged_projects, s.project_fp_rate) == (2, 1, 0.5)
    assert s.errors == 1
    assert s.median_seconds == pytest.approx(0.45)
    assert s.p95_seconds == pytest.approx(0.765)


def test_empty_corpora_give_nan_not_zero():
    s = summarise("t", [_outcome("t", "m", True, True, 1.0)])
    assert math.isnan(s.fp_rate)
    assert math.isnan(s.project_fp_rate)
    assert s.recall == 1.0
    assert math.isnan(summarise("missing", []).median_seconds)


@pytest.mark.parametrize("q", [0, 25, 50, 90, 95, 100])
def test_percentile_matches_the_inclusive_method(q):
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    expected = {0: min(values), 100: max(values)}.get(q) or cuts[q - 1]
    assert percentile(values, q) == pytest.approx(expected)
    assert percentile([7.0], q) == 7.0


def test_percentile_rejects_out_of_range():
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_speedup_and_table():
    fast = summarise("assay", [_outcome("assay", "m", True, True, 0.01)])
    slow = summarise("guarddog", [_outcome("guarddog", "m", True, False, 0.5)])
    assert speedup(fast, slow) == pytest.approx(50.0)
    text = table([fast, slow], reference="guarddog")
    assert "50.0x" in text
    assert "100.0% (1/1)" in text
    assert "0.0% (0/1)" in text
    ratios = run.ratios([fast, slow], "guarddog")
    assert ratios["assay"]["speedup_median"] == pytest.approx(50.0)
    assert math.isnan(ratios["assay"]["recall_ratio"])  # reference recall 0: no ratio


def _malware_rows():
    return [
        {
            "path": "samples/alpha/1.0/alpha-1.0.tar.gz",
            "name": "alpha",
            "version": "1.0",
            "cluster": "00aa",
            "cluster_size": 2,
            "sha256": "AB" * 32,
        },
        {
            "path": "samples/beta/0.1/beta-0.1-py3-none-any.whl",
            "name": "beta",
            "version": "0.1",
            "cluster": "00bb",
            "cluster_size": 1,
            "sha256": "cd" * 32,
        },
    ]


def test_malware_manifest_parsing():
    entries = corpus.parse_malware_manifest(json.dumps(_malware_rows()))
    assert [e.identifier for e in entries] == ["alpha==1.0", "beta==0.1"]
    assert entries[0].filename == "alpha-1.0.tar.gz"
    assert entries[0].sha256 == "ab" * 32
    assert entries[1].cluster_size == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda rows: rows[0].pop("sha256"), "'sha256' must be str"),
        (lambda rows: rows[1].update(cluster_size="1"), "'cluster_size' must be int"),
        (lambda rows: rows[1].update(cluster_size=True), "'cluster_size' must be int"),
        (lambda rows: rows[0].update(path="../escape.tar.gz"), "unsafe member path"),
        (lambda rows: rows[0].update(path="/abs/x.tar.gz"), "unsafe member path"),
        (lambda rows: rows[1].update(path=rows[0]["path"]), "duplicate member path"),
    ],
)
def test_malware_manifest_rejects_bad_rows(mutate, message):
    rows = _malware_rows()
    mutate(rows)
    with pytest.raises(corpus.CorpusError, match=message):
        corpus.parse_malware_manifest(json.dumps(rows), "m.json")


def test_malware_manifest_rejects_non_lists():
    with pytest.raises(corpus.CorpusError, match="expected a JSON list"):
        corpus.parse_malware_manifest('{"rows": []}')
    with pytest.raises(corpus.CorpusError, match="not JSON"):
        corpus.parse_malware_manifest("[")


def test_encrypted_zip_is_read_in_memory_and_checked(tmp_path):
    pyzipper = pytest.importorskip("pyzipper")
    harmless = {"samples/alpha/1.0/alpha-1.0.tar.gz": b"not an archive, just bytes"}
    rows = [
        {
            "path": path,
            "name": "alpha",
            "version": "1.0",
            "cluster": "c",
            "cluster_size": 1,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        for path, data in harmless.items()
    ]
    archive = tmp_path / "corpus.zip"
    with pyzipper.AESZipFile(archive, "w", encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(b"secret")
        for path, data in harmless.items():
            zf.writestr(path, data)
    entries = corpus.parse_malware_manifest(json.dumps(rows))
    samples = list(corpus.iter_malware(entries, archive, b"secret"))
    assert [(s.identifier, s.filename, s.data, s.malicious) for s in samples] == [
        ("alpha==1.0", "alpha-1.0.tar.gz", b"not an archive, just bytes", True)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.zip"]  # nothing extracted
    rows[0]["sha256"] = "0" * 64
    with pytest.raises(corpus.CorpusError, match=r"sha256 mismatch for alpha==1\.0"):
        list(
            corpus.iter_malware(corpus.parse_malware_manifest(json.dumps(rows)), archive, b"secret")
        )


def test_top_packages_are_ranked_by_download_count():
    document = {
        "last_update": "2026-04-01 06:34:06",
        "meta": [{"name": "download_count", "type": "Int64"}],
        "rows": [
            {"download_count": 10, "project": "c"},
            {"download_count": 30, "project": "a"},
            {"download_count": 20, "project": "b"},
            {"download_count": 20, "project": "b2"},
        ],
    }
    assert corpus.parse_top_packages(json.dumps(document)) == ["a", "b", "b2", "c"]
    with pytest.raises(corpus.CorpusError, match="'rows' list"):
        corpus.parse_top_packages("[]")
    with pytest.raises(corpus.CorpusError, match="'download_count' must be int"):
        corpus.parse_top_packages('{"rows": [{"project": "x"}]}')


def test_shared_top_list_parses_when_present():
    if not corpus.TOP_PACKAGES.exists():
        pytest.skip("shared popularity data not laid out beside the repository")
    names = corpus.parse_top_packages(corpus.TOP_PACKAGES.read_bytes())
    assert len(names) >= 500
    assert len(set(names)) == len(names)


def test_benign_manifest_keeps_downloaded_files_only():
    document = {
        "projects": {
            "zeta": {"rank": 2, "files": [{"kind": "listing", "status": "failed", "error": "x"}]},
            "alpha": {
                "rank": 1,
                "files": [
                    {
                        "kind": "wheel",
                        "status": "ok",
                        "filename": "alpha-1-py3-none-any.whl",
                        "version": "1",
                        "sha256": "AA" * 32,
                        "size": 10,
                    },
                    {"kind": "sdist", "status": "skipped-size", "filename": "alpha-1.tar.gz"},
                ],
            },
        }
    }
    entries = corpus.parse_benign_manifest(json.dumps(document))
    assert [(e.identifier, e.rank, e.sha256) for e in entries] == [
        ("alpha==1 (wheel)", 1, "aa" * 32)
    ]
    wheel = {**document["projects"]["alpha"]["files"][0], "filename": "../x.whl"}  # type: ignore[index]
    document["projects"]["alpha"]["files"] = [wheel]
    with pytest.raises(corpus.CorpusError, match="unsafe file name"):
        corpus.parse_benign_manifest(json.dumps(document))


def test_choose_is_seeded_and_keeps_corpus_order():
    items = list(range(100))
    first = corpus.choose(items, 10, seed=7)
    assert first == corpus.choose(items, 10, seed=7)
    assert first == sorted(first)
    assert len(set(first)) == 10
    assert first != corpus.choose(items, 10, seed=8)
    assert corpus.choose(items, None, seed=1) == items
    assert corpus.choose(items, 500, seed=1) == items


def _file(filename, **extra):
    return {"filename": filename, "hashes": {"sha256": "0" * 64}, "size": 1, **extra}


def test_select_files_picks_like_pip():
    tags = [Tag("cp311", "cp311", "manylinux_2_28_x86_64"), Tag("py3", "none", "any")]
    files = [
        _file("demo-1.0-py3-none-any.whl"),
        _file("demo-1.0.tar.gz"),
        _file("demo-2.0-py3-none-any.whl"),
        _file("demo-2.0-cp311-cp311-manylinux_2_28_x86_64.whl"),
        _file("demo-2.0-cp312-cp312-manylinux_2_28_x86_64.whl"),
        _file("demo-3.0-py3-none-any.whl", yanked="broken"),
        _file("demo-3.0.tar.gz", yanked=True),
        _file("demo-4.0rc1-py3-none-any.whl"),
        _file("demo-5.0-py3-none-any.whl", **{"requires-python": ">=3.99"}),
        _file("demo-5.0.tar.gz"),
        _file("demo-2.0.exe"),
    ]
    chosen = select_files(files, tags, Version("3.11.7"))
    assert chosen["wheel"]["filename"] == "demo-2.0-cp311-cp311-manylinux_2_28_x86_64.whl"
    assert chosen["sdist"]["filename"] == "demo-5.0.tar.gz"  # 2.0 has none: the newest sdist
    files.append(_file("demo-2.0.tar.gz"))
    assert select_files(files, tags, Version("3.11.7"))["sdist"]["filename"] == "demo-2.0.tar.gz"
    only_pre = [_file("demo-1.0b1-py3-none-any.whl")]
    assert select_files(only_pre, tags, Version("3.11.7"))["wheel"]["filename"].startswith("demo-1")
    assert select_files([_file("demo-1.0-cp27-cp27m-win32.whl")], tags, Version("3.11.7")) == {}


def test_guarddog_report_parsing():
    report = {
        "package": "/tmp/x/demo-1.0.tar.gz",
        "issues": 4,
        "errors": {},
        "risk_score": {"score": 6.7, "label": "suspicious", "findings_count": 2},
    }
    assert guarddog.parse_report(json.dumps(report), 5.0) == (True, 6.7, "suspicious", 4)
    assert guarddog.parse_report(json.dumps(report), 7.0)[0] is False
    clean = {"issues": 0, "risk_score": {"score": 0.0, "label": "no_risks_detected"}}
    assert guarddog.parse_report(json.dumps(clean), 5.0) == (False, 0.0, "no_risks_detected", 0)
    with pytest.raises(ValueError, match="Expecting value"):
        guarddog.parse_report("Error occurred while scanning target", 5.0)


def test_missing_assay_entry_point_is_reported_not_faked():
    with pytest.raises(run.SetupError, match="no analysis entry point 'no_such_entry'"):
        run.load_assay("assay.vetting:no_such_entry")
    with pytest.raises(run.SetupError, match="cannot import"):
        run.load_assay("assay.no_such_module:vet_bytes")


def test_assay_entry_point_is_wrapped_into_verdicts(monkeypatch):
    class Report:
        flagged, score, label = True, 8.5, "critical"

    seen = []

    def fake(filename, data):
        seen.append((filename, data))
        if data == b"crash":
            raise RuntimeError("bug")
        return Report()

    monkeypatch.setattr(assay.vetting, "vet_bytes", fake, raising=False)
    analyse = run.load_assay("assay.vetting:vet_bytes")
    verdict = analyse("x.whl", b"bytes")
    assert (verdict.flagged, verdict.score, verdict.label, verdict.error) == (
        True,
        8.5,
        "critical",
        None,
    )
    crashed = analyse("y.whl", b"crash")
    assert crashed.flagged is False
    assert "RuntimeError" in (crashed.error or "")
    assert seen == [("x.whl", b"bytes"), ("y.whl", b"crash")]
