#!/usr/bin/env bash
# The README's "main job": read the bundled example project's lock, capture it
# as a hashed environment artifact, load the artifact back and compare it with
# the lock it came from.  Run through `make demo`, which installs assay first.
set -euo pipefail
cd "$(dirname "$0")/.."
ASSAY=.venv/bin/assay
OUT=demo-out
mkdir -p "$OUT"

echo "== assay env show examples/churn-model/uv.lock"
"$ASSAY" env show examples/churn-model/uv.lock

echo
echo "== assay env capture examples/churn-model/uv.lock -o $OUT/churn-model.env.json"
"$ASSAY" env capture examples/churn-model/uv.lock -o "$OUT/churn-model.env.json"
head -c 600 "$OUT/churn-model.env.json"; echo " ..."

echo
echo "== assay env diff (the lock against its captured artifact: identical)"
"$ASSAY" env diff examples/churn-model/uv.lock "$OUT/churn-model.env.json"

echo
echo "== assay env diff (the lock against the requirements export pinned from it)"
"$ASSAY" env diff examples/churn-model/uv.lock examples/churn-model/requirements.txt || true
