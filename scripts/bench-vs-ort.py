"""Time Strata against ONNX Runtime on the reference model set, alternately,
in one run, and print the ratio table of docs/performance.md.

The ONNX models come from the benchmark kit's make_models.py (random
weights, symbolic batch): pass its folder with --kit. Strata runs the same
models written as Specs (`strata bench`); ONNX Runtime runs in this process
with intra-op threads set. Each timing is the median of runs over at least
--seconds after a warm-up; the two sides alternate on each row, over
--rounds passes of the whole table, and each keeps its best median. Run it
by hand on an idle machine, with a release build:
    swift build -c release && python3 scripts/bench-vs-ort.py --kit PATH
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

# reference model -> (spec, network, dims other than N, batches)
MODELS = {
    "lenet5": ("Specs/lenet5.yaml", None, "", (1, 32)),
    "resnet20-cifar": ("Specs/resnet20-cifar.yaml", None, "", (1, 32)),
    "dcgan-gen64": ("Specs/dcgan-64.yaml", "generator", "", (1, 32)),
    "dcgan-disc64": ("Specs/dcgan-64.yaml", "discriminator", "", (1, 32)),
    "vae-conv28-enc": ("Specs/vae-mnist.yaml", "encoder", "", (1, 32)),
    "vae-conv28-dec": ("Specs/vae-mnist.yaml", "decoder", "", (1, 32)),
    "srcnn": ("Specs/srcnn.yaml", None, "H=256,W=256", (1, 8)),
    "espcn-x3": ("Specs/espcn-x3.yaml", None, "H=224,W=224", (1, 8)),
    "edsr-baseline-x2": ("Specs/edsr-baseline-x2.yaml", None, "H=128,W=128", (1, 8)),
}


def ort_time(path, batch, threads, seconds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in session.get_inputs():
        shape = [batch if isinstance(d, str) else d for d in i.shape]
        feeds[i.name] = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for _ in range(2):
        session.run(None, feeds)
    samples, start = [], time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        session.run(None, feeds)
        samples.append(time.perf_counter() - t)
    return sorted(samples)[len(samples) // 2]


def strata_time(strata, spec, network, dims, batch, threads):
    args = [strata, "bench", spec, "--batch", str(batch), "--threads", str(threads)]
    if network:
        args += ["--network", network]
    if dims:
        args += ["--dims", dims]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    row = re.findall(r"^\s*\d+\s+\d+\s+([\d.]+)\s+[\d.]+\s+([\d.]+)", out, re.M)[0]
    return float(row[0]) / 1000, float(row[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", required=True, help="folder with make_models.py")
    ap.add_argument("--strata", default=".build/release/strata")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--only", nargs="*", help="model names to time")
    ap.add_argument("--rounds", type=int, default=3,
                    help="passes over the table; each side keeps its best median per row (shared machines stall either side at random)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as models_dir:
        run_all(a, models_dir)


def run_all(a, models_dir):
    subprocess.run([sys.executable, os.path.join(a.kit, "make_models.py"), "--out", models_dir], check=True, capture_output=True)
    with open(os.path.join(models_dir, "models.json")) as f:
        meta = json.load(f)
    settings = [(name, batch, threads) for name, (_, _, _, batches) in MODELS.items() if not a.only or name in a.only
                for batch in batches for threads in (1, 2)]
    # Round after round over the whole table, not every round of a row at once: a contended minute of a shared
    # host then costs one round of several rows, which their other rounds make up, not every round of one row.
    best = {s: (float("inf"), float("inf"), 0.0) for s in settings}
    for round in range(a.rounds):
        for name, batch, threads in settings:
            spec, network, dims, _ = MODELS[name]
            t_ort, t_strata, gflops = best[(name, batch, threads)]
            t_ort = min(t_ort, ort_time(meta[name]["path"], batch, threads, a.seconds))
            t, g = strata_time(a.strata, spec, network, dims, batch, threads)
            if t < t_strata:
                t_strata, gflops = t, g
            best[(name, batch, threads)] = (t_ort, t_strata, gflops)
            print(f"round {round + 1}: {name:18s} batch {batch:2d} threads {threads}: strata {t_strata*1000:9.2f} ms, "
                  f"ort {t_ort*1000:9.2f} ms, ratio {t_strata / t_ort:6.2f}", file=sys.stderr)
    rows = []
    for name, batch, threads in settings:
        t_ort, t_strata, gflops = best[(name, batch, threads)]
        rows.append((name, batch, threads, t_strata * 1000, t_ort * 1000, t_strata / t_ort, gflops,
                     2 * meta[name]["macs_per_image"] * batch / t_ort / 1e9))
    print(f"Measured {datetime.date.today()} on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"onnxruntime {ort.__version__}.\n")
    print("| model | batch | threads | Strata ms | ORT ms | Strata / ORT | Strata GFLOP/s | ORT GFLOP/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.1f} | {r[7]:.1f} |")


if __name__ == "__main__":
    main()
