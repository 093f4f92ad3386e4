#!/usr/bin/env bash
# Runs check-export.py, installing onnx, onnxruntime, numpy and pyyaml with
# pip when they are missing. PyTorch is not installed here (it is gigabytes);
# its checks run where it is already importable.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import onnx, onnxruntime, numpy, yaml' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore onnx onnxruntime numpy pyyaml \
    || { echo "check-export: could not install onnx and onnxruntime (no PyPI?); export checks skipped"; exit 0; }
fi
python3 scripts/check-export.py "${1:-.build/debug/strata}"
