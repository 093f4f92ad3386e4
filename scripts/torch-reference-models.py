"""PyTorch reference models for the specs in Specs/, and their parameter names.

Each of the 13 models of the library is written here a second time, by hand,
as a PyTorch user would write it (nn.Sequential for chains, small nn.Module
subclasses where values branch and join), from the paper or reference code
its spec's header comment names. Nothing is read from the YAML: the point is
an independent reference. The modules are registered so that their
state_dict keys follow Strata's naming rule (docs/spec-language.md, section 9):

  - a layer is keyed by its position in `layers`, counting every entry from 0
    (activations, pooling, add, concat, ... included), or by its `name`;
  - `repeat: k` is an nn.Sequential of the k copies: `<index>.<0..k-1>`;
  - a block use is a module whose children are keyed the same way, so a
    repeated block gives `<index>.<copy>.<inner>.<param>`;
  - ops that PyTorch users write inline in forward() (add, scale, concat,
    permute) have no module, but the index they occupy is left unused;
  - `<network>.` is prefixed when the spec has `networks:` and not for the
    top-level single-network shorthand (whose network is named after the spec).

For every network the script records the trainable parameter count (the sum
of p.numel() over parameters(), as torch and torchinfo count), the number of
buffer elements (sum of b.numel() over buffers(): batch norm's running_mean,
running_var and the int64 scalar num_batches_tracked), and the state_dict as
{key: shape}. It writes Tests/StrataTests/Fixtures/torch-parameters.json:

  {"<spec name>": {"<network name>": {"trainable": int, "buffers": int,
                                       "state_dict": {"<key>": [dims...]}}}}

and prints a table. Every model also runs one forward pass on a small input,
and the script stops if an output shape differs from the spec's declared
output, if a count differs from a figure the project already quotes (LeNet-5,
DCGAN-64, SRCNN), or if a spec in Specs/ has no reference model here.

CI does not run this script (it needs PyTorch); the JSON it writes is
committed, and the Swift tests compare the compiler's parameter names, shapes
and counts with it. Rerun it by hand after adding or changing a spec:

  python3 scripts/torch-reference-models.py            # from the repository root
  python3 scripts/torch-reference-models.py --check    # compare, do not write

Written against torch 2.9; any torch >= 1.13 should give the same file.
"""
import argparse
import json
import re
import sys
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "Specs"
OUTPUT = ROOT / "Tests" / "StrataTests" / "Fixtures" / "torch-parameters.json"


# --------------------------------------------------------------------------
# Helpers


class Graph(nn.Module):
    """A module whose children are keyed like Strata layer entries.

    Children with an index as key are registered with add_module("3", ...)
    (a Python attribute cannot be named 3) and read back as self[3]; named
    entries are ordinary attributes (self.head, self.body).
    """

    def __getitem__(self, key):
        return self._modules[str(key)]

    def layer(self, key, module):
        self.add_module(str(key), module)


class GlobalAvgPool(nn.Module):
    """global_avg_pool: [N, C, ...] -> [N, C]."""

    def forward(self, x):
        return x.mean(dim=tuple(range(2, x.dim())))


def repeat(k, make):
    """`repeat: k`: k copies with their own weights, keyed 0..k-1."""
    return nn.Sequential(*(make() for _ in range(k)))


# --------------------------------------------------------------------------
# LeNet-5 (LeCun et al. 1998), tutorial form: ReLU, max pooling, 28x28 + pad 2.


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),  # 0  C1
        nn.ReLU(),  # 1
        nn.MaxPool2d(2),  # 2  S2
        nn.Conv2d(6, 16, 5),  # 3  C3
        nn.ReLU(),  # 4
        nn.MaxPool2d(2),  # 5  S4
        nn.Flatten(),  # 6
        nn.Linear(16 * 5 * 5, 120),  # 7  C5
        nn.ReLU(),  # 8
        nn.Linear(120, 84),  # 9  F6
        nn.ReLU(),  # 10
        nn.Linear(84, 10),  # 11
    )


# --------------------------------------------------------------------------
# DCGAN (Radford et al. 2015), as in pytorch/examples dcgan/main.py.


def dcgan64_generator(nz=100, ngf=64, nc=3):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),  # 4x4
        nn.BatchNorm2d(ngf * 8),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),  # 8x8
        nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # 16x16
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),  # 32x32
        nn.BatchNorm2d(ngf),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),  # 64x64
        nn.Tanh(),
    )


def dcgan64_discriminator(ndf=64, nc=3):
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # 32x32
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # 16x16
        nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),  # 8x8
        nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),  # 4x4
        nn.BatchNorm2d(ndf * 8),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),  # 1x1
        nn.Sigmoid(),
        nn.Flatten(),  # [N, 1]
    )


# DCGAN for 28x28 digits: 7x7 seed map, two stride-2 doublings; mirrored critic.


def dcgan_mnist_generator(nz=100, ngf=64):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False),  # 7x7
        nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),  # 14x14
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False),  # 28x28
        nn.Tanh(),
    )


def dcgan_mnist_discriminator(ndf=64):
    return nn.Sequential(
        nn.Conv2d(1, ndf, 4, 2, 1, bias=False),  # 14x14
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # 7x7
        nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False),  # 1x1
        nn.Sigmoid(),
        nn.Flatten(),
    )


# --------------------------------------------------------------------------
# EDSR baseline x2 (Lim et al. 2017): 16 plain residual blocks of 64 channels,
# global skip, conv + pixel shuffle upsampler, 3-channel tail. No mean shift.


class EDSRResBlock(nn.Sequential):
    # 0 conv, 1 relu, 2 conv, 3 scale (named body), 4 add(input, body)
    def __init__(self, channels, res_scale=1.0):
        super().__init__(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )
        self.res_scale = res_scale

    def forward(self, x):
        return x + super().forward(x) * self.res_scale


class EDSR(Graph):
    def __init__(self, feats=64, scale=2, n_resblocks=16):
        super().__init__()
        self.head = nn.Conv2d(3, feats, 3, padding=1)  # 0, head
        self.layer(1, repeat(n_resblocks, lambda: EDSRResBlock(feats)))
        self.body = nn.Conv2d(feats, feats, 3, padding=1)  # 2, body
        # 3: add(head, body)
        self.layer(4, nn.Conv2d(feats, feats * scale * scale, 3, padding=1))
        self.layer(5, nn.PixelShuffle(scale))
        self.layer(6, nn.Conv2d(feats, 3, 3, padding=1))

    def forward(self, x):
        head = self.head(x)
        y = head + self.body(self[1](head))
        return self[6](self[5](self[4](y)))


# --------------------------------------------------------------------------
# ESPCN x3 (Shi et al. 2016): (5, 64), (3, 32), 3x3 to r*r channels, tanh.


def espcn(scale=3):
    return nn.Sequential(
        nn.Conv2d(1, 64, 5, padding=2),
        nn.Tanh(),
        nn.Conv2d(64, 32, 3, padding=1),
        nn.Tanh(),
        nn.Conv2d(32, scale * scale, 3, padding=1),
        nn.PixelShuffle(scale),
    )


# --------------------------------------------------------------------------
# Fast style transfer (Johnson et al. 2016), pytorch/examples
# fast_neural_style/transformer_net.py's TransformerNet.


class ConvLayer(nn.Sequential):
    # block `conv`: 0 reflection pad, 1 conv
    def __init__(self, cin, cout, kernel=3, stride=1):
        super().__init__(
            nn.ReflectionPad2d(kernel // 2),
            nn.Conv2d(cin, cout, kernel, stride),
        )


class ConvINReLU(nn.Sequential):
    # block `conv_in_relu`: 0 conv, 1 instance norm, 2 relu
    def __init__(self, cin, cout, kernel=3, stride=1):
        super().__init__(
            ConvLayer(cin, cout, kernel, stride),
            nn.InstanceNorm2d(cout, affine=True),
            nn.ReLU(),
        )


class StyleResidual(Graph):
    # block `residual`: 0 conv, 1 in, 2 relu, 3 conv, 4 in (body), 5 add
    def __init__(self, channels=128):
        super().__init__()
        self.layer(0, ConvLayer(channels, channels))
        self.layer(1, nn.InstanceNorm2d(channels, affine=True))
        self.layer(2, nn.ReLU())
        self.layer(3, ConvLayer(channels, channels))
        self.body = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x):
        return x + self.body(self[3](self[2](self[1](self[0](x)))))


class UpConvINReLU(nn.Sequential):
    # block `up_conv_in_relu`: 0 nearest upsample x2, 1 conv_in_relu
    def __init__(self, cin, cout):
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), ConvINReLU(cin, cout))


def transformer_net():
    return nn.Sequential(
        ConvINReLU(3, 32, kernel=9),  # 0
        ConvINReLU(32, 64, stride=2),  # 1  H/2
        ConvINReLU(64, 128, stride=2),  # 2  H/4
        repeat(5, lambda: StyleResidual(128)),  # 3
        UpConvINReLU(128, 64),  # 4  H/2
        UpConvINReLU(64, 32),  # 5  H
        ConvLayer(32, 3, kernel=9),  # 6
    )


# --------------------------------------------------------------------------
# MobileNet v1 (Howard et al. 2017) for CIFAR-10: first conv at stride 1.


class Separable(nn.Sequential):
    # 0 depthwise conv, 1 bn, 2 relu, 3 pointwise conv, 4 bn, 5 relu
    def __init__(self, cin, cout, stride=1):
        super().__init__(
            nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
            nn.BatchNorm2d(cin),
            nn.ReLU(True),
            nn.Conv2d(cin, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(True),
        )


def mobilenet_cifar(classes=10):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1, bias=False),  # 0
        nn.BatchNorm2d(32),  # 1
        nn.ReLU(True),  # 2
        Separable(32, 64),  # 3
        Separable(64, 128, 2),  # 4  16x16
        Separable(128, 128),  # 5
        Separable(128, 256, 2),  # 6  8x8
        Separable(256, 256),  # 7
        Separable(256, 512, 2),  # 8  4x4
        repeat(5, lambda: Separable(512, 512)),  # 9
        Separable(512, 1024, 2),  # 10 2x2
        Separable(1024, 1024),  # 11
        GlobalAvgPool(),  # 12
        nn.Linear(1024, classes),  # 13
    )


# --------------------------------------------------------------------------
# ResNet-20 for CIFAR-10 (He et al. 2016, section 4.2), projection shortcuts
# (option B) where the shape changes, as the spec says.


class BasicBlock(Graph):
    # 0 conv, 1 bn, 2 relu, 3 conv, 4 bn (body), 5 add(body, input), 6 relu
    def __init__(self, channels):
        super().__init__()
        self.layer(0, nn.Conv2d(channels, channels, 3, padding=1, bias=False))
        self.layer(1, nn.BatchNorm2d(channels))
        self.layer(2, nn.ReLU(True))
        self.layer(3, nn.Conv2d(channels, channels, 3, padding=1, bias=False))
        self.body = nn.BatchNorm2d(channels)
        self.layer(6, nn.ReLU(True))

    def forward(self, x):
        body = self.body(self[3](self[2](self[1](self[0](x)))))
        return self[6](body + x)


class DownsampleBlock(Graph):
    # 0 conv/2, 1 bn, 2 relu, 3 conv, 4 bn (body), 5 1x1 conv/2 of the input,
    # 6 bn (shortcut), 7 add(body, shortcut), 8 relu
    def __init__(self, cin, cout):
        super().__init__()
        self.layer(0, nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False))
        self.layer(1, nn.BatchNorm2d(cout))
        self.layer(2, nn.ReLU(True))
        self.layer(3, nn.Conv2d(cout, cout, 3, padding=1, bias=False))
        self.body = nn.BatchNorm2d(cout)
        self.layer(5, nn.Conv2d(cin, cout, 1, stride=2, bias=False))
        self.shortcut = nn.BatchNorm2d(cout)
        self.layer(8, nn.ReLU(True))

    def forward(self, x):
        body = self.body(self[3](self[2](self[1](self[0](x)))))
        shortcut = self.shortcut(self[5](x))
        return self[8](body + shortcut)


def resnet20_cifar(classes=10):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False),  # 0
        nn.BatchNorm2d(16),  # 1
        nn.ReLU(True),  # 2
        repeat(3, lambda: BasicBlock(16)),  # 3  32x32
        DownsampleBlock(16, 32),  # 4  16x16
        repeat(2, lambda: BasicBlock(32)),  # 5
        DownsampleBlock(32, 64),  # 6  8x8
        repeat(2, lambda: BasicBlock(64)),  # 7
        GlobalAvgPool(),  # 8
        nn.Linear(64, classes),  # 9
    )


# --------------------------------------------------------------------------
# SRCNN 9-1-5 (Dong et al. 2014), n1 = 64, n2 = 32, size-keeping padding.


def srcnn():
    return nn.Sequential(
        nn.Conv2d(1, 64, 9, padding=4),
        nn.ReLU(True),
        nn.Conv2d(64, 32, 1),
        nn.ReLU(True),
        nn.Conv2d(32, 1, 5, padding=2),
    )


# --------------------------------------------------------------------------
# SRResNet x4 (Ledig et al. 2017). PReLU with one slope per channel (the
# spec's prelu default; nn.PReLU() alone would share a single slope).


class SRResidual(Graph):
    # 0 conv, 1 bn, 2 prelu, 3 conv, 4 bn (body), 5 add(input, body)
    def __init__(self, feats=64):
        super().__init__()
        self.layer(0, nn.Conv2d(feats, feats, 3, padding=1))
        self.layer(1, nn.BatchNorm2d(feats))
        self.layer(2, nn.PReLU(num_parameters=feats))
        self.layer(3, nn.Conv2d(feats, feats, 3, padding=1))
        self.body = nn.BatchNorm2d(feats)

    def forward(self, x):
        return x + self.body(self[3](self[2](self[1](self[0](x)))))


class UpsampleX2(nn.Sequential):
    # 0 conv to 4*feats, 1 pixel shuffle x2, 2 prelu (on feats channels)
    def __init__(self, feats=64):
        super().__init__(
            nn.Conv2d(feats, feats * 4, 3, padding=1),
            nn.PixelShuffle(2),
            nn.PReLU(num_parameters=feats),
        )


class SRResNet(Graph):
    def __init__(self, feats=64, n_blocks=16):
        super().__init__()
        self.layer(0, nn.Conv2d(3, feats, 9, padding=4))
        self.head = nn.PReLU(num_parameters=feats)  # 1, head
        self.layer(2, repeat(n_blocks, lambda: SRResidual(feats)))
        self.layer(3, nn.Conv2d(feats, feats, 3, padding=1))
        self.body = nn.BatchNorm2d(feats)  # 4, body
        # 5: add(head, body)
        self.layer(6, repeat(2, lambda: UpsampleX2(feats)))
        self.layer(7, nn.Conv2d(feats, 3, 9, padding=4))

    def forward(self, x):
        head = self.head(self[0](x))
        y = head + self.body(self[3](self[2](head)))
        return self[7](self[6](y))


# --------------------------------------------------------------------------
# TextCNN (Kim 2014): static-width single-channel model, windows 3/4/5 x 100.


class TextCNN(Graph):
    # 0 embedding, 1 permute (words), 2 conv k3, 3 relu, 4 max (width3),
    # 5 conv k4, 6 relu, 7 max (width4), 8 conv k5, 9 relu, 10 max (width5),
    # 11 concat, 12 dropout, 13 linear
    def __init__(self, vocab=20000, embed=300, filters=100, classes=2):
        super().__init__()
        self.layer(0, nn.Embedding(vocab, embed))
        for index, width in ((2, 3), (5, 4), (8, 5)):
            self.layer(index, nn.Conv1d(embed, filters, width))
            self.layer(index + 1, nn.ReLU())
        self.layer(12, nn.Dropout(0.5))
        self.layer(13, nn.Linear(3 * filters, classes))

    def forward(self, tokens):
        words = self[0](tokens).permute(0, 2, 1)
        pooled = [self[i + 1](self[i](words)).amax(dim=2) for i in (2, 5, 8)]
        return self[13](self[12](torch.cat(pooled, dim=1)))


# --------------------------------------------------------------------------
# Convolutional VAE for MNIST (Kingma and Welling 2014 objective).


class VAEEncoder(Graph):
    # 0 conv, 1 relu, 2 conv, 3 relu, 4 flatten (features), 5 mu, 6 logvar
    def __init__(self, latent=20):
        super().__init__()
        self.layer(0, nn.Conv2d(1, 32, 4, 2, 1))
        self.layer(1, nn.ReLU())
        self.layer(2, nn.Conv2d(32, 64, 4, 2, 1))
        self.layer(3, nn.ReLU())
        self.features = nn.Flatten()
        self.mu = nn.Linear(64 * 7 * 7, latent)
        self.logvar = nn.Linear(64 * 7 * 7, latent)

    def forward(self, image):
        features = self.features(self[3](self[2](self[1](self[0](image)))))
        return self.mu(features), self.logvar(features)


def vae_decoder(latent=20):
    return nn.Sequential(
        nn.Linear(latent, 64 * 7 * 7),
        nn.Unflatten(1, (64, 7, 7)),
        nn.ConvTranspose2d(64, 32, 4, 2, 1),  # 14x14
        nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1),  # 28x28
        nn.Sigmoid(),
    )


# --------------------------------------------------------------------------
# VGG-11 (configuration A) with batch norm, for 32x32 CIFAR-10.


class ConvBNReLU(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(True))


def vgg11_bn_cifar(classes=10):
    return nn.Sequential(
        ConvBNReLU(3, 64),  # 0
        nn.MaxPool2d(2),  # 1  16x16
        ConvBNReLU(64, 128),  # 2
        nn.MaxPool2d(2),  # 3  8x8
        nn.Sequential(ConvBNReLU(128, 256), ConvBNReLU(256, 256)),  # 4
        nn.MaxPool2d(2),  # 5  4x4
        nn.Sequential(ConvBNReLU(256, 512), ConvBNReLU(512, 512)),  # 6
        nn.MaxPool2d(2),  # 7  2x2
        nn.Sequential(ConvBNReLU(512, 512), ConvBNReLU(512, 512)),  # 8
        nn.MaxPool2d(2),  # 9  1x1
        nn.Flatten(),  # 10
        nn.Linear(512, classes),  # 11
    )


# --------------------------------------------------------------------------
# The library: spec name -> (uses `networks:`, {network: (module, example
# input, expected output shapes)}).


def image(*shape):
    return torch.randn(*shape)


def models():
    return {
        "lenet5": (False, {"lenet5": (lenet5(), image(2, 1, 28, 28), [(2, 10)])}),
        "dcgan-64": (True, {
            "generator": (dcgan64_generator(), image(2, 100, 1, 1), [(2, 3, 64, 64)]),
            "discriminator": (dcgan64_discriminator(), image(2, 3, 64, 64), [(2, 1)]),
        }),
        "dcgan-mnist": (True, {
            "generator": (dcgan_mnist_generator(), image(2, 100, 1, 1), [(2, 1, 28, 28)]),
            "discriminator": (dcgan_mnist_discriminator(), image(2, 1, 28, 28), [(2, 1)]),
        }),
        "edsr-baseline-x2": (False, {
            "edsr-baseline-x2": (EDSR(), image(1, 3, 12, 10), [(1, 3, 24, 20)]),
        }),
        "espcn-x3": (False, {"espcn-x3": (espcn(), image(1, 1, 10, 7), [(1, 1, 30, 21)])}),
        "fast-style-transfer": (False, {
            "fast-style-transfer": (transformer_net(), image(1, 3, 32, 20), [(1, 3, 32, 20)]),
        }),
        "mobilenet-cifar": (False, {
            "mobilenet-cifar": (mobilenet_cifar(), image(2, 3, 32, 32), [(2, 10)]),
        }),
        "resnet20-cifar": (False, {
            "resnet20-cifar": (resnet20_cifar(), image(2, 3, 32, 32), [(2, 10)]),
        }),
        "srcnn": (False, {"srcnn": (srcnn(), image(1, 1, 16, 9), [(1, 1, 16, 9)])}),
        "srresnet-x4": (False, {
            "srresnet-x4": (SRResNet(), image(1, 3, 6, 5), [(1, 3, 24, 20)]),
        }),
        "text-cnn": (False, {
            "text-cnn": (TextCNN(), torch.randint(0, 20000, (2, 7)), [(2, 2)]),
        }),
        "vae-mnist": (True, {
            "encoder": (VAEEncoder(), image(2, 1, 28, 28), [(2, 20), (2, 20)]),
            "decoder": (vae_decoder(), image(2, 20), [(2, 1, 28, 28)]),
        }),
        "vgg11-bn-cifar": (False, {
            "vgg11-bn-cifar": (vgg11_bn_cifar(), image(2, 3, 32, 32), [(2, 10)]),
        }),
    }


# Trainable parameter counts the project quotes elsewhere (spec comments, docs).
KNOWN = {
    ("lenet5", "lenet5"): 61_706,
    ("dcgan-64", "generator"): 3_576_704,
    ("dcgan-64", "discriminator"): 2_765_568,
    ("srcnn", "srcnn"): 8_129,
}


def spec_names():
    names = {}
    for path in sorted(SPECS.glob("*.y*ml")):
        match = re.search(r"^name:\s*([a-z0-9_-]+)\s*$", path.read_text(encoding="utf-8"), re.M)
        if match:
            names[match.group(1)] = path.name
    return names


def record(module, prefix):
    return {
        "trainable": sum(p.numel() for p in module.parameters()),
        "buffers": sum(b.numel() for b in module.buffers()),
        "state_dict": {prefix + key: list(t.shape) for key, t in module.state_dict().items()},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="JSON file to write")
    parser.add_argument("--check", action="store_true",
                        help="compare with the existing JSON file instead of writing it")
    args = parser.parse_args()

    torch.manual_seed(0)
    problems = []
    library = models()
    for name, file in spec_names().items():
        if name not in library:
            problems.append(f"Specs/{file}: spec {name!r} has no reference model here")

    result = {}
    rows = []
    for spec, (has_networks, networks) in library.items():
        result[spec] = {}
        for network, (module, example, expected) in networks.items():
            module.eval()
            with torch.no_grad():
                out = module(example)
            outs = out if isinstance(out, tuple) else (out,)
            shapes = [tuple(o.shape) for o in outs]
            if shapes != expected:
                problems.append(f"{spec}/{network}: output shapes {shapes}, expected {expected}")
            entry = record(module, network + "." if has_networks else "")
            result[spec][network] = entry
            known = KNOWN.get((spec, network))
            if known is not None and entry["trainable"] != known:
                problems.append(f"{spec}/{network}: {entry['trainable']:,} trainable, "
                                f"the project quotes {known:,}")
            rows.append((spec, network, entry["trainable"], entry["buffers"],
                         len(entry["state_dict"])))

    widths = [max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)]
    print(f"{'spec':<{widths[0]}}  {'network':<{widths[1]}}  {'trainable':>10}  "
          f"{'buffers':>8}  {'tensors':>7}")
    for spec, network, trainable, buffers, tensors in rows:
        print(f"{spec:<{widths[0]}}  {network:<{widths[1]}}  {trainable:>10,}  "
              f"{buffers:>8,}  {tensors:>7}")

    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    if args.check:
        if not args.output.exists() or args.output.read_text(encoding="utf-8") != text:
            problems.append(f"{args.output} is out of date; rerun without --check")
    elif not problems:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")

    for problem in problems:
        print(f"torch-reference-models: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
