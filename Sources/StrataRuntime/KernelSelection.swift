import StrataIR
import StrataKernels

/// Which kernel runs a node, chosen once per plan: convolutions, transposed
/// convolutions and linear layers on the packed GEMM with their whole
/// epilogue in registers; batch norms, activations, scales and adds that
/// no producer absorbed as one pointwise pass; reshapes as aliases; the
/// rest on its reference kernel.
enum KernelChoice {
    case fast(PreparedKernel, residuals: [ValueID], summary: String)
    /// The output is the input's memory under another shape.
    case alias
    case reference
}

struct KernelSelector {
    let graph: Graph
    let parameters: [String: Tensor]

    func parameter(_ node: Node, _ suffix: String) -> Tensor? {
        parameters[graph.parameterPrefix + node.path + "." + suffix]
    }

    func shape(_ v: ValueID) -> [Int] { graph.type(v).shape.map { $0.constant ?? 0 } }

    /// `blocked`: which of the node's input and output hold their channels
    /// in blocks (see `ChannelBlocking`): a convolution's, a global pool's
    /// input, a linear layer's flattened input. `settled`: the layout is
    /// final (a kernel that gains from blocks it did not get gives way to
    /// one that does not need them). `sketch`: weighted layers' kernels
    /// without their weights (`PreparedKernel.isSketch`).
    func choose(_ node: Node, blocked: (input: Bool, output: Bool) = (false, false), settled: Bool = false,
                sketch: Bool = false) throws -> KernelChoice {
        if graph.type(node.output).dtype != .f32 || node.inputs.contains(where: { graph.type($0).dtype != .f32 }) {
            return .reference
        }
        switch node.op {
        case .flatten, .reshape, .dropout:
            return node.epilogue.isEmpty ? .alias : .reference
        case .conv2d, .conv1d, .convTranspose2d, .linear:
            return try weighted(node, blocked: blocked, settled: settled, sketch: sketch) ?? .reference
        case .batchNorm, .scale, .add, .relu, .leakyRelu, .prelu, .sigmoid, .tanh, .silu, .elu, .gelu:
            return try pointwise(node) ?? .reference
        case .maxPool1d, .avgPool1d, .maxPool2d, .avgPool2d, .globalAvgPool, .globalMaxPool:
            return node.epilogue.isEmpty ? pooling(node, blocked: blocked.input) : .reference
        case .instanceNorm, .groupNorm:
            return try groupNorm(node) ?? .reference
        case .pad, .upsample:
            return node.epilogue.isEmpty ? layout(node) : .reference
        default:
            return .reference
        }
    }

    /// The epilogue as kernel steps; `first` are the steps the node's own
    /// op contributes. nil when some part has no fast form.
    func translate(_ node: Node, channels: Int, first: [FusedEpilogue.Step], fold: Bool,
                           shuffleAllowed: Bool) throws -> (scale: [Float]?, steps: [FusedEpilogue.Step], residuals: [ValueID], shuffle: Int)? {
        var steps = first, residuals: [ValueID] = [], shuffle = 1, scale: [Float]? = nil
        for (i, e) in node.epilogue.enumerated() {
            guard shuffle == 1 else { return nil }
            switch e {
            case .batchNorm(let prefix, let eps, let affine):
                let (k, t) = try normalization(prefix: prefix, eps: eps, affine: affine, node: node)
                if fold && i == 0 {
                    // Folded into the weights: (W x + b) k + t = (k W) x + (b k + t).
                    scale = k
                    steps = steps.map { s in
                        if case .channelShift(let b) = s { return .channelShift(zip(b, zip(k, t)).map { $0 * $1.0 + $1.1 }) }
                        return s
                    }
                    if !steps.contains(where: { if case .channelShift = $0 { return true } else { return false } }) {
                        steps.append(.channelShift(t))
                    }
                } else {
                    steps += [.channelScale(k), .channelShift(t)]
                }
            case .activation(let op, let attributes, let prefix):
                guard let step = try activation(op, attributes, channels: channels, slopes: parameters[prefix + "weight"], node: node)
                else { return nil }
                steps.append(step)
            case .scale(let f):
                steps.append(.multiply(Float(f)))
            case .add(let v):
                guard shape(v) == shape(node.output) || shuffleAllowed else { return nil }
                steps.append(.residual(residuals.count))
                residuals.append(v)
            case .pixelShuffle(let r):
                guard shuffleAllowed else { return nil }
                shuffle = r
            }
        }
        return (scale, steps, residuals, shuffle)
    }

    /// Batch norm with running statistics as y = x k + t per channel.
    private func normalization(prefix: String, eps: Double, affine: Bool, node: Node) throws -> ([Float], [Float]) {
        guard let mean = parameters[prefix + "running_mean"], let variance = parameters[prefix + "running_var"] else {
            throw RuntimeError("internal: no running statistics \(prefix) for \(node.path)")
        }
        let gamma = affine ? parameters[prefix + "weight"] : nil, beta = affine ? parameters[prefix + "bias"] : nil
        var k = [Float](repeating: 1, count: mean.count), t = [Float](repeating: 0, count: mean.count)
        for c in 0..<mean.count {
            let g = Double(gamma?.data[c] ?? 1), s = g / (Double(variance.data[c]) + eps).squareRoot()
            k[c] = Float(s)
            t[c] = Float(Double(beta?.data[c] ?? 0) - Double(mean.data[c]) * s)
        }
        return (k, t)
    }

    private func activation(_ op: Op, _ attributes: [String: AttrValue], channels: Int, slopes: Tensor?,
                            node: Node) throws -> FusedEpilogue.Step? {
        func float(_ name: String, _ fallback: Double) -> Float {
            if case .float(let v)? = attributes[name] { return Float(v) }
            return Float(fallback)
        }
        switch op {
        case .relu: return .function(.relu)
        case .leakyRelu: return .function(.leakyRelu(float("slope", 0.01)))
        case .sigmoid: return .function(.sigmoid)
        case .tanh: return .function(.tanh)
        case .silu: return .function(.silu)
        case .elu: return .function(.elu(float("alpha", 1)))
        case .gelu: return .function(.gelu(tanhApproximation: attributes["approximate"] == .choice("tanh")))
        case .prelu:
            guard let slopes else { throw RuntimeError("internal: prelu without slopes in \(node.path)") }
            if slopes.count == 1 { return .prelu([Float](repeating: slopes.data[0], count: channels)) }
            return slopes.count == channels ? .prelu(slopes.data) : nil
        default: return nil
        }
    }

    /// Two nodes as one kernel, the second reading the first's output
    /// alone (through `middle`, a reshape or flatten, if any; `uses`: how
    /// many reads each value has): a convolution and a 1x1 convolution
    /// band by band, or a linear layer composed with the layer after it
    /// (`affineChain`); nil otherwise.
    func chain(_ first: Node, through middle: Node?, _ second: Node, uses: [Int]) throws -> KernelChoice? {
        try (middle == nil ? convolutionChain(first, second, uses: uses[first.output.index]) : nil)
            ?? affineChain(first, through: middle, second, uses: uses)
    }

    /// A convolution and the 1x1 convolution after it, band by band
    /// (`ConvolutionChain`), when the first's output is large.
    private func convolutionChain(_ first: Node, _ second: Node, uses: Int) throws -> KernelChoice? {
        let middle = shape(first.output)
        guard first.op == .conv2d, second.op == .conv2d, uses == 1, second.inputs == [first.output], middle.count == 4,
              ConvolutionChain.worthwhile(floats: middle.dropFirst().reduce(1, *)),
              let w = parameter(second, "weight"), w.shape.count == 4, w.shape[2] == 1, w.shape[3] == 1
        else { return nil }
        let rows = ConvolutionChain.rows(channels: middle[1], columns: middle[3])
        guard case .fast(let a as ConvolutionKernel, let own, let summary)? = try weighted(first, bandRows: rows), own.isEmpty,
              case .fast(let b as ConvolutionKernel, let residuals, let then)? = try weighted(second, bandRows: rows),
              let kernel = ConvolutionChain(first: a, second: b)
        else { return nil }
        return .fast(kernel, residuals: residuals, summary: summary + "; then, band by band, " + then)
    }

    private func weighted(_ node: Node, bandRows: Int? = nil, blocked: (input: Bool, output: Bool) = (false, false),
                          settled: Bool = false, sketch: Bool = false) throws -> KernelChoice? {
        guard let w = parameter(node, "weight") else { throw RuntimeError("internal: no weight for \(node.op.name) \(node.path)") }
        let x = shape(node.inputs[0])
        let channels = node.op == .convTranspose2d ? w.shape[1] * node.transposition.groups : w.shape[0]
        let bias: [FusedEpilogue.Step] = parameter(node, "bias").map { [.channelShift($0.data)] } ?? []
        guard let t = try translate(node, channels: channels, first: bias, fold: true, shuffleAllowed: node.op == .conv2d)
        else { return nil }
        // The C loops' epilogues start with a per-channel shift: without a bias or a batch norm, a shift of
        // zeros takes them (the DCGAN discriminator's first layer, leaky relu alone, was on the Swift tile:
        // 0.175 -> 0.096-0.118 ms; the generator's last layer, tanh alone, likewise).
        var steps = t.steps
        if !steps.contains(where: { if case .channelShift = $0 { true } else { false } }) {
            steps.insert(.channelShift([Float](repeating: 0, count: channels)), at: 0)
        }
        // Built where used: the 1x1-input transposed case spreads its own.
        func epilogue() -> FusedEpilogue { FusedEpilogue(steps: steps) }
        let kernel: PreparedKernel
        var summary: String
        switch node.op {
        case .conv2d, .conv1d:
            let twoD = node.op == .conv2d, g = node.convolutionGeometry
            let input = twoD ? x : [x[0], x[1], 1, x[2]]
            let weight = twoD ? w : w.reshaped([w.shape[0], w.shape[1], 1, w.shape[2]])
            if Array(weight.shape.suffix(2)) == Array(input.suffix(2)), g.padBegin == (0, 0), g.padEnd == (0, 0), g.groups == 1,
               t.shuffle == 1 {
                // The kernel covers the whole input, for a 1x1 output: a linear layer of the flattened input (a DCGAN
                // discriminator's last layer, 8192 taps for one pixel, on the direct form copied its band for one output).
                let flat = weight.reshaped([weight.shape[0], weight.count / weight.shape[0]])
                kernel = LinearKernel(rows: x[0], weight: blocked.input ? blockedColumns(flat, of: input) : flat, scale: t.scale,
                                      epilogue: epilogue(), sketch: sketch)
                summary = (x[0] < LinearKernel.vectorRows ? "gemv" : "gemm") + " conv \(weight.shape[2])x\(weight.shape[3]) of its whole input"
                    + (blocked.input ? ", from blocks of 16" : "")
                break
            }
            // Winograd's lanes form where values may be blocked (ResNet-20's 16x16 stage 4% faster than on the row
            // form, EDSR 8%, ESPCN 13%); the row form where they are not (its stores are whole rows of a plane: a
            // style transfer network's residual layers, between instance norms, 6.4 ms on it, 8.0 on the lanes form).
            let winograd = twoD && bandRows == nil && t.shuffle == 1
            let lanes = winograd && LanesWinogradKernel.applies(input: input, weight: weight.shape, geometry: g)
            if winograd, !lanes || settled && blocked == (false, false), WinogradKernel.applies(input: input, weight: weight.shape, geometry: g) {
                let winograd = WinogradKernel(input: input, weight: weight, geometry: g, scale: t.scale, epilogue: epilogue(),
                                              blocked: blocked, sketch: sketch)
                kernel = winograd
                summary = "gemm conv 3x3 \(winograd.form)"
                break
            }
            let strided = winograd && !lanes && LanesWinogradKernel.stridedApplies(input: input, weight: weight.shape, geometry: g)
            if lanes || strided {
                let winograd = strided
                    ? LanesWinogradKernel(strided: input, weight: weight, padding: g.padBegin, scale: t.scale, epilogue: epilogue(),
                                          blocked: blocked, sketch: sketch)
                    : LanesWinogradKernel(convolution: input, weight: weight, padding: g.padBegin, scale: t.scale, epilogue: epilogue(),
                                          blocked: blocked, sketch: sketch)
                kernel = winograd
                summary = "gemm conv \(weight.shape[2])x\(weight.shape[3]) " + (strided ? "s2x2 " : "") + winograd.form
                break
            }
            let conv = ConvolutionKernel(input: input, weight: weight, geometry: g, scale: t.scale, epilogue: epilogue(), shuffle: t.shuffle,
                                         bandRows: bandRows, blocked: blocked, sketch: sketch)
            kernel = conv
            summary = "gemm conv \(weight.shape[2])x\(weight.shape[3]) \(conv.form)"
            if g.groups > 1 { summary += " groups \(g.groups)" }
        case .convTranspose2d:
            let g = node.transposition
            if let linear = TransposedKernel.linearWeight(input: x, weight: w, padding: g.padding, outputPadding: g.outputPadding,
                                                          dilation: g.dilation, groups: g.groups) {
                // Each output pixel is reached by one tap of the 1x1 input: a linear layer, with per-channel
                // values repeated over the pixels of each channel.
                let (pixels, channels) = (w.shape[2] * w.shape[3], w.shape[1])
                // Blocked, output (o, p) goes to its place among the blocks: the weights' rows and every per-output value move there.
                func placed(_ v: [Float], width: Int = 1) -> [Float] {
                    blocked.output ? Self.blocked(v, channels: channels, pixels: pixels, width: width) : v
                }
                func spread(_ v: [Float]) -> [Float] { placed(v.flatMap { [Float](repeating: $0, count: pixels) }) }
                let perPixel = Self.repeated(steps, spread)
                let weight = Tensor(shape: linear.shape, data: placed(linear.data, width: linear.shape[1]))
                kernel = LinearKernel(rows: x[0], weight: weight, scale: t.scale.map(spread), epilogue: FusedEpilogue(steps: perPixel),
                                      sketch: sketch)
                summary = (x[0] < LinearKernel.vectorRows ? "gemv" : "gemm") + " conv_transpose \(w.shape[2])x\(w.shape[3]) of a 1x1 input"
                    + (blocked.output ? ", to blocks of 16" : "")
            } else if LanesWinogradKernel.transposedApplies(input: x, weight: w.shape, stride: g.stride, padding: g.padding,
                                                            outputPadding: g.outputPadding, dilation: g.dilation, groups: g.groups) {
                let winograd = LanesWinogradKernel(transposed: x, weight: w, scale: t.scale, epilogue: epilogue(), blocked: blocked,
                                                   sketch: sketch)
                kernel = winograd
                summary = "gemm conv_transpose 4x4 \(winograd.form)"
            } else if TransposedColumnsKernel.applies(weight: w.shape, stride: g.stride, padding: g.padding, outputPadding: g.outputPadding,
                                                      dilation: g.dilation, groups: g.groups) {
                let columns = TransposedColumnsKernel(input: x, weight: w, scale: t.scale, epilogue: epilogue(), blocked: blocked.input,
                                                      sketch: sketch)
                kernel = columns
                summary = "gemm conv_transpose 4x4\(columns.form)"
            } else {
                let phases = TransposedKernel(input: x, weight: w, stride: g.stride, padding: g.padding, outputPadding: g.outputPadding,
                                              dilation: g.dilation, groups: g.groups, scale: t.scale, epilogue: epilogue(), blocked: blocked,
                                              sketch: sketch)
                kernel = phases
                summary = "gemm conv_transpose \(w.shape[2])x\(w.shape[3]) in \(g.stride.0 * g.stride.1) phases\(phases.form)"
            }
        default:
            let weight = blocked.input ? try blockedColumns(w, of: flattened(node.inputs[0])) : w
            kernel = LinearKernel(rows: x.reduce(1, *) / w.shape[1], weight: weight, scale: t.scale, epilogue: epilogue(), sketch: sketch)
            summary = x.reduce(1, *) / w.shape[1] < LinearKernel.vectorRows ? "gemv linear" : "gemm linear"
            if blocked.input { summary += ", from blocks of 16" }
        }
        return .fast(kernel, residuals: t.residuals, summary: summary + describe(t.steps, shuffle: t.shuffle, folded: t.scale != nil))
    }

    /// The [N, C, H, W] shape `features` were flattened from.
    private func flattened(_ features: ValueID) throws -> [Int] {
        guard let flatten = graph.nodes.first(where: { $0.output == features }), case let shape = shape(flatten.inputs[0]), shape.count == 4
        else { throw RuntimeError("internal: blocked features of a linear layer not flattened from [N, C, H, W]") }
        return shape
    }

    /// A linear layer's weights [O, C * H * W] for features [N, C, H, W]
    /// (`shape`) in channel blocks: column c * H * W + p moves to the
    /// blocked place of channel c, pixel p.
    private func blockedColumns(_ w: Tensor, of shape: [Int]) -> Tensor {
        let k = w.shape[1]
        let data = (0..<w.shape[0]).flatMap { o in Self.blocked(Array(w.data[(o * k)..<((o + 1) * k)]), channels: shape[1], pixels: shape[2] * shape[3]) }
        return Tensor(shape: w.shape, data: data)
    }

    /// `values`, items of `width` floats for channel c, pixel p at c * `pixels` + p, moved to the blocked place of
    /// (c, p) (`ChannelBlocks.index`); `channels` a multiple of 16, so that every place is one of them.
    static func blocked(_ values: [Float], channels: Int, pixels: Int, width: Int = 1) -> [Float] {
        var moved = [Float](repeating: 0, count: values.count)
        for c in 0..<channels {
            for p in 0..<pixels {
                let (from, to) = ((c * pixels + p) * width, ChannelBlocks.index(0, c, p, channels: channels, pixels: pixels) * width)
                moved[to..<(to + width)] = values[from..<(from + width)]
            }
        }
        return moved
    }

    private func pooling(_ node: Node, blocked: Bool) -> KernelChoice {
        let x = shape(node.inputs[0])
        let average = [.avgPool1d, .avgPool2d, .globalAvgPool].contains(node.op)
        if node.op == .globalAvgPool || node.op == .globalMaxPool {
            return .fast(PoolingKernel(global: x, average: average, blocked: blocked), residuals: [],
                         summary: "pool global" + (blocked ? ", from blocks of 16" : ""))
        }
        let twoD = node.op == .maxPool2d || node.op == .avgPool2d, window = node.poolingWindow
        let kernel = PoolingKernel(input: twoD ? x : [x[0], x[1], 1, x[2]], window: window, average: average,
                                   countIncludePad: node.bool("count_include_pad") ?? true)
        return .fast(kernel, residuals: [], summary: "pool \(window.kernel.0)x\(window.kernel.1)")
    }

    private func groupNorm(_ node: Node) throws -> KernelChoice? {
        let x = shape(node.inputs[0])
        guard x.count >= 2, let t = try translate(node, channels: x[1], first: [], fold: false, shuffleAllowed: false) else { return nil }
        let kernel = GroupNormKernel(input: x, groups: node.op == .instanceNorm ? x[1] : node.groupCount,
                                     weight: parameter(node, "weight")?.data, bias: parameter(node, "bias")?.data,
                                     eps: node.eps, epilogue: FusedEpilogue(steps: t.steps))
        return .fast(kernel, residuals: t.residuals, summary: node.op.name + describe(t.steps, shuffle: 1, folded: false))
    }

    private func layout(_ node: Node) -> KernelChoice {
        let x = shape(node.inputs[0])
        guard x.count == 4 else { return .reference }
        if node.op == .pad {
            let (a, mode) = node.padding
            return .fast(PadKernel(input: x, top: a[0], bottom: a[1], left: a[2], right: a[3], mode: mode), residuals: [],
                         summary: "pad \(mode.rawValue)")
        }
        let u = node.upsampling
        let kernel = UpsampleKernel(input: x, scale: u.scale, bilinear: u.bilinear, alignCorners: u.alignCorners)
        return .fast(kernel, residuals: [], summary: "upsample " + (u.bilinear ? "bilinear" : "nearest"))
    }

    private func pointwise(_ node: Node) throws -> KernelChoice? {
        let x = shape(node.inputs[0])
        guard x == shape(node.output) else { return nil }
        let channels = x.count >= 2 ? x[1] : 1
        var own: [FusedEpilogue.Step] = []
        var residuals: [ValueID] = []
        switch node.op {
        case .batchNorm:
            let prefix = graph.parameterPrefix + node.path + "."
            let (k, t) = try normalization(prefix: prefix, eps: node.eps, affine: parameter(node, "weight") != nil, node: node)
            own = [.channelScale(k), .channelShift(t)]
        case .scale:
            own = [.multiply(Float(node.float("factor") ?? 1))]
        case .add:
            guard node.inputs.dropFirst().allSatisfy({ shape($0) == x }) else { return nil }
            own = node.inputs.dropFirst().indices.map { .residual($0 - 1) }
            residuals = Array(node.inputs.dropFirst())
        default:
            guard let step = try activation(node.op, node.attributes, channels: channels, slopes: parameter(node, "weight"), node: node)
            else { return nil }
            own = [step]
        }
        guard let t = try translate(node, channels: channels, first: own, fold: false, shuffleAllowed: false) else { return nil }
        let perChannel = t.steps.contains { s in
            switch s {
            case .channelScale, .channelShift, .prelu: return true
            default: return false
            }
        }
        // Without per-channel values the tensor is one long row.
        let count = x.reduce(1, *)
        let kernel = perChannel && x.count >= 2
            ? PointwiseKernel(outer: x[0], channels: channels, inner: count / (x[0] * channels), epilogue: FusedEpilogue(steps: t.steps))
            : PointwiseKernel(outer: 1, channels: 1, inner: count, epilogue: FusedEpilogue(steps: t.steps))
        return .fast(kernel, residuals: residuals + t.residuals, summary: "pointwise" + describe(t.steps, shuffle: 1, folded: false))
    }

    /// The epilogue as the plan prints it: `+shift +relu +add`.
    func describe(_ steps: [FusedEpilogue.Step], shuffle: Int, folded: Bool) -> String {
        var parts: [String] = folded ? ["batch_norm folded"] : []
        for s in steps {
            switch s {
            case .function(let f): parts.append(f.name)
            case .channelScale: parts.append("scale/channel")
            case .channelShift: parts.append("shift/channel")
            case .prelu: parts.append("prelu")
            case .multiply(let f): parts.append("*\(f)")
            case .residual: parts.append("+residual")
            }
        }
        if shuffle > 1 { parts.append("shuffled store x\(shuffle)") }
        return parts.isEmpty ? "" : " [" + parts.joined(separator: ", ") + "]"
    }
}
