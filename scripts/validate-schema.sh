#!/usr/bin/env bash
# Runs validate-schema.py, installing its two Python modules when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import yaml, jsonschema' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore pyyaml jsonschema \
    || { echo "validate-schema: could not install pyyaml and jsonschema; schema check skipped"; exit 0; }
fi
python3 scripts/validate-schema.py
