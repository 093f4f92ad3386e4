"""Cross-check Strata's exports against ONNX Runtime and PyTorch.

For every network of every spec in Specs/: initialise weights with
`strata init`, make inputs, run `strata run`, then
  - export ONNX with `strata compile --emit onnx`, validate it with
    onnx.checker.check_model(full_check=True) and run it with ONNX Runtime;
  - export PyTorch with `strata export --format pytorch`, load the same
    safetensors file with load_state_dict(strict=True) and run it (only when
    torch is importable; CI does not install it);
and compare the outputs: max |a - b| / max |b| under 1e-4 (relative to the
output's own scale, however small default initialisation leaves it).

Usage: python3 scripts/check-export.py [path/to/strata]   (from the repository root)
"""
import glob
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import yaml

try:
    import torch
    from safetensors.torch import load_file
except ImportError as e:
    torch = None
    TORCH_MISSING = str(e)

STRATA = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/strata"
TOLERANCE = 1e-4


def strata(*args):
    r = subprocess.run([STRATA, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"strata {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def dims_for(spec):
    """Small sizes every dim's constraints allow: N=2, others about 16."""
    dims = spec.get("dims") or []
    items = dims.items() if isinstance(dims, dict) else [(d, None) for d in dims]
    values = {}
    for name, c in items:
        c = c or {}
        lo, m = int(c.get("min", 1)), int(c.get("multiple_of", 1))
        want = 2 if name == "N" else max(lo, 12)
        values[name] = -(-want // m) * m
    return values


def error(a, b):
    if a.shape != b.shape:
        return float("inf")
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    return float(np.max(np.abs(a.astype(np.float64) - b))) / max(scale, 1e-30) if b.size else 0.0


def main():
    passed = failed = 0
    if torch is None:
        print(f"check-export: PyTorch not importable ({TORCH_MISSING}); the PyTorch checks are skipped")
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(glob.glob("Specs/*.yaml")):
            with open(path) as f:
                spec = yaml.safe_load(f)
            stem = os.path.splitext(os.path.basename(path))[0]
            dims = dims_for(spec)
            dims_arg = ",".join(f"{k}={v}" for k, v in dims.items())
            weights = os.path.join(tmp, stem + ".safetensors")
            strata("init", path, "-o", weights, "--seed", "5")
            ir = strata("compile", path, "--emit", "ir", "--dims", dims_arg) if dims_arg else strata("compile", path, "--emit", "ir")
            networks = re.findall(r"^network (\S+)", ir, re.M)
            source = os.path.join(tmp, stem + ".py")
            strata("export", path, "--format", "pytorch", "-o", source)
            module = None
            if torch is not None:
                loader = importlib.util.spec_from_file_location(stem.replace("-", "_"), source)
                module = importlib.util.module_from_spec(loader)
                loader.loader.exec_module(module)
            for net in networks:
                block = ir.split(f"network {net}\n", 1)[1].split("\nnetwork ", 1)[0]
                inputs = {}
                rng = np.random.default_rng(7)
                for name, dtype, shape in re.findall(r"input %(\S+): (f32|i32)\[([^\]]*)\]", block):
                    shape = [int(s) for s in shape.split(", ")] if shape else []
                    if dtype == "i32":
                        inputs[name] = rng.integers(0, int(spec["params"]["vocab"]), size=shape).astype(np.int32)
                    else:
                        inputs[name] = rng.standard_normal(shape).astype(np.float32)
                outputs = re.findall(r"output (\S+) =", block)
                args = ["run", path, "--network", net, "--weights", weights, "--seed", "5"]
                for name, value in inputs.items():
                    np.save(os.path.join(tmp, f"{stem}.{net}.in.{name}.npy"), value)
                    args += ["--input", f"{name}={os.path.join(tmp, f'{stem}.{net}.in.{name}.npy')}"]
                for name in outputs:
                    args += ["--output", f"{name}={os.path.join(tmp, f'{stem}.{net}.out.{name}.npy')}"]
                strata(*args)
                expected = {n: np.load(os.path.join(tmp, f"{stem}.{net}.out.{n}.npy")) for n in outputs}

                model_path = os.path.join(tmp, f"{stem}.{net}.onnx")
                strata("compile", path, "--network", net, "--emit", "onnx", "--weights", weights, "-o", model_path)
                try:
                    onnx.checker.check_model(onnx.load(model_path), full_check=True)
                    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
                    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))
                    worst = max(error(got[n], expected[n]) for n in outputs)
                    ok = worst < TOLERANCE
                except Exception as e:  # a failed check is a finding, reported per network
                    worst, ok = f"{type(e).__name__}: {e}", False
                passed, failed = passed + ok, failed + (not ok)
                print(f"check-export: onnx    {stem}/{net}: {'ok' if ok else 'FAIL'} (error {worst})")

                if module is not None:
                    try:
                        names = [n for n in dir(module) if not n.startswith("_")]
                        whole = module.Model() if "Model" in names else None
                        target = whole if whole is not None else next(getattr(module, n)() for n in names
                                                                        if isinstance(getattr(module, n), type) and issubclass(getattr(module, n), torch.nn.Module))
                        target.load_state_dict(load_file(weights), strict=True)
                        target.eval()
                        network = getattr(target, net) if whole is not None else target
                        with torch.no_grad():
                            result = network(*[torch.from_numpy(v) for v in inputs.values()])
                        result = result if isinstance(result, dict) else {outputs[0]: result}
                        worst = max(error(result[n].numpy(), expected[n]) for n in outputs)
                        ok = worst < TOLERANCE
                    except Exception as e:
                        worst, ok = f"{type(e).__name__}: {e}", False
                    passed, failed = passed + ok, failed + (not ok)
                    print(f"check-export: pytorch {stem}/{net}: {'ok' if ok else 'FAIL'} (error {worst})")
    print(f"export: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
