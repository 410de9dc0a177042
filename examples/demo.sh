#!/usr/bin/env bash
# The README's "main job", on embedded defaults (SQLite, local files, no services):
# read the bundled example ML project's lock, capture it as a hashed artifact,
# build the offline advisory database from PyPA's advisory-database and audit
# the project.  Run through `make demo`, which installs assay first.
set -euo pipefail
cd "$(dirname "$0")/.."
ASSAY=.venv/bin/assay
OUT=demo-out
export ASSAY_HOME="$PWD/$OUT/home"  # keep the demo's database out of the user's data directory
ADVISORIES=${ASSAY_DEMO_ADVISORIES:-../shared/data/advisories/pypa-advisory-database}
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }

step "assay env show examples/churn-model/uv.lock"
"$ASSAY" env show examples/churn-model/uv.lock

step "assay env capture examples/churn-model/uv.lock -o $OUT/churn-model.env.json"
"$ASSAY" env capture examples/churn-model/uv.lock -o "$OUT/churn-model.env.json"
head -c 400 "$OUT/churn-model.env.json"; echo " ..."

step "assay env diff: the lock against its captured artifact (identical)"
"$ASSAY" env diff examples/churn-model/uv.lock "$OUT/churn-model.env.json"

step "assay db import $ADVISORIES"
"$ASSAY" db import "$ADVISORIES"
"$ASSAY" db status

step "assay audit examples/churn-model/uv.lock (offline; exit 1 means findings)"
status=0
"$ASSAY" audit examples/churn-model/uv.lock || status=$?
echo "assay audit exited with $status"
"$ASSAY" audit examples/churn-model/uv.lock --format sarif -o "$OUT/churn-model.sarif" || true
echo "SARIF report for code scanning: $OUT/churn-model.sarif"

step "assay sbom examples/churn-model/uv.lock (CycloneDX 1.6, validated) and its minimum-elements check"
"$ASSAY" sbom examples/churn-model/uv.lock --author "assay demo" -o "$OUT/churn-model.cdx.json"
"$ASSAY" sbom check "$OUT/churn-model.cdx.json" || echo "(a lock file names no suppliers or licenses: the check says so)"
