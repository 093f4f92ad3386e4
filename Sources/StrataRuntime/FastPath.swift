import Foundation
import StrataIR
import StrataKernels

extension Executor {
    /// A convolution or linear layer on the packed GEMM, with as much of its
    /// epilogue as the kernel applies in registers: the bias and a leading
    /// batch norm folded into one scale and shift per channel, then the
    /// activations, scales and one residual add, then a shuffled store. What
    /// is left runs on the reference path after it.
    func fast(_ node: Node, _ args: [Value], values: [Value?], pool: ThreadPool) throws -> Value {
        let x = args[0].tensor
        guard let w = parameter(node, "weight") else {
            throw RuntimeError("internal: no weight for \(node.op.name) \(node.path)")
        }
        if node.op == .convTranspose2d {
            // Accumulated tap by tap, so its epilogue runs after the last tap, on the reference path.
            let s = node.ints("stride") ?? [1, 1], d = node.ints("dilation") ?? [1, 1]
            let p = node.ints("padding") ?? [0, 0], op = node.ints("output_padding") ?? [0, 0]
            var y = Value.float(FastLayers.transposed(x, weight: w, bias: parameter(node, "bias"),
                                                      stride: (s[0], s[1]), padding: (p[0], p[1]), outputPadding: (op[0], op[1]),
                                                      dilation: (d[0], d[1]), groups: node.int("groups") ?? 1, pool: pool))
            for e in node.epilogue { y = try apply(e, of: node, to: y, values: values) }
            return y
        }
        let channels = w.shape[0]
        var fused = FastLayers.Fused()
        let bias = parameter(node, "bias")
        var rest = node.epilogue[...]
        if case .batchNorm(let prefix, let eps, let affine)? = rest.first,
           let mean = parameters[prefix + "running_mean"], let variance = parameters[prefix + "running_var"] {
            let gamma = affine ? parameters[prefix + "weight"] : nil, beta = affine ? parameters[prefix + "bias"] : nil
            var scale = [Float](repeating: 1, count: channels), shift = [Float](repeating: 0, count: channels)
            for c in 0..<channels {
                let g = Double(gamma?.data[c] ?? 1), v = Double(variance.data[c]), m = Double(mean.data[c])
                let k = g / (v + eps).squareRoot()
                scale[c] = Float(k)
                shift[c] = Float((Double(bias?.data[c] ?? 0) - m) * k + Double(beta?.data[c] ?? 0))
            }
            fused.scale = scale
            fused.shift = shift
            rest = rest.dropFirst()
        } else if let bias {
            fused.shift = bias.data
        }
        var added = false
        loop: while let e = rest.first {
            switch e {
            case .activation(.relu, _, _): fused.steps.append(.relu)
            case .activation(.leakyRelu, let attributes, _):
                if case .float(let slope)? = attributes["slope"] { fused.steps.append(.leakyRelu(Float(slope))) } else { break loop }
            case .activation(.prelu, _, let prefix):
                guard let slopes = parameters[prefix + "weight"] else { break loop }
                fused.steps.append(.prelu(slopes.count == 1 ? [Float](repeating: slopes.data[0], count: channels) : slopes.data))
            case .activation(let op, let attributes, _) where [.sigmoid, .tanh, .silu, .elu, .gelu].contains(op):
                fused.steps.append(.function(Self.scalar(op, attributes)))
            case .scale(let f): fused.steps.append(.multiply(Float(f)))
            case .add(let v) where !added:
                guard let other = values[v.index] else { break loop }
                fused.steps.append(.add(other.tensor))
                added = true
            case .pixelShuffle(let r) where rest.count == 1 && node.op == .conv2d:
                fused.shuffle = r
            default: break loop
            }
            rest = rest.dropFirst()
        }
        var y: Value
        switch node.op {
        case .conv2d:
            let s = node.ints("stride") ?? [1, 1], d = node.ints("dilation") ?? [1, 1], p = node.ints("pads") ?? [0, 0, 0, 0]
            let geometry = Convolution.Geometry(stride: (s[0], s[1]), padBegin: (p[0], p[1]), padEnd: (p[2], p[3]),
                                                dilation: (d[0], d[1]), groups: node.int("groups") ?? 1)
            y = .float(FastLayers.convolution(x, weight: w, geometry, epilogue: fused, pool: pool))
        case .conv1d:
            let pads = node.ints("pads") ?? [0, 0]
            let geometry = Convolution.Geometry(stride: (1, node.ints("stride")?[0] ?? 1), padBegin: (0, pads[0]), padEnd: (0, pads[1]),
                                                dilation: (1, node.ints("dilation")?[0] ?? 1), groups: node.int("groups") ?? 1)
            var oneRow = fused
            oneRow.steps = fused.steps.map { s in
                if case .add(let t) = s { return .add(t.reshaped([t.shape[0], t.shape[1], 1, t.shape[2]])) }
                return s
            }
            let out = FastLayers.convolution(x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]]),
                                             weight: w.reshaped([w.shape[0], w.shape[1], 1, w.shape[2]]), geometry,
                                             epilogue: oneRow, pool: pool)
            y = .float(out.reshaped([out.shape[0], out.shape[1], out.shape[3]]))
        default:
            y = .float(FastLayers.linear(x, weight: w, epilogue: fused, pool: pool))
        }
        for e in rest { y = try apply(e, of: node, to: y, values: values) }
        return y
    }

    static func scalar(_ op: Op, _ attributes: [String: AttrValue]) -> (Float) -> Float {
        let activation: Activation
        switch op {
        case .sigmoid: activation = .sigmoid
        case .tanh: activation = .tanh
        case .silu: activation = .silu
        case .elu:
            if case .float(let a)? = attributes["alpha"] { activation = .elu(alpha: a) } else { activation = .elu(alpha: 1) }
        default: activation = .gelu(tanhApproximation: attributes["approximate"] == .choice("tanh"))
        }
        return { Float(activation.apply(Double($0))) }
    }
}
