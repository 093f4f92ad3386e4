"""Reference inputs, weights and outputs from PyTorch for Strata's runtime tests.

Writes two kinds of fixtures, both computed with torch modules and functions
used the way a PyTorch user would use them:

  Tests/StrataTests/Fixtures/ops/cases.json
      A JSON list of {"name", "spec", "tolerance"}: one small, complete spec
      per case (top-level shorthand, concrete shapes, last layer named `out`,
      output `y`), covering every op of the catalog over many attribute
      combinations.
  Tests/StrataTests/Fixtures/ops/tensors.safetensors
      For each case NAME: the network inputs "NAME.in.<input>" (float32, or
      int32 token ids), the parameters and buffers "NAME.param.<strata name>",
      and the expected output "NAME.out.y" (float32). The `reparameterize`
      case also stores its noise as "reparameterize.eps".

  Tests/StrataTests/Fixtures/models/<spec>-<network>.weights.safetensors
      The randomized state_dict of the reference module that
      scripts/torch-reference-models.py defines for that network, keyed as a
      `strata run --weights FILE` user would have it (`<network>.` prefix for
      specs with `networks:`, none for the shorthand). dcgan-mnist's generator
      is stored as BF16 and its discriminator as F16; the others as F32.
  Tests/StrataTests/Fixtures/models/<spec>-<network>.io.safetensors
      Inputs "in.<input>" and the module's eval-mode outputs "out.<output>",
      computed with the weights exactly as stored (after any BF16/F16 rounding).

Expected outputs are computed in float64 from float32 inputs and parameters,
then rounded to float32, so they carry no float32 rounding error of their own.
Every generated spec is checked with `.build/debug/strata compile --emit ir`,
and its input, parameter and output names, dtypes and shapes are compared
with what is stored; the script stops on any difference.

CI never runs this script (it needs PyTorch); its outputs are committed.
Rerun it by hand, from the repository root, after building strata:

  python3 scripts/make-reference-fixtures.py

It is deterministic (fixed torch seeds): rerunning it with the same torch
version rewrites identical files. Written against torch 2.9 and safetensors 0.8.
"""
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
STRATA = ROOT / ".build" / "debug" / "strata"
OPS_DIR = ROOT / "Tests" / "StrataTests" / "Fixtures" / "ops"
MODELS_DIR = ROOT / "Tests" / "StrataTests" / "Fixtures" / "models"
TOLERANCE = 1e-5
OPS_LIMIT = 1536 * 1024  # bytes, tensors.safetensors
MODEL_LIMIT = 4 * 1024 * 1024  # bytes, each model file


def load_reference_models():
    path = ROOT / "scripts" / "torch-reference-models.py"
    spec = importlib.util.spec_from_file_location("torch_reference_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ref = load_reference_models()


# --------------------------------------------------------------------------
# Checking specs with the strata binary


IR_INPUT = re.compile(r"^\s*input %(\w+): (\w+)\[([^\]]*)\]$")
IR_PARAM = re.compile(r"^\s*(?:param|buffer) (\S+): (\w+)\[([^\]]*)\]$")
IR_OUTPUT = re.compile(r"^\s*output (\w+) = %\S+: (\w+)\[([^\]]*)\]$")
DTYPES = {torch.float32: "f32", torch.int32: "i32", torch.int64: "i64"}


def parse_dims(text):
    return [int(d) for d in text.split(",")] if text.strip() else []


def save(tensors, path):
    save_file(tensors, str(path))
    path.chmod(0o644)  # safetensors creates files readable by their owner only


def strata_ir(path, *extra):
    """Run `strata compile PATH --emit ir`; return {network: {inputs, params, outputs}}."""
    result = subprocess.run([str(STRATA), "compile", str(path), "--emit", "ir", *extra],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"strata rejected {path}:\n{result.stdout}{result.stderr}")
    networks = {}
    current = None
    for line in result.stdout.splitlines():
        if line.startswith("network "):
            current = networks.setdefault(line.split()[1],
                                          {"inputs": {}, "params": {}, "outputs": {}})
            continue
        for pattern, key in ((IR_INPUT, "inputs"), (IR_PARAM, "params"), (IR_OUTPUT, "outputs")):
            match = pattern.match(line)
            if match:
                name, dtype, dims = match.groups()
                current[key][name] = (dtype, parse_dims(dims))
    return networks


def signature(tensors):
    return {name: (DTYPES[t.dtype], list(t.shape)) for name, t in tensors.items()}


def compare(what, strata_side, torch_side, problems):
    if strata_side != torch_side:
        problems.append(f"{what}: strata {strata_side} != stored {torch_side}")


# --------------------------------------------------------------------------
# Per-op cases


class Cases:
    def __init__(self):
        self.cases = []  # (name, spec text, inputs, params, output, extra tensors)
        self.names = set()

    def add(self, name, entry, inputs, module=None, forward=None, sources=None, extra=None):
        """One case: a spec whose only layer is `entry`, named `out`.

        `inputs` maps input names to float32 (or int32) tensors, `module` is
        the nn.Module whose state_dict holds the layer's parameters (keys
        become `out.<key>`), `forward(module, *inputs)` computes the output
        (default: module(*inputs)); it runs in float64. `sources` lists the
        inputs of a multi-input op (`from:`).
        """
        assert name not in self.names and re.fullmatch(r"[a-z0-9_]+", name), name
        self.names.add(name)
        params = {}
        if module is not None:
            module.eval()
            params = {f"out.{k}": v.detach().clone().contiguous()
                      for k, v in module.state_dict().items()}
        args = []
        for t in inputs.values():
            args.append(t.long() if t.dtype == torch.int32 else t.double())
        run_module = None
        if module is not None:
            run_module = module.double()
        with torch.no_grad():
            if forward is None:
                out = run_module(*args)
            else:
                out = forward(run_module, *args)
        out = out.float().contiguous()

        lines = ["strata: 1", f"name: {name}", "inputs:"]
        for input_name, t in inputs.items():
            shape = "[" + ", ".join(str(d) for d in t.shape) + "]"
            if t.dtype == torch.int32:
                lines.append(f"  {input_name}: {{shape: {shape}, dtype: i32}}")
            else:
                lines.append(f"  {input_name}: {shape}")
        lines.append("layers:")
        lines.append(f"  - {entry if ':' in entry else entry + ':'}")
        if sources is not None:
            lines.append(f"    from: [{', '.join(sources)}]")
        lines.append("    name: out")
        lines.append("outputs:")
        lines.append("  y: {from: out}")
        spec = "\n".join(lines) + "\n"
        self.cases.append((name, spec, dict(inputs), params, out, extra or {}))


def randn(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).float()


def randomize_norm(module, spread=0.5):
    """Nontrivial affine parameters and running statistics for a norm layer."""
    with torch.no_grad():
        if getattr(module, "weight", None) is not None:
            module.weight.uniform_(0.5, 1.5)
        if getattr(module, "bias", None) is not None:
            module.bias.normal_(0.0, spread)
        if getattr(module, "running_mean", None) is not None:
            module.running_mean.normal_(0.0, spread)
            module.running_var.uniform_(0.5, 1.5)
            module.num_batches_tracked.fill_(7)
    return module


def conv_cases(c):
    x = randn(2, 4, 9, 11)
    conv2d = [
        # name, entry, nn.Conv2d keyword arguments (in = 4 channels)
        ("conv2d_k3", "conv2d: {out: 5, kernel: 3}", dict(out_channels=5, kernel_size=3)),
        ("conv2d_primary_k1", "conv2d: {out: 3, kernel: 1}", dict(out_channels=3, kernel_size=1)),
        ("conv2d_s2", "conv2d: {out: 5, kernel: 3, stride: 2}",
         dict(out_channels=5, kernel_size=3, stride=2)),
        ("conv2d_s2_p1", "conv2d: {out: 5, kernel: 3, stride: 2, padding: 1}",
         dict(out_channels=5, kernel_size=3, stride=2, padding=1)),
        ("conv2d_s3_k4_p2", "conv2d: {out: 3, kernel: 4, stride: 3, padding: 2}",
         dict(out_channels=3, kernel_size=4, stride=3, padding=2)),
        ("conv2d_asym_kernel", "conv2d: {out: 5, kernel: [3, 5]}",
         dict(out_channels=5, kernel_size=(3, 5))),
        ("conv2d_asym_all", "conv2d: {out: 5, kernel: [3, 5], stride: [2, 1], padding: [1, 2]}",
         dict(out_channels=5, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2))),
        ("conv2d_asym_stride_only", "conv2d: {out: 4, kernel: 2, stride: [1, 3], padding: [0, 1]}",
         dict(out_channels=4, kernel_size=2, stride=(1, 3), padding=(0, 1))),
        ("conv2d_same_k3", "conv2d: {out: 5, kernel: 3, padding: same}",
         dict(out_channels=5, kernel_size=3, padding="same")),
        ("conv2d_same_k5", "conv2d: {out: 3, kernel: 5, padding: same}",
         dict(out_channels=3, kernel_size=5, padding="same")),
        ("conv2d_same_k4", "conv2d: {out: 5, kernel: 4, padding: same}",
         dict(out_channels=5, kernel_size=4, padding="same")),
        ("conv2d_same_k2", "conv2d: {out: 3, kernel: 2, padding: same}",
         dict(out_channels=3, kernel_size=2, padding="same")),
        ("conv2d_same_k2x5", "conv2d: {out: 5, kernel: [2, 5], padding: same}",
         dict(out_channels=5, kernel_size=(2, 5), padding="same")),
        ("conv2d_same_k4x3_d2", "conv2d: {out: 3, kernel: [4, 3], dilation: 2, padding: same}",
         dict(out_channels=3, kernel_size=(4, 3), dilation=2, padding="same")),
        ("conv2d_same_k4x2_d1x3", "conv2d: {out: 3, kernel: [4, 2], dilation: [1, 3], padding: same}",
         dict(out_channels=3, kernel_size=(4, 2), dilation=(1, 3), padding="same")),
        ("conv2d_same_k3_d2_g2", "conv2d: {out: 6, kernel: 3, dilation: 2, groups: 2, padding: same}",
         dict(out_channels=6, kernel_size=3, dilation=2, groups=2, padding="same")),
        ("conv2d_valid", "conv2d: {out: 5, kernel: 3, padding: valid}",
         dict(out_channels=5, kernel_size=3, padding="valid")),
        ("conv2d_valid_k2x4", "conv2d: {out: 2, kernel: [2, 4], padding: valid, bias: false}",
         dict(out_channels=2, kernel_size=(2, 4), padding="valid", bias=False)),
        ("conv2d_d2", "conv2d: {out: 5, kernel: 3, dilation: 2}",
         dict(out_channels=5, kernel_size=3, dilation=2)),
        ("conv2d_d2x3_p", "conv2d: {out: 4, kernel: 3, dilation: [2, 3], padding: [2, 3]}",
         dict(out_channels=4, kernel_size=3, dilation=(2, 3), padding=(2, 3))),
        ("conv2d_d2_s2", "conv2d: {out: 4, kernel: 3, stride: 2, dilation: 2, padding: 1}",
         dict(out_channels=4, kernel_size=3, stride=2, dilation=2, padding=1)),
        ("conv2d_g2", "conv2d: {out: 6, kernel: 3, groups: 2, padding: 1}",
         dict(out_channels=6, kernel_size=3, groups=2, padding=1)),
        ("conv2d_g4_s2", "conv2d: {out: 8, kernel: 3, stride: 2, groups: 4}",
         dict(out_channels=8, kernel_size=3, stride=2, groups=4)),
        ("conv2d_depthwise", "conv2d: {out: 4, kernel: 3, groups: 4, padding: 1, bias: false}",
         dict(out_channels=4, kernel_size=3, groups=4, padding=1, bias=False)),
        ("conv2d_depthwise_x2", "conv2d: {out: 8, kernel: [3, 5], groups: 4, padding: same}",
         dict(out_channels=8, kernel_size=(3, 5), groups=4, padding="same")),
        ("conv2d_nobias", "conv2d: {out: 5, kernel: 3, padding: 1, bias: false}",
         dict(out_channels=5, kernel_size=3, padding=1, bias=False)),
        ("conv2d_pointwise_nobias", "conv2d: {out: 6, kernel: 1, bias: false}",
         dict(out_channels=6, kernel_size=1, bias=False)),
    ]
    for name, entry, kwargs in conv2d:
        c.add(name, entry, {"x": x}, nn.Conv2d(4, **kwargs))

    # One input large enough for a 9x11 kernel over the whole map.
    c.add("conv2d_full_map", "conv2d: {out: 3, kernel: [9, 11]}", {"x": x},
          nn.Conv2d(4, 3, (9, 11)))

    x1 = randn(2, 4, 13)
    conv1d = [
        ("conv1d_k3", "conv1d: {out: 5, kernel: 3}", dict(out_channels=5, kernel_size=3)),
        ("conv1d_s2_p1", "conv1d: {out: 5, kernel: 3, stride: 2, padding: 1}",
         dict(out_channels=5, kernel_size=3, stride=2, padding=1)),
        ("conv1d_s3_k5_p2", "conv1d: {out: 3, kernel: 5, stride: 3, padding: 2}",
         dict(out_channels=3, kernel_size=5, stride=3, padding=2)),
        ("conv1d_same_k3", "conv1d: {out: 5, kernel: 3, padding: same}",
         dict(out_channels=5, kernel_size=3, padding="same")),
        ("conv1d_same_k4", "conv1d: {out: 5, kernel: 4, padding: same}",
         dict(out_channels=5, kernel_size=4, padding="same")),
        ("conv1d_same_k2_d3", "conv1d: {out: 3, kernel: 2, dilation: 3, padding: same}",
         dict(out_channels=3, kernel_size=2, dilation=3, padding="same")),
        ("conv1d_valid", "conv1d: {out: 5, kernel: 4, padding: valid}",
         dict(out_channels=5, kernel_size=4, padding="valid")),
        ("conv1d_d2_p2", "conv1d: {out: 4, kernel: 3, dilation: 2, padding: 2}",
         dict(out_channels=4, kernel_size=3, dilation=2, padding=2)),
        ("conv1d_g2", "conv1d: {out: 6, kernel: 3, groups: 2}",
         dict(out_channels=6, kernel_size=3, groups=2)),
        ("conv1d_depthwise", "conv1d: {out: 4, kernel: 5, groups: 4, padding: same, bias: false}",
         dict(out_channels=4, kernel_size=5, groups=4, padding="same", bias=False)),
        ("conv1d_nobias", "conv1d: {out: 5, kernel: 3, padding: 1, bias: false}",
         dict(out_channels=5, kernel_size=3, padding=1, bias=False)),
    ]
    for name, entry, kwargs in conv1d:
        c.add(name, entry, {"x": x1}, nn.Conv1d(4, **kwargs))

    xt = randn(2, 4, 5, 6)
    transpose = [
        ("conv_transpose2d_k3", "conv_transpose2d: {out: 5, kernel: 3}",
         dict(out_channels=5, kernel_size=3)),
        ("conv_transpose2d_s2_k4_p1", "conv_transpose2d: {out: 3, kernel: 4, stride: 2, padding: 1}",
         dict(out_channels=3, kernel_size=4, stride=2, padding=1)),
        ("conv_transpose2d_s2_op1",
         "conv_transpose2d: {out: 3, kernel: 3, stride: 2, padding: 1, output_padding: 1}",
         dict(out_channels=3, kernel_size=3, stride=2, padding=1, output_padding=1)),
        ("conv_transpose2d_s3_op2", "conv_transpose2d: {out: 2, kernel: 3, stride: 3, output_padding: 2}",
         dict(out_channels=2, kernel_size=3, stride=3, output_padding=2)),
        ("conv_transpose2d_asym",
         "conv_transpose2d: {out: 3, kernel: [3, 2], stride: [2, 3], padding: [1, 0], output_padding: [1, 2]}",
         dict(out_channels=3, kernel_size=(3, 2), stride=(2, 3), padding=(1, 0),
              output_padding=(1, 2))),
        ("conv_transpose2d_d2", "conv_transpose2d: {out: 3, kernel: 3, dilation: 2, padding: 1}",
         dict(out_channels=3, kernel_size=3, dilation=2, padding=1)),
        ("conv_transpose2d_d2_s2_op",
         "conv_transpose2d: {out: 3, kernel: 3, stride: 2, dilation: [2, 1], output_padding: 1}",
         dict(out_channels=3, kernel_size=3, stride=2, dilation=(2, 1), output_padding=1)),
        ("conv_transpose2d_g2", "conv_transpose2d: {out: 6, kernel: 3, stride: 2, groups: 2}",
         dict(out_channels=6, kernel_size=3, stride=2, groups=2)),
        ("conv_transpose2d_depthwise",
         "conv_transpose2d: {out: 4, kernel: 4, stride: 2, padding: 1, groups: 4, bias: false}",
         dict(out_channels=4, kernel_size=4, stride=2, padding=1, groups=4, bias=False)),
        ("conv_transpose2d_nobias", "conv_transpose2d: {out: 5, kernel: 4, stride: 2, padding: 1, bias: false}",
         dict(out_channels=5, kernel_size=4, stride=2, padding=1, bias=False)),
        ("conv_transpose2d_k1_s2", "conv_transpose2d: {out: 3, kernel: 1, stride: 2}",
         dict(out_channels=3, kernel_size=1, stride=2)),
    ]
    for name, entry, kwargs in transpose:
        c.add(name, entry, {"x": xt}, nn.ConvTranspose2d(4, **kwargs))
    # The DCGAN seed layer: a 1x1 latent map grown to 4x4.
    c.add("conv_transpose2d_latent", "conv_transpose2d: {out: 4, kernel: 4, bias: false}",
          {"z": randn(2, 6, 1, 1)}, nn.ConvTranspose2d(6, 4, 4, bias=False))


def linear_cases(c):
    c.add("linear_rank2", "linear: 5", {"x": randn(2, 7)}, nn.Linear(7, 5))
    c.add("linear_rank3", "linear: {out: 5}", {"x": randn(2, 3, 7)}, nn.Linear(7, 5))
    c.add("linear_rank4", "linear: 4", {"x": randn(2, 3, 2, 6)}, nn.Linear(6, 4))
    c.add("linear_nobias", "linear: {out: 6, bias: false}", {"x": randn(2, 7)},
          nn.Linear(7, 6, bias=False))
    c.add("linear_rank3_nobias", "linear: {out: 3, bias: false}", {"x": randn(2, 4, 5)},
          nn.Linear(5, 3, bias=False))
    c.add("linear_out1", "linear: 1", {"x": randn(2, 9)}, nn.Linear(9, 1))


def embedding_cases(c):
    tokens = torch.randint(0, 11, (2, 7), dtype=torch.int32)
    tokens[0, 0], tokens[1, 6] = 0, 10  # the first and last rows of the table
    c.add("embedding", "embedding: {vocab: 11, dim: 5}", {"tokens": tokens}, nn.Embedding(11, 5))
    c.add("embedding_dim1", "embedding: {vocab: 4, dim: 1}",
          {"tokens": torch.randint(0, 4, (2, 5), dtype=torch.int32)}, nn.Embedding(4, 1))


def check_ceil_matters(cls, kwargs, x):
    """A ceil_mode case must give a larger output than floor mode would."""
    if kwargs.get("ceil_mode"):
        floor = dict(kwargs, ceil_mode=False)
        assert cls(**kwargs)(x).shape != cls(**floor)(x).shape, (cls, kwargs, x.shape)


def pool_cases(c):
    x1 = randn(2, 3, 12)
    pool1d = [
        ("k2", "kernel: 2", dict(kernel_size=2)),
        ("k3_s2", "kernel: 3, stride: 2", dict(kernel_size=3, stride=2)),
        ("k3_s1", "kernel: 3, stride: 1", dict(kernel_size=3, stride=1)),
        ("k3_s2_p1", "kernel: 3, stride: 2, padding: 1", dict(kernel_size=3, stride=2, padding=1)),
        ("k5_s3_p2", "kernel: 5, stride: 3, padding: 2", dict(kernel_size=5, stride=3, padding=2)),
        # ceil_mode: an extra window that starts inside the input and ends past it
        ("k3_s2_ceil", "kernel: 3, stride: 2, ceil_mode: true",
         dict(kernel_size=3, stride=2, ceil_mode=True)),
        ("k3_s2_p1_ceil", "kernel: 3, stride: 2, padding: 1, ceil_mode: true",
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ("k5_ceil", "kernel: 5, ceil_mode: true", dict(kernel_size=5, ceil_mode=True)),
    ]
    for suffix, attrs, kwargs in pool1d:
        check_ceil_matters(nn.MaxPool1d, kwargs, x1)
        c.add(f"max_pool1d_{suffix}", f"max_pool1d: {{{attrs}}}", {"x": x1}, nn.MaxPool1d(**kwargs))
    c.add("max_pool1d_primary", "max_pool1d: 4", {"x": x1}, nn.MaxPool1d(4))
    for suffix, attrs, kwargs in pool1d:
        c.add(f"avg_pool1d_{suffix}", f"avg_pool1d: {{{attrs}}}", {"x": x1}, nn.AvgPool1d(**kwargs))
        if "padding" in kwargs or "ceil_mode" in kwargs:
            c.add(f"avg_pool1d_{suffix}_nopad", f"avg_pool1d: {{{attrs}, count_include_pad: false}}",
                  {"x": x1}, nn.AvgPool1d(**kwargs, count_include_pad=False))
    c.add("avg_pool1d_primary", "avg_pool1d: 3", {"x": x1}, nn.AvgPool1d(3))

    x = randn(2, 3, 9, 11)
    xe = randn(2, 3, 8, 10)  # even sizes: kernel 3, stride 2 leaves a partial last window
    pool2d = [
        ("k2", "kernel: 2", dict(kernel_size=2)),
        ("k3", "kernel: 3", dict(kernel_size=3)),
        ("k3_s2", "kernel: 3, stride: 2", dict(kernel_size=3, stride=2)),
        ("k2_s1", "kernel: 2, stride: 1", dict(kernel_size=2, stride=1)),
        ("k3x2_s2x1", "kernel: [3, 2], stride: [2, 1]", dict(kernel_size=(3, 2), stride=(2, 1))),
        ("k3_s2_p1", "kernel: 3, stride: 2, padding: 1", dict(kernel_size=3, stride=2, padding=1)),
        ("k2x3_s1x2_p1", "kernel: [2, 3], stride: [1, 2], padding: [1, 1]",
         dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
        ("k4_s3_p2x0", "kernel: 4, stride: 3, padding: [2, 0]",
         dict(kernel_size=4, stride=3, padding=(2, 0))),
        # ceil_mode: 9x11 maps with kernel 2 or 3 leave a partial last window
        ("k2_ceil", "kernel: 2, ceil_mode: true", dict(kernel_size=2, ceil_mode=True)),
        ("k2x3_s2_ceil", "kernel: [2, 3], stride: 2, ceil_mode: true",
         dict(kernel_size=(2, 3), stride=2, ceil_mode=True)),
        ("k3_s2_ceil_even", "kernel: 3, stride: 2, ceil_mode: true",
         dict(kernel_size=3, stride=2, ceil_mode=True), xe),
        ("k3_s2_p1_ceil_even", "kernel: 3, stride: 2, padding: 1, ceil_mode: true",
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), xe),
        ("k4x3_s3x2_p1_ceil", "kernel: [4, 3], stride: [3, 2], padding: [1, 1], ceil_mode: true",
         dict(kernel_size=(4, 3), stride=(3, 2), padding=(1, 1), ceil_mode=True)),
    ]
    pool2d = [p if len(p) == 4 else p + (x,) for p in pool2d]
    for suffix, attrs, kwargs, xin in pool2d:
        check_ceil_matters(nn.MaxPool2d, kwargs, xin)
        c.add(f"max_pool2d_{suffix}", f"max_pool2d: {{{attrs}}}", {"x": xin}, nn.MaxPool2d(**kwargs))
    c.add("max_pool2d_primary", "max_pool2d: 2", {"x": x}, nn.MaxPool2d(2))
    # max pooling of an all-negative map with padding: padding is -inf, not 0
    c.add("max_pool2d_negative_p1", "max_pool2d: {kernel: 3, stride: 2, padding: 1}",
          {"x": -randn(2, 3, 6, 7).abs() - 0.1}, nn.MaxPool2d(3, 2, 1))
    for suffix, attrs, kwargs, xin in pool2d:
        c.add(f"avg_pool2d_{suffix}", f"avg_pool2d: {{{attrs}}}", {"x": xin}, nn.AvgPool2d(**kwargs))
        if "padding" in kwargs or "ceil_mode" in kwargs:
            c.add(f"avg_pool2d_{suffix}_nopad", f"avg_pool2d: {{{attrs}, count_include_pad: false}}",
                  {"x": xin}, nn.AvgPool2d(**kwargs, count_include_pad=False))
    c.add("avg_pool2d_primary", "avg_pool2d: 2", {"x": x}, nn.AvgPool2d(2))
    c.add("avg_pool2d_explicit_include_pad", "avg_pool2d: {kernel: 3, stride: 1, padding: 1, "
          "count_include_pad: true}", {"x": x}, nn.AvgPool2d(3, 1, 1, count_include_pad=True))

    x4 = randn(2, 3, 5, 6)
    x3 = randn(2, 3, 7)
    mean = lambda keep: (lambda m, v: v.mean(dim=tuple(range(2, v.dim())), keepdim=keep))
    amax = lambda keep: (lambda m, v: v.amax(dim=tuple(range(2, v.dim())), keepdim=keep))
    c.add("global_avg_pool", "global_avg_pool", {"x": x4},
          forward=lambda m, v: torch.flatten(nn.AdaptiveAvgPool2d(1)(v), 1))
    c.add("global_avg_pool_keepdims", "global_avg_pool: {keepdims: true}", {"x": x4},
          forward=lambda m, v: nn.AdaptiveAvgPool2d(1)(v))
    c.add("global_avg_pool_rank3", "global_avg_pool", {"x": x3}, forward=mean(False))
    c.add("global_avg_pool_rank3_keepdims", "global_avg_pool: {keepdims: true}", {"x": x3},
          forward=mean(True))
    c.add("global_max_pool", "global_max_pool", {"x": x4},
          forward=lambda m, v: torch.flatten(nn.AdaptiveMaxPool2d(1)(v), 1))
    c.add("global_max_pool_keepdims", "global_max_pool: {keepdims: true}", {"x": x4},
          forward=lambda m, v: nn.AdaptiveMaxPool2d(1)(v))
    c.add("global_max_pool_rank3", "global_max_pool", {"x": x3}, forward=amax(False))
    c.add("global_max_pool_rank3_keepdims", "global_max_pool: {keepdims: true}", {"x": x3},
          forward=amax(True))
    x5 = randn(2, 3, 2, 3, 4)
    c.add("global_avg_pool_rank5", "global_avg_pool", {"x": x5}, forward=mean(False))
    c.add("global_max_pool_rank5_keepdims", "global_max_pool: {keepdims: true}", {"x": x5},
          forward=lambda m, v: nn.AdaptiveMaxPool3d(1)(v))
    c.add("global_max_pool_negative", "global_max_pool", {"x": -x4.abs() - 0.1},
          forward=amax(False))


def norm_cases(c):
    x4 = randn(2, 4, 5, 6, scale=2.0) + 0.5
    x3 = randn(2, 4, 7, scale=2.0) - 0.3
    x2 = randn(2, 6, scale=2.0)
    c.add("batch_norm", "batch_norm", {"x": x4}, randomize_norm(nn.BatchNorm2d(4)))
    c.add("batch_norm_eps", "batch_norm: {eps: 0.1}", {"x": x4},
          randomize_norm(nn.BatchNorm2d(4, eps=0.1)))
    c.add("batch_norm_momentum", "batch_norm: {momentum: 0.3, eps: 0.001}", {"x": x4},
          randomize_norm(nn.BatchNorm2d(4, eps=0.001, momentum=0.3)))
    c.add("batch_norm_noaffine", "batch_norm: {affine: false}", {"x": x4},
          randomize_norm(nn.BatchNorm2d(4, affine=False)))
    c.add("batch_norm_rank3", "batch_norm", {"x": x3}, randomize_norm(nn.BatchNorm1d(4)))
    c.add("batch_norm_rank2", "batch_norm", {"x": x2}, randomize_norm(nn.BatchNorm1d(6)))
    c.add("batch_norm_rank5", "batch_norm", {"x": randn(2, 3, 2, 3, 4) + 0.2},
          randomize_norm(nn.BatchNorm3d(3)))
    c.add("batch_norm_rank2_noaffine", "batch_norm: {affine: false, eps: 0.01}", {"x": x2},
          randomize_norm(nn.BatchNorm1d(6, eps=0.01, affine=False)))

    c.add("instance_norm", "instance_norm", {"x": x4}, nn.InstanceNorm2d(4))
    c.add("instance_norm_affine", "instance_norm: {affine: true}", {"x": x4},
          randomize_norm(nn.InstanceNorm2d(4, affine=True)))
    c.add("instance_norm_eps", "instance_norm: {eps: 0.1, affine: false}", {"x": x4},
          nn.InstanceNorm2d(4, eps=0.1))
    x3i = randn(2, 4, 9, scale=2.0) + 0.7
    c.add("instance_norm_rank3", "instance_norm", {"x": x3i}, nn.InstanceNorm1d(4))
    c.add("instance_norm_rank3_affine", "instance_norm: {affine: true}", {"x": x3i},
          randomize_norm(nn.InstanceNorm1d(4, affine=True)))
    c.add("instance_norm_affine_eps", "instance_norm: {eps: 0.001, affine: true}", {"x": x4},
          randomize_norm(nn.InstanceNorm2d(4, eps=0.001, affine=True)))

    x6 = randn(2, 6, 4, 5, scale=2.0) + 1.0
    c.add("group_norm_g2", "group_norm: 2", {"x": x6}, randomize_norm(nn.GroupNorm(2, 6)))
    c.add("group_norm_g3", "group_norm: {groups: 3}", {"x": x6}, randomize_norm(nn.GroupNorm(3, 6)))
    c.add("group_norm_g1", "group_norm: 1", {"x": x6}, randomize_norm(nn.GroupNorm(1, 6)))
    c.add("group_norm_g6", "group_norm: 6", {"x": x6}, randomize_norm(nn.GroupNorm(6, 6)))
    c.add("group_norm_noaffine", "group_norm: {groups: 3, affine: false}", {"x": x6},
          nn.GroupNorm(3, 6, affine=False))
    c.add("group_norm_eps", "group_norm: {groups: 2, eps: 0.1}", {"x": x6},
          randomize_norm(nn.GroupNorm(2, 6, eps=0.1)))
    c.add("group_norm_rank3", "group_norm: 2", {"x": randn(2, 6, 7) - 0.5},
          randomize_norm(nn.GroupNorm(2, 6)))

    c.add("layer_norm_rank3", "layer_norm", {"x": randn(2, 3, 7, scale=2.0) + 1.0},
          randomize_norm(nn.LayerNorm(7)))
    c.add("layer_norm_rank2", "layer_norm", {"x": randn(2, 9, scale=3.0)},
          randomize_norm(nn.LayerNorm(9)))
    c.add("layer_norm_rank4", "layer_norm", {"x": randn(2, 3, 4, 5)},
          randomize_norm(nn.LayerNorm(5)))
    c.add("layer_norm_noaffine", "layer_norm: {affine: false}", {"x": randn(2, 3, 7) - 2.0},
          nn.LayerNorm(7, elementwise_affine=False))
    c.add("layer_norm_eps", "layer_norm: {eps: 0.1}", {"x": randn(2, 3, 7)},
          randomize_norm(nn.LayerNorm(7, eps=0.1)))


def activation_cases(c):
    x = randn(2, 3, 4, 5, scale=2.5)
    simple = [
        ("relu", "relu", nn.ReLU()),
        ("sigmoid", "sigmoid", nn.Sigmoid()),
        ("tanh", "tanh", nn.Tanh()),
        ("silu", "silu", nn.SiLU()),
        ("elu", "elu", nn.ELU()),
        ("elu_alpha", "elu: 0.5", nn.ELU(alpha=0.5)),
        ("elu_alpha_map", "elu: {alpha: 1.7}", nn.ELU(alpha=1.7)),
        ("gelu", "gelu", nn.GELU()),
        ("gelu_none", "gelu: {approximate: none}", nn.GELU(approximate="none")),
        ("gelu_tanh", "gelu: tanh", nn.GELU(approximate="tanh")),
        ("leaky_relu", "leaky_relu", nn.LeakyReLU()),
        ("leaky_relu_slope", "leaky_relu: 0.2", nn.LeakyReLU(0.2)),
        ("leaky_relu_slope_map", "leaky_relu: {slope: 0.05}", nn.LeakyReLU(0.05)),
        ("dropout", "dropout", nn.Dropout()),
        ("dropout_p", "dropout: 0.3", nn.Dropout(0.3)),
        ("dropout_p_map", "dropout: {p: 0.9}", nn.Dropout(p=0.9)),
    ]
    for name, entry, module in simple:
        c.add(name, entry, {"x": x}, forward=lambda m, v, module=module: module.eval()(v))
    # large inputs: the saturated ends of the curves, past exp's float32 overflow at 88.7
    # (outputs there are exactly 0, +-1 or x, so they stay easy to compare)
    extremes = torch.tensor([-100.0, -90.0, -60.0, -30.0, -20.0, -17.0,
                             17.0, 20.0, 30.0, 60.0, 90.0, 100.0])
    big = torch.cat([extremes, randn(36, scale=8.0)]).reshape(2, 3, 8).float()
    for name, entry, module in (("sigmoid_large", "sigmoid", nn.Sigmoid()),
                                ("tanh_large", "tanh", nn.Tanh()),
                                ("silu_large", "silu", nn.SiLU()),
                                ("elu_large", "elu", nn.ELU()),
                                ("gelu_large", "gelu", nn.GELU()),
                                ("gelu_tanh_large", "gelu: tanh", nn.GELU(approximate="tanh"))):
        c.add(name, entry, {"x": big}, forward=lambda m, v, module=module: module(v))
    c.add("relu_rank2", "relu", {"x": randn(2, 10)}, forward=lambda m, v: F.relu(v))

    def prelu(channels, **kwargs):
        module = nn.PReLU(num_parameters=channels, **kwargs)
        with torch.no_grad():
            module.weight.uniform_(-0.5, 0.8)
        return module

    c.add("prelu", "prelu", {"x": x}, prelu(3))
    c.add("prelu_shared", "prelu: {shared: true}", {"x": x}, prelu(1))
    c.add("prelu_explicit_per_channel", "prelu: {shared: false}", {"x": x}, prelu(3))
    c.add("prelu_rank2", "prelu", {"x": randn(2, 6)}, prelu(6))
    c.add("prelu_rank3", "prelu", {"x": randn(2, 4, 7)}, prelu(4))
    # `init` only sets the starting slope; the weights are stored as initialized
    c.add("prelu_init", "prelu: {init: 0.1}", {"x": x}, nn.PReLU(num_parameters=3, init=0.1))
    c.add("prelu_shared_init", "prelu: {shared: true, init: 0.3}", {"x": x},
          nn.PReLU(num_parameters=1, init=0.3))


def softmax_cases(c):
    x = randn(2, 5, 3, 4, scale=2.0)
    x2 = randn(2, 7, scale=3.0)
    for op, cls in (("softmax", nn.Softmax), ("log_softmax", nn.LogSoftmax)):
        c.add(f"{op}", op, {"x": x2}, forward=lambda m, v, cls=cls: cls(dim=-1)(v))
        c.add(f"{op}_axis1", f"{op}: 1", {"x": x}, forward=lambda m, v, cls=cls: cls(dim=1)(v))
        c.add(f"{op}_axis_last", f"{op}: -1", {"x": x}, forward=lambda m, v, cls=cls: cls(dim=-1)(v))
        c.add(f"{op}_axis2_map", f"{op}: {{axis: 2}}", {"x": x},
              forward=lambda m, v, cls=cls: cls(dim=2)(v))
        c.add(f"{op}_axis_neg3", f"{op}: -3", {"x": x}, forward=lambda m, v, cls=cls: cls(dim=-3)(v))
        c.add(f"{op}_axis0", f"{op}: 0", {"x": x2}, forward=lambda m, v, cls=cls: cls(dim=0)(v))
        # logits around 80, some past 88.7: a naive exp overflows float32
        c.add(f"{op}_large", f"{op}: 1", {"x": randn(2, 6, 3, scale=5.0) + 80.0},
              forward=lambda m, v, cls=cls: cls(dim=1)(v))


def shape_cases(c):
    x = randn(2, 3, 4, 5)
    c.add("flatten", "flatten", {"x": x}, forward=lambda m, v: nn.Flatten()(v))
    c.add("flatten_start1", "flatten: 1", {"x": x}, forward=lambda m, v: nn.Flatten(1)(v))
    c.add("flatten_start2", "flatten: 2", {"x": x}, forward=lambda m, v: nn.Flatten(2)(v))
    c.add("flatten_start3_map", "flatten: {start: 3}", {"x": x}, forward=lambda m, v: nn.Flatten(3)(v))
    c.add("flatten_start_negative", "flatten: -2", {"x": x}, forward=lambda m, v: nn.Flatten(-2)(v))
    c.add("flatten_start0", "flatten: 0", {"x": x}, forward=lambda m, v: nn.Flatten(0)(v))
    c.add("flatten_rank2", "flatten", {"x": randn(2, 6)}, forward=lambda m, v: nn.Flatten()(v))

    c.add("reshape_infer_last", "reshape: [2, -1]", {"x": x}, forward=lambda m, v: v.reshape(2, -1))
    c.add("reshape_infer_middle", "reshape: [2, 4, -1, 5]", {"x": x},
          forward=lambda m, v: v.reshape(2, 4, -1, 5))
    c.add("reshape_infer_first", "reshape: [-1, 10]", {"x": x}, forward=lambda m, v: v.reshape(-1, 10))
    c.add("reshape_explicit", "reshape: {shape: [6, 2, 10]}", {"x": x},
          forward=lambda m, v: v.reshape(6, 2, 10))
    c.add("reshape_to_map", "reshape: [2, 3, 2, 4]", {"x": randn(2, 24)},
          forward=lambda m, v: v.reshape(2, 3, 2, 4))

    c.add("permute_nhwc", "permute: [0, 2, 3, 1]", {"x": x}, forward=lambda m, v: v.permute(0, 2, 3, 1))
    c.add("permute_nchw", "permute: [0, 3, 1, 2]", {"x": randn(2, 4, 5, 3)},
          forward=lambda m, v: v.permute(0, 3, 1, 2))
    c.add("permute_reverse", "permute: {axes: [3, 2, 1, 0]}", {"x": x},
          forward=lambda m, v: v.permute(3, 2, 1, 0))
    c.add("permute_rank3", "permute: [0, 2, 1]", {"x": randn(2, 3, 7)},
          forward=lambda m, v: v.permute(0, 2, 1))
    c.add("permute_negative_axes", "permute: [0, -1, 1, -2]", {"x": x},
          forward=lambda m, v: v.permute(0, -1, 1, -2))
    c.add("permute_swap_hw", "permute: [0, 1, 3, 2]", {"x": x}, forward=lambda m, v: v.permute(0, 1, 3, 2))

    a = randn(2, 3, 4, 5)
    cat = lambda dim: (lambda m, *vs: torch.cat(vs, dim=dim))
    c.add("concat", "concat", {"a": a, "b": randn(2, 2, 4, 5)}, forward=cat(1), sources=["a", "b"])
    c.add("concat_axis1", "concat: 1", {"a": a, "b": randn(2, 4, 4, 5)}, forward=cat(1),
          sources=["a", "b"])
    c.add("concat_axis2", "concat: 2", {"a": a, "b": randn(2, 3, 2, 5)}, forward=cat(2),
          sources=["a", "b"])
    c.add("concat_axis_last", "concat: {axis: -1}", {"a": a, "b": randn(2, 3, 4, 3)},
          forward=cat(-1), sources=["a", "b"])
    c.add("concat_axis0", "concat: 0", {"a": a, "b": randn(1, 3, 4, 5)}, forward=cat(0),
          sources=["a", "b"])
    c.add("concat_three", "concat: 1", {"a": a, "b": randn(2, 1, 4, 5), "c": randn(2, 2, 4, 5)},
          forward=cat(1), sources=["a", "b", "c"])
    c.add("concat_rank2", "concat", {"a": randn(2, 3), "b": randn(2, 5)}, forward=cat(1),
          sources=["a", "b"])
    c.add("concat_same_input", "concat: 1", {"a": a}, forward=lambda m, v: torch.cat([v, v], 1),
          sources=["a", "a"])

    b = randn(2, 3, 4, 5)
    c.add("add", "add", {"a": a, "b": b}, forward=lambda m, u, v: u + v, sources=["a", "b"])
    c.add("add_three", "add", {"a": a, "b": b, "c": randn(2, 3, 4, 5)},
          forward=lambda m, u, v, w: u + v + w, sources=["a", "b", "c"])
    c.add("add_rank2", "add", {"a": randn(2, 6), "b": randn(2, 6)},
          forward=lambda m, u, v: u + v, sources=["a", "b"])
    c.add("mul", "mul", {"a": a, "b": b}, forward=lambda m, u, v: u * v, sources=["a", "b"])
    c.add("mul_three", "mul", {"a": a, "b": b, "c": randn(2, 3, 4, 5)},
          forward=lambda m, u, v, w: u * v * w, sources=["a", "b", "c"])
    c.add("mul_square", "mul", {"a": a}, forward=lambda m, v: v * v, sources=["a", "a"])

    c.add("scale", "scale: 0.5", {"x": x}, forward=lambda m, v: v * 0.5)
    c.add("scale_negative", "scale: -1.75", {"x": x}, forward=lambda m, v: v * -1.75)
    c.add("scale_map", "scale: {factor: 0.1}", {"x": x}, forward=lambda m, v: v * 0.1)
    c.add("scale_integer_valued", "scale: 3.0", {"x": x}, forward=lambda m, v: v * 3.0)


def pad_cases(c):
    x = randn(2, 3, 5, 6)

    def fpad(amount):
        # Strata's amount -> F.pad's (left, right, top, bottom)
        if isinstance(amount, int):
            return (amount,) * 4
        if len(amount) == 2:
            h, w = amount
            return (w, w, h, h)
        top, bottom, left, right = amount
        return (left, right, top, bottom)

    cases = [
        ("zeros_int", 1, None),
        ("zeros_hw", [1, 2], None),
        ("zeros_tblr", [0, 1, 2, 3], None),
        ("zeros_tblr_big", [3, 0, 1, 7], None),
        ("reflect_int", 2, "reflect"),
        ("reflect_hw", [1, 3], "reflect"),
        ("reflect_tblr", [1, 0, 2, 3], "reflect"),
        ("reflect_max", [4, 4, 5, 5], "reflect"),
        ("replicate_int", 1, "replicate"),
        ("replicate_hw", [2, 1], "replicate"),
        ("replicate_tblr", [2, 1, 0, 3], "replicate"),
        ("replicate_beyond_size", [7, 6, 8, 2], "replicate"),
    ]
    for suffix, amount, mode in cases:
        text = str(amount).replace("'", "")
        entry = f"pad: {text}" if mode is None else f"pad: {{amount: {text}, mode: {mode}}}"
        torch_mode = mode or "constant"
        c.add(f"pad_{suffix}", entry, {"x": x},
              forward=lambda m, v, a=fpad(amount), tm=torch_mode: F.pad(v, a, mode=tm))
    c.add("pad_zeros_explicit", "pad: {amount: [2, 1, 1, 0], mode: zeros}", {"x": x},
          forward=lambda m, v: F.pad(v, (1, 0, 2, 1), mode="constant", value=0.0))


def resize_cases(c):
    x = randn(2, 3, 4, 5)
    ups = [
        ("nearest", "upsample", dict(scale_factor=2, mode="nearest")),
        ("nearest_s3", "upsample: 3", dict(scale_factor=3, mode="nearest")),
        ("nearest_s2x3", "upsample: [2, 3]", dict(scale_factor=(2, 3), mode="nearest")),
        ("nearest_explicit", "upsample: {scale: 2, mode: nearest}", dict(scale_factor=2, mode="nearest")),
    ]
    for scale_text, scale in (("2", 2), ("3", 3), ("[2, 3]", (2, 3)), ("[3, 1]", (3, 1))):
        suffix = "s" + "x".join(str(s) for s in (scale if isinstance(scale, tuple) else (scale,)))
        ups.append((f"bilinear_{suffix}", f"upsample: {{scale: {scale_text}, mode: bilinear}}",
                    dict(scale_factor=scale, mode="bilinear", align_corners=False)))
        ups.append((f"bilinear_{suffix}_align", f"upsample: {{scale: {scale_text}, mode: bilinear, "
                    "align_corners: true}", dict(scale_factor=scale, mode="bilinear", align_corners=True)))
    ups.append(("bilinear_s2_align_false", "upsample: {scale: 2, mode: bilinear, align_corners: false}",
                dict(scale_factor=2, mode="bilinear", align_corners=False)))
    for suffix, entry, kwargs in ups:
        c.add(f"upsample_{suffix}", entry, {"x": x},
              forward=lambda m, v, kwargs=kwargs: nn.Upsample(**kwargs)(v))
    # a 1-pixel-wide map: align_corners true divides by (in - 1) = 0 in a naive kernel
    c.add("upsample_bilinear_from_1x1_align", "upsample: {scale: 3, mode: bilinear, align_corners: true}",
          {"x": randn(2, 3, 1, 2)},
          forward=lambda m, v: nn.Upsample(scale_factor=3, mode="bilinear", align_corners=True)(v))
    c.add("upsample_bilinear_from_1x1", "upsample: {scale: 3, mode: bilinear}",
          {"x": randn(2, 3, 1, 2)},
          forward=lambda m, v: nn.Upsample(scale_factor=3, mode="bilinear")(v))

    c.add("pixel_shuffle_r2", "pixel_shuffle: 2", {"x": randn(2, 12, 3, 4)},
          forward=lambda m, v: nn.PixelShuffle(2)(v))
    c.add("pixel_shuffle_r3", "pixel_shuffle: 3", {"x": randn(2, 18, 3, 4)},
          forward=lambda m, v: nn.PixelShuffle(3)(v))
    c.add("pixel_shuffle_r2_map", "pixel_shuffle: {factor: 2}", {"x": randn(2, 4, 5, 3)},
          forward=lambda m, v: nn.PixelShuffle(2)(v))
    c.add("pixel_shuffle_r1", "pixel_shuffle: 1", {"x": randn(2, 3, 2, 3)},
          forward=lambda m, v: nn.PixelShuffle(1)(v))


def reparameterize_case(c):
    mu, logvar, eps = randn(2, 6), randn(2, 6), randn(2, 6)
    c.add("reparameterize", "reparameterize", {"mu": mu, "logvar": logvar},
          forward=lambda m, u, lv: u + torch.exp(lv / 2) * eps.double(),
          sources=["mu", "logvar"], extra={"reparameterize.eps": eps})


CATALOG = ["conv1d", "conv2d", "conv_transpose2d", "linear", "embedding", "max_pool1d",
           "avg_pool1d", "max_pool2d", "avg_pool2d", "global_avg_pool", "global_max_pool",
           "batch_norm", "instance_norm", "group_norm", "layer_norm", "dropout", "relu",
           "sigmoid", "tanh", "silu", "elu", "gelu", "leaky_relu", "prelu", "softmax",
           "log_softmax", "flatten", "reshape", "permute", "concat", "add", "mul", "scale",
           "pad", "upsample", "pixel_shuffle", "reparameterize"]


def op_of(spec):
    return re.search(r"^  - (\w+)", spec, re.M).group(1)


def make_op_fixtures(problems):
    torch.manual_seed(20240601)
    c = Cases()
    for make in (conv_cases, linear_cases, embedding_cases, pool_cases, norm_cases,
                 activation_cases, softmax_cases, shape_cases, pad_cases, resize_cases,
                 reparameterize_case):
        make(c)

    tensors = {}
    listing = []
    counts = {op: 0 for op in CATALOG}
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec, inputs, params, out, extra in c.cases:
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(spec, encoding="utf-8")
            ir = strata_ir(path)
            net = ir.get(name)
            if net is None or len(ir) != 1:
                problems.append(f"ops/{name}: expected one network named {name}, got {list(ir)}")
                continue
            compare(f"ops/{name} inputs", net["inputs"], signature(inputs), problems)
            compare(f"ops/{name} parameters", net["params"], signature(params), problems)
            compare(f"ops/{name} outputs", net["outputs"], signature({"y": out}), problems)
            if not torch.isfinite(out).all():
                problems.append(f"ops/{name}: output is not finite")
            for k, v in inputs.items():
                tensors[f"{name}.in.{k}"] = v.clone().contiguous()
            for k, v in params.items():
                tensors[f"{name}.param.{k}"] = v.clone().contiguous()
            tensors[f"{name}.out.y"] = out
            tensors.update(extra)
            listing.append({"name": name, "spec": spec, "tolerance": TOLERANCE})
            counts[op_of(spec)] += 1

    for op, n in counts.items():
        if n == 0:
            problems.append(f"ops: no case for {op}")
    OPS_DIR.mkdir(parents=True, exist_ok=True)
    (OPS_DIR / "cases.json").write_text(json.dumps(listing, indent=1) + "\n", encoding="utf-8")
    tensor_path = OPS_DIR / "tensors.safetensors"
    save(tensors, tensor_path)
    size = tensor_path.stat().st_size
    if size > OPS_LIMIT:
        problems.append(f"{tensor_path.name}: {size} bytes, over {OPS_LIMIT}")
    return counts, len(listing), size


# --------------------------------------------------------------------------
# Whole-model fixtures


def randomize_model(module):
    """Kaiming-normal weights (so activations keep their scale through the
    layers and outputs are not all near 0 or 0.5), biases N(0, 0.1), and
    batch norm affine parameters and running statistics as in a trained model."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.ConvTranspose2d):
                # each output sums in/groups * kh*kw / (sh*sw) terms on average
                kh, kw = m.kernel_size
                fan_in = m.in_channels // m.groups * kh * kw / (m.stride[0] * m.stride[1])
                m.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
            elif isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(100)
            elif hasattr(m, "bias") and isinstance(m.bias, torch.Tensor):
                m.bias.normal_(0.0, 0.1)
    return module


def rounded(state, dtype):
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}


MODELS = [
    # spec, network, uses `networks:`, module factory, inputs {name: (shape, kind)},
    # output names, storage dtype. Images are U(0, 1) pixels, latent codes N(0, 1).
    ("lenet5", "lenet5", False, lambda: ref.lenet5(), {"image": ((2, 1, 28, 28), "pixels")},
     ["logits"], torch.float32),
    ("dcgan-mnist", "generator", True, lambda: ref.dcgan_mnist_generator(),
     {"z": ((2, 100, 1, 1), "normal")}, ["image"], torch.bfloat16),
    ("dcgan-mnist", "discriminator", True, lambda: ref.dcgan_mnist_discriminator(),
     {"image": ((2, 1, 28, 28), "signed_pixels")}, ["real"], torch.float16),
    ("vae-mnist", "encoder", True, lambda: ref.VAEEncoder(), {"image": ((2, 1, 28, 28), "pixels")},
     ["mu", "logvar"], torch.float32),
    ("vae-mnist", "decoder", True, lambda: ref.vae_decoder(), {"z": ((2, 20), "normal")},
     ["image"], torch.float32),
    ("espcn-x3", "espcn-x3", False, lambda: ref.espcn(), {"y": ((1, 1, 12, 10), "pixels")},
     ["y_hr"], torch.float32),
]


def model_input(shape, kind):
    if kind == "normal":
        return torch.randn(*shape)
    if kind == "pixels":
        return torch.rand(*shape)
    return torch.rand(*shape) * 2 - 1  # a tanh generator's range, as the discriminator sees it


def make_model_fixtures(problems):
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for index, (spec, network, prefixed, factory, input_shapes, output_names, dtype) in enumerate(MODELS):
        torch.manual_seed(1000 + index)
        module = randomize_model(factory()).eval()
        prefix = network + "." if prefixed else ""
        stored = rounded({prefix + k: v.detach().clone().contiguous()
                          for k, v in module.state_dict().items()}, dtype)
        # forward with exactly the stored values
        module.load_state_dict({k[len(prefix):]: v.float() if v.is_floating_point() else v
                                for k, v in stored.items()})
        inputs = {name: model_input(shape, kind) for name, (shape, kind) in input_shapes.items()}
        with torch.no_grad():
            result = module.double()(*(v.double() for v in inputs.values()))
        results = result if isinstance(result, tuple) else (result,)
        outputs = {name: r.float().contiguous() for name, r in zip(output_names, results)}

        # the spec's own names, dtypes and shapes
        first = next(iter(inputs.values()))
        dims = [f"N={first.shape[0]}"]
        if spec == "espcn-x3":
            dims += [f"H={first.shape[2]}", f"W={first.shape[3]}"]
        ir = strata_ir(ROOT / "Specs" / f"{spec}.yaml", "--network", network, "--dims", ",".join(dims))
        net = ir.get(network, {"inputs": {}, "params": {}, "outputs": {}})
        compare(f"{spec}/{network} inputs", net["inputs"], signature(inputs), problems)
        compare(f"{spec}/{network} outputs", net["outputs"], signature(outputs), problems)
        compare(f"{spec}/{network} parameters", net["params"],
                signature({k: v.float() if v.is_floating_point() else v for k, v in stored.items()}),
                problems)

        base = MODELS_DIR / f"{spec}-{network}"
        weights_path = Path(f"{base}.weights.safetensors")
        io_path = Path(f"{base}.io.safetensors")
        save(stored, weights_path)
        io = {f"in.{k}": v.contiguous() for k, v in inputs.items()}
        io.update({f"out.{k}": v for k, v in outputs.items()})
        save(io, io_path)
        for path in (weights_path, io_path):
            sizes[path.name] = path.stat().st_size
            if sizes[path.name] > MODEL_LIMIT:
                problems.append(f"{path.name}: {sizes[path.name]} bytes, over {MODEL_LIMIT}")
    return sizes


def main():
    if not STRATA.exists():
        print(f"make-reference-fixtures: {STRATA} not found; build strata first", file=sys.stderr)
        return 1
    torch.use_deterministic_algorithms(True)
    warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")
    problems = []
    counts, total, ops_size = make_op_fixtures(problems)
    sizes = make_model_fixtures(problems)

    for op, n in counts.items():
        print(f"{op:<18} {n:>3}")
    print(f"{'total':<18} {total:>3} cases, tensors.safetensors {ops_size:,} bytes")
    for name, size in sizes.items():
        print(f"{name:<45} {size:>10,} bytes")
    for problem in problems:
        print(f"make-reference-fixtures: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
