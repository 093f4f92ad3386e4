"""Validate the model library against Grammar/strata-spec.schema.json.

The schema is what editors use for completion; it must accept every valid
spec and still catch the mistakes an editor should underline.
Usage: python3 validate-schema.py  (from the repository root)
"""
import glob
import json
import sys

import yaml
from jsonschema import Draft7Validator

with open("Grammar/strata-spec.schema.json", encoding="utf-8") as f:
    schema = json.load(f)
Draft7Validator.check_schema(schema)
validator = Draft7Validator(schema)

passed = failed = 0


def check(name, document, valid):
    global passed, failed
    errors = list(validator.iter_errors(document))
    if bool(errors) == (not valid):
        passed += 1
    else:
        failed += 1
        detail = "; ".join(e.message for e in errors[:3]) if errors else "accepted"
        print(f"validate-schema: {name}: expected {'valid' if valid else 'invalid'}: {detail}")


for path in sorted(glob.glob("Specs/**/*.y*ml", recursive=True)):
    with open(path, encoding="utf-8") as f:
        check(path, yaml.safe_load(f), True)

base = {"strata": 1, "name": "x", "dims": ["N"], "inputs": {"x": ["N", 4]},
        "layers": ["relu", {"linear": {"out": 4}}], "outputs": {"y": ["N", 4]}}
check("minimal spec", base, True)
check("misspelt top-level key", {**base, "netwroks": {}}, False)
check("misspelt attribute", {**base, "layers": [{"linear": {"ouy": 4}}]}, False)
check("wrong attribute kind", {**base, "layers": [{"linear": {"out": 4, "bias": "yes"}}]}, False)
check("bad version", {**base, "strata": 2}, False)
check("bad train objective", {**base, "train": {"objective": "gans"}}, False)

print(f"schema: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
