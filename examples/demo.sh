#!/usr/bin/env bash
# The README's "main job", on embedded defaults (SQLite, local files, no services
# to start by hand): read the bundled example ML project's lock, capture it as a
# hashed artifact, build the offline advisory database from PyPA's
# advisory-database, audit the project, write its SBOM, vet two small archives,
# gate the project with the starter policy (signed audit log), and finally serve
# the curated registry on 127.0.0.1 so pip and uv can install through it.
# Run through `make demo`, which installs assay first.  ASSAY_DEMO_SERVE=0 stops
# before the server; ASSAY_DEMO_PORT picks its port (default 8000).
set -euo pipefail
cd "$(dirname "$0")/.."
ASSAY=.venv/bin/assay
ASSAY_PYTHON=.venv/bin/python
OUT=${ASSAY_DEMO_OUT:-demo-out}
mkdir -p "$OUT"
OUT_ABS=$(cd "$OUT" && pwd)
export ASSAY_HOME="$OUT_ABS/home"  # keep the demo's database out of the user's data directory
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

POPULAR=../shared/data/popularity/top-pypi-packages.min.json
if [ -f "$POPULAR" ]; then export ASSAY_POPULAR_PACKAGES="$PWD/$POPULAR"; fi

step "assay policy init: the commented starter policy, used by gate, promote and the registry"
"$ASSAY" policy init --output "$OUT/assay-policy.toml" --force
export ASSAY_POLICY="$OUT_ABS/assay-policy.toml"
"$ASSAY" policy explain --stage production

step "assay gate examples/churn-model/uv.lock --stage production (offline; exit 1 means blocked)"
status=0
"$ASSAY" gate examples/churn-model/uv.lock --stage production --offline || status=$?
echo "assay gate exited with $status; the decision is in the signed log:"
"$ASSAY" log verify

step "assay vet: two small sdists built here (read in memory; nothing is installed or run)"
"$ASSAY_PYTHON" examples/make_vet_samples.py "$OUT/vet-samples"
status=0
"$ASSAY" vet "$OUT"/vet-samples/*.tar.gz --offline || status=$?
echo "assay vet exited with $status (1: a file scored at or above the threshold)"

if [ "${ASSAY_DEMO_SERVE:-1}" = 0 ]; then
    echo; echo "ASSAY_DEMO_SERVE=0: not starting the registry"; exit 0
fi
step "assay serve: the curated registry, governed by $OUT/assay-policy.toml (Ctrl-C to stop)"
exec "$ASSAY" serve --port "${ASSAY_DEMO_PORT:-8000}"
