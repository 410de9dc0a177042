"""The README's main job (`make demo` runs examples/demo.sh) works up to the server start."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support import PYPA_DATABASE, REPO

pytestmark = pytest.mark.slow


def test_the_demo_runs_every_step_and_stops_before_serving(tmp_path):
    out = tmp_path / "demo-out"
    env = {
        **os.environ,
        "ASSAY_DEMO_SERVE": "0",
        "ASSAY_DEMO_OUT": str(out),
        "ASSAY_DEMO_ADVISORIES": str(PYPA_DATABASE),
    }
    done = subprocess.run(
        ["bash", "examples/demo.sh"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "assay audit exited with 1" in done.stdout
    assert "assay gate exited with 1" in done.stdout
    assert ": ok: 1 entries" in done.stdout  # the gate's decision, verified in the signed log
    assert "assay vet exited with 1" in done.stdout
    assert "ASSAY_DEMO_SERVE=0: not starting the registry" in done.stdout
    for name in ("churn-model.env.json", "churn-model.sarif", "churn-model.cdx.json"):
        assert (out / name).is_file()
    assert (out / "assay-policy.toml").is_file()
    assert "Traceback" not in done.stdout + done.stderr
