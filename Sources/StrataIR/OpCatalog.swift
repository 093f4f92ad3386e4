/// The op catalog: every op's attributes, defaults, arity and documentation,
/// one case each. The decoder's suggestions, the JSON Schema in Grammar/ and
/// docs/ops.md are all generated from here.
extension Op {
    public var spec: OpSpec {
        switch self {
        case .conv1d:
            return OpSpec(op: self, primary: "out", attributes: Self.convAttributes(axes: 1, transposed: false), arity: .one,
                          signature: "[N,C,L] -> [N,out,L']", summary: "1-D convolution (cross-correlation), as torch.nn.Conv1d")
        case .conv2d:
            return OpSpec(op: self, primary: "out", attributes: Self.convAttributes(axes: 2, transposed: false), arity: .one,
                          signature: "[N,C,H,W] -> [N,out,H',W']", summary: "2-D convolution (cross-correlation), as torch.nn.Conv2d")
        case .convTranspose2d:
            return OpSpec(op: self, primary: "out", attributes: Self.convAttributes(axes: 2, transposed: true), arity: .one,
                          signature: "[N,C,H,W] -> [N,out,H',W']", summary: "2-D transposed convolution, as torch.nn.ConvTranspose2d")
        case .linear:
            return OpSpec(op: self, primary: "out", attributes: [
                AttributeSpec("out", .int, .required, "output features"),
                AttributeSpec("bias", .bool, .bool(true), "learn an additive bias"),
            ], arity: .one, signature: "[...,F] -> [...,out]", summary: "fully connected layer over the last axis, as torch.nn.Linear")
        case .embedding:
            return OpSpec(op: self, primary: nil, attributes: [
                AttributeSpec("vocab", .int, .required, "number of token ids"),
                AttributeSpec("dim", .int, .required, "size of each embedding vector"),
            ], arity: .one, signature: "[N,L] i32 -> [N,L,dim]", summary: "lookup table of token embeddings, as torch.nn.Embedding")
        case .maxPool1d:
            return OpSpec(op: self, primary: "kernel", attributes: Self.poolAttributes(axes: 1, average: false), arity: .one,
                          signature: "[N,C,L] -> [N,C,L']", summary: "1-D max pooling")
        case .avgPool1d:
            return OpSpec(op: self, primary: "kernel", attributes: Self.poolAttributes(axes: 1, average: true), arity: .one,
                          signature: "[N,C,L] -> [N,C,L']", summary: "1-D average pooling")
        case .maxPool2d:
            return OpSpec(op: self, primary: "kernel", attributes: Self.poolAttributes(axes: 2, average: false), arity: .one,
                          signature: "[N,C,H,W] -> [N,C,H',W']", summary: "2-D max pooling")
        case .avgPool2d:
            return OpSpec(op: self, primary: "kernel", attributes: Self.poolAttributes(axes: 2, average: true), arity: .one,
                          signature: "[N,C,H,W] -> [N,C,H',W']", summary: "2-D average pooling")
        case .globalAvgPool:
            return OpSpec(op: self, primary: nil, attributes: [Self.keepdims], arity: .one,
                          signature: "[N,C,...] -> [N,C]", summary: "mean over every spatial axis")
        case .globalMaxPool:
            return OpSpec(op: self, primary: nil, attributes: [Self.keepdims], arity: .one,
                          signature: "[N,C,...] -> [N,C]", summary: "maximum over every spatial axis")
        case .batchNorm:
            return OpSpec(op: self, primary: nil, attributes: [
                Self.eps,
                AttributeSpec("momentum", .float, .float(0.1), "running statistics update factor, as in PyTorch"),
                AttributeSpec("affine", .bool, .bool(true), "learn a per-channel scale and shift"),
            ], arity: .one, signature: "[N,C,...] -> same", summary: "batch normalization over the channel axis (running statistics in inference)")
        case .instanceNorm:
            return OpSpec(op: self, primary: nil, attributes: [
                Self.eps, AttributeSpec("affine", .bool, .bool(false), "learn a per-channel scale and shift"),
            ], arity: .one, signature: "[N,C,H,W] -> same", summary: "normalization of each sample's channel over its spatial axes")
        case .groupNorm:
            return OpSpec(op: self, primary: "groups", attributes: [
                AttributeSpec("groups", .int, .required, "channel groups; must divide the channels"),
                Self.eps, AttributeSpec("affine", .bool, .bool(true), "learn a per-channel scale and shift"),
            ], arity: .one, signature: "[N,C,...] -> same", summary: "normalization over groups of channels")
        case .layerNorm:
            return OpSpec(op: self, primary: nil, attributes: [
                Self.eps, AttributeSpec("affine", .bool, .bool(true), "learn an elementwise scale and shift"),
            ], arity: .one, signature: "[...,F] -> same", summary: "normalization over the last axis")
        case .dropout:
            return OpSpec(op: self, primary: "p", attributes: [
                AttributeSpec("p", .float, .float(0.5), "probability of zeroing an element in training"),
            ], arity: .one, signature: "same", summary: "random zeroing in training; identity in inference")
        case .relu:
            return Self.activation(self, "max(x, 0)")
        case .sigmoid:
            return Self.activation(self, "1 / (1 + exp(-x))")
        case .tanh:
            return Self.activation(self, "hyperbolic tangent")
        case .silu:
            return Self.activation(self, "x * sigmoid(x)")
        case .elu:
            return OpSpec(op: self, primary: "alpha", attributes: [
                AttributeSpec("alpha", .float, .float(1.0), "value approached for large negative inputs"),
            ], arity: .one, signature: "same", summary: "x if x > 0, else alpha * (exp(x) - 1)")
        case .gelu:
            return OpSpec(op: self, primary: "approximate", attributes: [
                AttributeSpec("approximate", .choice(["none", "tanh"]), .choice("none"), "`none`: exact erf form; `tanh`: tanh approximation"),
            ], arity: .one, signature: "same", summary: "Gaussian error linear unit")
        case .leakyRelu:
            return OpSpec(op: self, primary: "slope", attributes: [
                AttributeSpec("slope", .float, .float(0.01), "slope for negative inputs"),
            ], arity: .one, signature: "same", summary: "x if x > 0, else slope * x")
        case .prelu:
            return OpSpec(op: self, primary: nil, attributes: [
                AttributeSpec("shared", .bool, .bool(false), "one slope for all channels instead of one per channel"),
                AttributeSpec("init", .float, .float(0.25), "initial slope"),
            ], arity: .one, signature: "same", summary: "leaky ReLU with learned slopes")
        case .softmax:
            return OpSpec(op: self, primary: "axis", attributes: [Self.axis(default: -1)], arity: .one,
                          signature: "same", summary: "exp(x) normalized to sum to one along an axis")
        case .logSoftmax:
            return OpSpec(op: self, primary: "axis", attributes: [Self.axis(default: -1)], arity: .one,
                          signature: "same", summary: "logarithm of softmax, computed stably")
        case .flatten:
            return OpSpec(op: self, primary: "start", attributes: [
                AttributeSpec("start", .int, .int(1), "first axis to merge; it and every later axis become one"),
            ], arity: .one, signature: "[N,a,b,...] -> [N,a*b*...]", summary: "merge trailing axes into one")
        case .reshape:
            return OpSpec(op: self, primary: "shape", attributes: [
                AttributeSpec("shape", .shape, .required, "the new shape; one entry may be -1, inferred by exact division"),
            ], arity: .one, signature: "[...] -> shape", summary: "same elements, new shape")
        case .permute:
            return OpSpec(op: self, primary: "axes", attributes: [
                AttributeSpec("axes", .axes, .required, "output axis i is input axis axes[i]"),
            ], arity: .one, signature: "[...] -> permuted", summary: "reorder axes")
        case .concat:
            return OpSpec(op: self, primary: "axis", attributes: [Self.axis(default: 1)], arity: .atLeast(2),
                          signature: "[..,a,..], [..,b,..] -> [..,a+b,..]", summary: "join values along an axis")
        case .add:
            return OpSpec(op: self, primary: nil, attributes: [], arity: .atLeast(2),
                          signature: "same, same -> same", summary: "elementwise sum of values of equal shape")
        case .mul:
            return OpSpec(op: self, primary: nil, attributes: [], arity: .atLeast(2),
                          signature: "same, same -> same", summary: "elementwise product of values of equal shape")
        case .scale:
            return OpSpec(op: self, primary: "factor", attributes: [
                AttributeSpec("factor", .float, .required, "the constant to multiply by"),
            ], arity: .one, signature: "same", summary: "multiply by a constant")
        case .pad:
            return OpSpec(op: self, primary: "amount", attributes: [
                AttributeSpec("amount", .padAmount, .required, "int, [h, w] or [top, bottom, left, right] (not F.pad's order)"),
                AttributeSpec("mode", .choice(["zeros", "reflect", "replicate"]), .choice("zeros"), "how the border is filled"),
            ], arity: .one, signature: "[N,C,H,W] -> [N,C,H',W']", summary: "pad the spatial axes")
        case .upsample:
            return OpSpec(op: self, primary: "scale", attributes: [
                AttributeSpec("scale", .perAxis(2), .int(2), "integer factor per spatial axis"),
                AttributeSpec("mode", .choice(["nearest", "bilinear"]), .choice("nearest"), "interpolation"),
                AttributeSpec("align_corners", .bool, .bool(false), "bilinear only: align the corner pixels, as in PyTorch"),
            ], arity: .one, signature: "[N,C,H,W] -> [N,C,H*s,W*s]", summary: "resize by an integer factor")
        case .pixelShuffle:
            return OpSpec(op: self, primary: "factor", attributes: [
                AttributeSpec("factor", .int, .required, "upscale factor r"),
            ], arity: .one, signature: "[N,C*r*r,H,W] -> [N,C,H*r,W*r]", summary: "rearrange channels into space, as torch.nn.PixelShuffle")
        case .reparameterize:
            return OpSpec(op: self, primary: nil, attributes: [], arity: .exactly(2),
                          signature: "[..], [..] -> [..]", summary: "z = mu + exp(logvar/2) * eps with eps ~ N(0, 1); needs `from: [mu, logvar]`")
        }
    }

    /// Every op's definition, in catalog order.
    public static var catalog: [OpSpec] { allCases.map(\.spec) }

    private static let eps = AttributeSpec("eps", .float, .float(1e-5), "added to the variance for stability")
    private static let keepdims = AttributeSpec("keepdims", .bool, .bool(false), "keep the pooled axes with size 1")

    private static func axis(default d: Int) -> AttributeSpec {
        AttributeSpec("axis", .int, .int(d), "the axis; negative counts from the end")
    }

    private static func activation(_ op: Op, _ summary: String) -> OpSpec {
        OpSpec(op: op, primary: nil, attributes: [], arity: .one, signature: "same", summary: summary)
    }

    private static func convAttributes(axes n: Int, transposed: Bool) -> [AttributeSpec] {
        var a = [
            AttributeSpec("out", .int, .required, "output channels"),
            AttributeSpec("kernel", .perAxis(n), .required, "kernel size"),
            AttributeSpec("stride", .perAxis(n), .int(1), "step between applications"),
            AttributeSpec("padding", transposed ? .perAxis(n) : .padding(n), .int(0),
                          transposed ? "implicit zero padding removed from the output, as in PyTorch"
                              : "zero padding per side; `same` keeps the size at stride 1, `valid` is 0"),
        ]
        if transposed {
            a.append(AttributeSpec("output_padding", .perAxis(n), .int(0), "extra size added to one side of the output"))
        }
        a += [
            AttributeSpec("dilation", .perAxis(n), .int(1), "spacing between kernel elements"),
            AttributeSpec("groups", .int, .int(1), "blocked connections; must divide input and output channels"),
            AttributeSpec("bias", .bool, .bool(true), "learn an additive bias"),
        ]
        return a
    }

    private static func poolAttributes(axes n: Int, average: Bool) -> [AttributeSpec] {
        var a = [
            AttributeSpec("kernel", .perAxis(n), .required, "window size"),
            AttributeSpec("stride", .perAxis(n), .sameAs("kernel"), "step between windows"),
            AttributeSpec("padding", .perAxis(n), .int(0), "implicit padding per side (at most half the kernel)"),
            AttributeSpec("ceil_mode", .bool, .bool(false), "round the output size up instead of down"),
        ]
        if average {
            a.append(AttributeSpec("count_include_pad", .bool, .bool(true), "count padded zeros in the average"))
        }
        return a
    }
}
