import StrataIR
import StrataKernels

/// Runs a graph whose shapes are all concrete (see `CheckedModel.specialized`)
/// on the reference kernels, one node at a time in graph order: the oracle
/// `ExecutionPlan` is tested against, and its fallback for ops without a
/// fast kernel.
public struct Executor {
    public let graph: Graph
    public let parameters: [String: Tensor]

    public init(graph: Graph, parameters: [String: Tensor]) {
        self.graph = graph
        self.parameters = parameters
    }

    /// The outputs by name. `seed` drives the noise of `reparameterize`.
    public func run(_ inputs: [String: Value], seed: UInt64) throws -> [String: Value] {
        var values = [Value?](repeating: nil, count: graph.types.count)
        for (name, v) in graph.inputs {
            guard let value = inputs[name] else { throw RuntimeError("no value for input '\(name)'") }
            values[v.index] = value
        }
        var noise = Random(seed: seed, stream: "reparameterize")
        // Each value is released after its last reader, so memory follows
        // the live set rather than the whole graph.
        var lastUse = [Int](repeating: -1, count: graph.types.count)
        for (i, node) in graph.nodes.enumerated() {
            for v in node.reads { lastUse[v.index] = i }
        }
        for (_, v) in graph.outputs { lastUse[v.index] = graph.nodes.count }
        for (i, node) in graph.nodes.enumerated() {
            defer {
                for v in node.reads + [node.output] where lastUse[v.index] <= i { values[v.index] = nil }
            }
            let args = try node.inputs.map { v -> Value in
                guard let value = values[v.index] else { throw RuntimeError("internal: value %\(v.index) used before it is computed") }
                return value
            }
            values[node.output.index] = try reference(node, args, values: values, noise: &noise)
        }
        var outputs: [String: Value] = [:]
        for (name, v) in graph.outputs { outputs[name] = values[v.index] }
        return outputs
    }

    /// One node and its epilogue on the reference kernels; `values` holds
    /// what the epilogue's residual adds read.
    func reference(_ node: Node, _ args: [Value], values: [Value?], noise: inout Random) throws -> Value {
        var y = try execute(node, args, noise: &noise)
        for e in node.epilogue { y = try apply(e, of: node, to: y, values: values) }
        return y
    }

    /// A pointwise activation, as a node or as an epilogue.
    private func pointwise(_ op: Op, _ attributes: [String: AttrValue], slopes: Tensor?, _ x: Tensor) throws -> Tensor {
        func float(_ name: String, _ fallback: Double) -> Double {
            if case .float(let v)? = attributes[name] { return v }
            return fallback
        }
        switch op {
        case .relu: return Activation.relu.forward(x)
        case .sigmoid: return Activation.sigmoid.forward(x)
        case .tanh: return Activation.tanh.forward(x)
        case .silu: return Activation.silu.forward(x)
        case .elu: return Activation.elu(alpha: float("alpha", 1)).forward(x)
        case .gelu: return Activation.gelu(tanhApproximation: attributes["approximate"] == .choice("tanh")).forward(x)
        case .leakyRelu: return Activation.leakyRelu(slope: float("slope", 0.01)).forward(x)
        case .prelu:
            guard let slopes else { throw RuntimeError("internal: prelu without slopes") }
            return Activation.prelu(x, weight: slopes)
        default: throw RuntimeError("internal: \(op.name) is not an activation")
        }
    }

    /// One fused operation, applied to the node's result as the unfused op would be.
    private func apply(_ e: Epilogue, of node: Node, to y: Value, values: [Value?]) throws -> Value {
        let t = y.tensor
        func named(_ name: String) throws -> Tensor {
            guard let v = parameters[name] else { throw RuntimeError("internal: no parameter \(name) for \(node.path)") }
            return v
        }
        switch e {
        case .batchNorm(let prefix, let eps, let affine):
            return .float(Normalization.batch(t, mean: try named(prefix + "running_mean"), variance: try named(prefix + "running_var"),
                                              weight: affine ? try named(prefix + "weight") : nil,
                                              bias: affine ? try named(prefix + "bias") : nil, eps: eps))
        case .activation(let op, let attributes, let prefix):
            return .float(try pointwise(op, attributes, slopes: op == .prelu ? try named(prefix + "weight") : nil, t))
        case .scale(let factor):
            return .float(Elementwise.scale(t, by: factor))
        case .add(let v):
            guard let other = values[v.index] else { throw RuntimeError("internal: %\(v.index) is not ready for \(node.path)") }
            return .float(Elementwise.sum([t, other.tensor]))
        case .pixelShuffle(let r):
            return .float(Layout.pixelShuffle(t, factor: r))
        }
    }

    /// The node's own parameter (not one of an op fused into it).
    private func parameter(_ node: Node, _ suffix: String) -> Tensor? {
        parameters[graph.parameterPrefix + node.path + "." + suffix]
    }

    private func required(_ node: Node, _ suffix: String) throws -> Tensor {
        guard let t = parameter(node, suffix) else {
            throw RuntimeError("internal: no \(suffix) for \(node.op.name) \(node.path)")
        }
        return t
    }

    /// Each op's lowering onto its reference kernel.
    private func execute(_ node: Node, _ args: [Value], noise: inout Random) throws -> Value {
        let outputShape = graph.type(node.output).shape.map { $0.constant ?? 0 }
        let x = args[0].tensor
        switch node.op {
        case .conv1d:
            let w = try required(node, "weight")
            let y = Convolution.forward(x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]]),
                                        weight: w.reshaped([w.shape[0], w.shape[1], 1, w.shape[2]]),
                                        bias: parameter(node, "bias"), node.convolutionGeometry)
            return .float(y.reshaped(outputShape))
        case .conv2d:
            return .float(Convolution.forward(x, weight: try required(node, "weight"), bias: parameter(node, "bias"),
                                              node.convolutionGeometry))
        case .convTranspose2d:
            let t = node.transposition
            return .float(Convolution.transposed(x, weight: try required(node, "weight"), bias: parameter(node, "bias"),
                                                 stride: t.stride, padding: t.padding, outputPadding: t.outputPadding,
                                                 dilation: t.dilation, groups: t.groups))
        case .linear:
            return .float(Linear.forward(x, weight: try required(node, "weight"), bias: parameter(node, "bias")))
        case .embedding:
            guard case .ids(let ids) = args[0] else { throw RuntimeError("embedding needs token ids") }
            do {
                return .float(try Linear.embedding(ids, weight: try required(node, "weight")))
            } catch let e as KernelError {
                throw RuntimeError("\(node.op.name) \(node.path): \(e.message)")
            }
        case .maxPool1d, .avgPool1d, .maxPool2d, .avgPool2d:
            let window = node.poolingWindow
            let input = node.op == .maxPool2d || node.op == .avgPool2d ? x : x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]])
            let y = node.op == .maxPool1d || node.op == .maxPool2d
                ? Pooling.max(input, window)
                : Pooling.average(input, window, countIncludePad: node.bool("count_include_pad") ?? true)
            return .float(y.reshaped(outputShape))
        case .globalAvgPool, .globalMaxPool:
            return .float(Pooling.global(x, average: node.op == .globalAvgPool, keepdims: node.bool("keepdims") ?? false))
        case .batchNorm:
            return .float(Normalization.batch(x, mean: try required(node, "running_mean"), variance: try required(node, "running_var"),
                                              weight: parameter(node, "weight"), bias: parameter(node, "bias"), eps: node.eps))
        case .instanceNorm:
            return .float(Normalization.group(x, groups: x.shape[1], weight: parameter(node, "weight"), bias: parameter(node, "bias"),
                                              eps: node.eps))
        case .groupNorm:
            return .float(Normalization.group(x, groups: node.groupCount, weight: parameter(node, "weight"),
                                              bias: parameter(node, "bias"), eps: node.eps))
        case .layerNorm:
            return .float(Normalization.layer(x, weight: parameter(node, "weight"), bias: parameter(node, "bias"), eps: node.eps))
        case .dropout:
            return .float(x)
        case .relu, .sigmoid, .tanh, .silu, .elu, .gelu, .leakyRelu, .prelu:
            return .float(try pointwise(node.op, node.attributes, slopes: parameter(node, "weight"), x))
        case .softmax, .logSoftmax:
            let axis = node.int("axis") ?? -1
            return .float(Activation.softmax(x, axis: axis < 0 ? axis + x.rank : axis, log: node.op == .logSoftmax))
        case .flatten, .reshape:
            return .float(x.reshaped(outputShape))
        case .permute:
            let axes = (node.ints("axes") ?? []).map { $0 < 0 ? $0 + x.rank : $0 }
            return .float(Layout.permute(x, axes: axes))
        case .concat:
            let axis = node.int("axis") ?? 1
            return .float(Layout.concat(args.map(\.tensor), axis: axis < 0 ? axis + x.rank : axis))
        case .add: return .float(Elementwise.sum(args.map(\.tensor)))
        case .mul: return .float(Elementwise.product(args.map(\.tensor)))
        case .scale: return .float(Elementwise.scale(x, by: node.float("factor") ?? 1))
        case .pad:
            let (a, mode) = node.padding
            return .float(Layout.pad(x, top: a[0], bottom: a[1], left: a[2], right: a[3], mode: mode))
        case .upsample:
            let u = node.upsampling
            return .float(Layout.upsample(x, scale: u.scale, bilinear: u.bilinear, alignCorners: u.alignCorners))
        case .pixelShuffle:
            return .float(Layout.pixelShuffle(x, factor: node.int("factor") ?? 1))
        case .reparameterize:
            let eps = Tensor(shape: x.shape, data: noise.normal(count: x.count))
            return .float(Elementwise.reparameterize(mu: x, logvar: args[1].tensor, eps: eps))
        }
    }
}

/// Attributes that the reference lowering and the kernel selection both read, with their defaults.
/// Attributes read in one place for the reference lowering and the kernel selection.
extension Node {
    /// A conv2d's geometry, or a conv1d's as a conv2d's over rows of height 1.
    var convolutionGeometry: Convolution.Geometry {
        let s = ints("stride") ?? [1, 1], d = ints("dilation") ?? [1, 1]
        guard op == .conv2d else {
            let p = ints("pads") ?? [0, 0]
            return Convolution.Geometry(stride: (1, s[0]), padBegin: (0, p[0]), padEnd: (0, p[1]), dilation: (1, d[0]), groups: groupCount)
        }
        let p = ints("pads") ?? [0, 0, 0, 0]
        return Convolution.Geometry(stride: (s[0], s[1]), padBegin: (p[0], p[1]), padEnd: (p[2], p[3]), dilation: (d[0], d[1]),
                                    groups: groupCount)
    }

    /// A conv_transpose2d's stride, padding, output padding, dilation and groups.
    var transposition: (stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), dilation: (Int, Int), groups: Int) {
        let s = ints("stride") ?? [1, 1], d = ints("dilation") ?? [1, 1]
        let p = ints("padding") ?? [0, 0], op = ints("output_padding") ?? [0, 0]
        return ((s[0], s[1]), (p[0], p[1]), (op[0], op[1]), (d[0], d[1]), groupCount)
    }

    /// A 2-D pooling's window, or a 1-D one's as a 2-D one over rows of height 1.
    var poolingWindow: Pooling.Window {
        let k = ints("kernel") ?? [1], s = ints("stride") ?? k, p = ints("padding") ?? [0], ceil = bool("ceil_mode") ?? false
        return op == .maxPool2d || op == .avgPool2d
            ? Pooling.Window(kernel: (k[0], k[1]), stride: (s[0], s[1]), padding: (p[0], p[1]), ceilMode: ceil)
            : Pooling.Window(kernel: (1, k[0]), stride: (1, s[0]), padding: (0, p[0]), ceilMode: ceil)
    }

    /// A grouped convolution's or a group norm's groups.
    var groupCount: Int { int("groups") ?? 1 }

    /// A normalization's epsilon.
    var eps: Double { float("eps") ?? 1e-5 }

    /// A pad's [top, bottom, left, right] and mode.
    var padding: (amounts: [Int], mode: Layout.PadMode) {
        (ints("amount") ?? [0, 0, 0, 0], Layout.PadMode(rawValue: choice("mode") ?? "zeros") ?? .zeros)
    }

    /// An upsampling's factor per axis, and how it samples.
    var upsampling: (scale: (Int, Int), bilinear: Bool, alignCorners: Bool) {
        let s = ints("scale") ?? [2, 2]
        return ((s[0], s[1]), choice("mode") == "bilinear", bool("align_corners") ?? false)
    }
}
