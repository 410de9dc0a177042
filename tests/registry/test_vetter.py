"""The engine adapter: real analysis of real archives, results kept per sha256."""

import asyncio
import hashlib
import io
import zipfile

from assay.registry.vetter import EngineVetter
from assay.vetting.cache import VetCache


def wheel(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


CLEAN = wheel({"demo/__init__.py": "VALUE = 1\n", "demo-1.0.dist-info/METADATA": "Name: demo\n"})
DROPPER = wheel(
    {
        "demo/__init__.py": "",
        "demo-1.0.pth": ("import os, base64; exec(base64.b64decode(os.environ.get('X', '')))\n"),
    }
)


def test_results_are_cached_across_processes(tmp_path):
    path = tmp_path / "vet.sqlite3"
    vetter = EngineVetter(path)
    digest = hashlib.sha256(CLEAN).hexdigest()
    assert vetter.cached(digest) is None
    summary = asyncio.run(vetter.vet("demo-1.0-py3-none-any.whl", CLEAN))
    assert (summary.name, summary.version, summary.sha256) == ("demo", "1.0", digest)
    assert summary.label in {"none", "low"}
    with VetCache(path) as cache:
        assert cache.get(digest) == summary
    assert EngineVetter(path).cached(digest) == summary


def test_a_pth_autorun_scores_high():
    summary = asyncio.run(EngineVetter(None).vet("demo-1.0-py3-none-any.whl", DROPPER))
    assert summary.score >= 7, summary
    assert summary.reasons


def test_garbage_fails_closed():
    summary = asyncio.run(EngineVetter(None).vet("demo-1.0-py3-none-any.whl", b"not a zip"))
    assert summary.score >= 7
