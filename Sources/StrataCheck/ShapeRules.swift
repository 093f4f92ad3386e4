import StrataDiagnostics
import StrataIR
import StrataSymbolic

/// The forward shape and type rule of every op, with PyTorch's output-size
/// formulas: one exhaustive switch, so a new op cannot be added without one.
enum ShapeRules {
    static func apply(_ c: inout LayerContext) throws -> LayerContext.Result {
        switch c.op {
        case .conv1d: return try convolution(&c, axes: 1)
        case .conv2d: return try convolution(&c, axes: 2)
        case .convTranspose2d: return try transposedConvolution(&c)
        case .linear:
            let x = try c.input(0, ranks: 1...8, layout: "[..., features]")
            let features = try c.constant(x.shape[x.rank - 1], "input features")
            let out = c.int("out")
            try c.requirePositive([out], "out")
            var r = LayerContext.Result(type: TensorType(.f32, x.shape.dropLast() + [.constant(out)]))
            r.parameters.append(("weight", [out, features], .weight, .f32))
            if c.bool("bias") { r.parameters.append(("bias", [out], .bias, .f32)) }
            return r
        case .embedding:
            let x = c.inputs[0]
            if x.dtype != .i32 {
                throw c.failure(.wrongDType, "embedding takes i32 token ids, found \(x.dtype.rawValue) values",
                                label: "needs i32 ids", help: ["declare the input as `{shape: [...], dtype: i32}`"],
                                withProducers: true)
            }
            let vocab = c.int("vocab"), dim = c.int("dim")
            try c.requirePositive([vocab], "vocab")
            try c.requirePositive([dim], "dim")
            var r = LayerContext.Result(type: TensorType(.f32, x.shape + [.constant(dim)]))
            r.parameters.append(("weight", [vocab, dim], .weight, .f32))
            return r
        case .maxPool1d, .avgPool1d: return try pooling(&c, axes: 1)
        case .maxPool2d, .avgPool2d: return try pooling(&c, axes: 2)
        case .globalAvgPool, .globalMaxPool:
            let x = try c.input(0, ranks: 3...5, layout: "[N, C, ...]")
            let kept: [Poly] = c.bool("keepdims") ? Array(repeating: .constant(1), count: x.rank - 2) : []
            return LayerContext.Result(type: TensorType(.f32, Array(x.shape.prefix(2)) + kept))
        case .batchNorm:
            let x = try c.input(0, ranks: 2...5, layout: "[N, C, ...]")
            let channels = try c.constant(x.shape[1], "channels")
            var r = LayerContext.Result(type: x)
            if c.bool("affine") {
                r.parameters += [("weight", [channels], .weight, .f32), ("bias", [channels], .bias, .f32)]
            }
            r.parameters += [("running_mean", [channels], .buffer, .f32), ("running_var", [channels], .buffer, .f32),
                             ("num_batches_tracked", [], .buffer, .i64)]
            return r
        case .instanceNorm:
            let x = try c.input(0, ranks: 3...4, layout: "[N, C, H, W] or [N, C, L]")
            return try affine(c, x, channels: x.shape[1])
        case .groupNorm:
            let x = try c.input(0, ranks: 2...5, layout: "[N, C, ...]")
            let channels = try c.constant(x.shape[1], "channels")
            let groups = c.int("groups")
            try c.requirePositive([groups], "groups")
            if channels % groups != 0 {
                throw c.failure(.groupsMismatch, "group_norm's \(groups) groups do not divide its \(channels) channels",
                                at: "groups", label: "\(channels) % \(groups) = \(channels % groups)",
                                help: ["use a divisor of \(channels)"], withProducers: true)
            }
            return try affine(c, x, channels: x.shape[1])
        case .layerNorm:
            let x = try c.input(0, ranks: 1...8, layout: "[..., features]")
            return try affine(c, x, channels: x.shape[x.rank - 1])
        case .dropout:
            let x = try c.input(0, ranks: 1...8, layout: "any shape")
            let p = c.float("p")
            if !(p >= 0 && p < 1) {
                throw c.failure(.badAttributeValue, "dropout's `p` must be at least 0 and below 1, found \(p)", at: "p",
                                label: "out of range")
            }
            return LayerContext.Result(type: x)
        case .relu, .sigmoid, .tanh, .silu, .elu, .gelu, .leakyRelu, .scale:
            return LayerContext.Result(type: try c.input(0, ranks: 1...8, layout: "any shape"))
        case .prelu:
            let x = try c.input(0, ranks: 1...8, layout: "[N, C, ...]")
            var r = LayerContext.Result(type: x)
            let slopes = c.bool("shared") || x.rank < 2 ? 1 : try c.constant(x.shape[1], "channels")
            r.parameters.append(("weight", [slopes], .weight, .f32))
            return r
        case .softmax, .logSoftmax:
            let x = try c.input(0, ranks: 1...8, layout: "any shape")
            _ = try c.axis("axis", rank: x.rank)
            return LayerContext.Result(type: x)
        case .flatten:
            let x = try c.input(0, ranks: 1...8, layout: "any shape")
            let start = try c.axis("start", rank: x.rank)
            let merged = try product(c, x.shape[start...])
            return LayerContext.Result(type: TensorType(.f32, Array(x.shape[..<start]) + [merged]))
        case .reshape: return try reshape(&c)
        case .permute:
            let x = try c.input(0, ranks: 1...8, layout: "any shape")
            let axes = c.ints("axes").map { $0 < 0 ? $0 + x.rank : $0 }
            guard axes.sorted() == Array(0..<x.rank) else {
                throw c.failure(.badAxis, "permute's `axes` \(c.ints("axes")) is not a permutation of the \(x.rank) axes of \(c.describe(x))",
                                at: "axes", label: "expected each of 0...\(x.rank - 1) once", withProducers: true)
            }
            return LayerContext.Result(type: TensorType(.f32, axes.map { x.shape[$0] }))
        case .concat:
            let first = try c.input(0, ranks: 1...8, layout: "any shape")
            let axis = try c.axis("axis", rank: first.rank)
            var total = first.shape[axis]
            for i in 1..<c.inputs.count {
                let x = try c.input(i, ranks: 1...8, layout: "any shape")
                guard x.rank == first.rank else {
                    throw c.failure(.shapeMismatch, "concat's inputs have different ranks: \(c.describe(first)) and \(c.describe(x))",
                                    label: "rank \(first.rank) vs rank \(x.rank)", withProducers: true)
                }
                for d in 0..<first.rank where d != axis {
                    try c.requireEqual(first.shape[d], x.shape[d], code: .shapeMismatch,
                                       "concat's inputs differ in axis \(d), which is not the concat axis \(axis)",
                                       aName: "input 1", bName: "input \(i + 1)")
                }
                total = try sum(c, total, x.shape[axis])
            }
            var shape = first.shape
            shape[axis] = total
            return LayerContext.Result(type: TensorType(.f32, shape))
        case .add, .mul, .reparameterize:
            let first = try c.input(0, ranks: 1...8, layout: "any shape")
            for i in 1..<c.inputs.count {
                let x = try c.input(i, ranks: 1...8, layout: "any shape")
                guard x.rank == first.rank else {
                    throw c.failure(.shapeMismatch, "\(c.op.name)'s inputs have different shapes: \(c.describe(first)) and \(c.describe(x))",
                                    label: "rank \(first.rank) vs rank \(x.rank)", withProducers: true)
                }
                for d in 0..<first.rank {
                    try c.requireEqual(first.shape[d], x.shape[d], code: .shapeMismatch,
                                       "\(c.op.name)'s inputs have different shapes: \(c.describe(first)) and \(c.describe(x))",
                                       aName: "axis \(d) of input 1", bName: "of input \(i + 1)")
                }
            }
            return LayerContext.Result(type: first)
        case .pad: return try pad(&c)
        case .upsample:
            let x = try c.input(0, ranks: 4...4, layout: "[N, C, H, W]")
            let scale = c.ints("scale")
            try c.requirePositive(scale, "scale")
            if c.bool("align_corners") && c.choice("mode") != "bilinear" {
                throw c.failure(.badAttributeValue, "`align_corners` applies to bilinear upsampling only", at: "align_corners",
                                label: "mode is \(c.choice("mode"))", help: ["remove `align_corners`, or set `mode: bilinear`"])
            }
            let h = try c.normalize(.binary(.multiply, c.scope.expression(x.shape[2]), .constant(scale[0])))
            let w = try c.normalize(.binary(.multiply, c.scope.expression(x.shape[3]), .constant(scale[1])))
            return LayerContext.Result(type: TensorType(.f32, [x.shape[0], x.shape[1], h, w]))
        case .pixelShuffle:
            let x = try c.input(0, ranks: 4...4, layout: "[N, C*r*r, H, W]")
            let r = c.int("factor")
            try c.requirePositive([r], "factor")
            let rr = Poly.constant(r * r)
            switch c.scope.proveDivisible(x.shape[1], by: rr) {
            case .proven: break
            default:
                throw c.failure(.channelMismatch, "pixel_shuffle with factor \(r) needs channels divisible by \(r * r), found \(c.describe(x.shape[1]))",
                                at: "factor", label: "channels not a multiple of \(r * r)",
                                help: ["make the layer before produce a multiple of \(r * r) channels"], withProducers: true)
            }
            let channels = try c.normalize(.binary(.exactDivide, c.scope.expression(x.shape[1]), .constant(r * r)))
            let h = try c.normalize(.binary(.multiply, c.scope.expression(x.shape[2]), .constant(r)))
            let w = try c.normalize(.binary(.multiply, c.scope.expression(x.shape[3]), .constant(r)))
            return LayerContext.Result(type: TensorType(.f32, [x.shape[0], channels, h, w]))
        }
    }

    // MARK: rules shared by several ops

    private static func affine(_ c: LayerContext, _ x: TensorType, channels: Poly) throws -> LayerContext.Result {
        var r = LayerContext.Result(type: x)
        if c.bool("affine") {
            let n = try c.constant(channels, c.op == .layerNorm ? "normalized features" : "channels")
            r.parameters += [("weight", [n], .weight, .f32), ("bias", [n], .bias, .f32)]
        }
        return r
    }

    /// Spatial axis names for messages.
    private static func axisName(_ i: Int, of n: Int) -> String { n == 1 ? "length" : (i == 0 ? "height" : "width") }

    private static func convolution(_ c: inout LayerContext, axes n: Int) throws -> LayerContext.Result {
        let layout = n == 1 ? "[N, C, L]" : "[N, C, H, W]"
        let x = try c.input(0, ranks: (n + 2)...(n + 2), layout: layout)
        let cin = try c.constant(x.shape[1], "input channels")
        let out = c.int("out"), groups = c.int("groups")
        let kernel = c.ints("kernel"), stride = c.ints("stride"), dilation = c.ints("dilation")
        try c.requirePositive([out], "out")
        try c.requirePositive([groups], "groups")
        try c.requirePositive(kernel, "kernel")
        try c.requirePositive(stride, "stride")
        try c.requirePositive(dilation, "dilation")
        try checkGroups(c, cin: cin, out: out, groups: groups)
        var begin: [Int], end: [Int]
        switch c.attributes["padding"] {
        case .choice("same")?:
            if stride.contains(where: { $0 != 1 }) {
                throw c.failure(.badAttributeValue, "`padding: same` needs stride 1, as in PyTorch; found stride \(Set(stride).count == 1 ? String(stride[0]) : "\(stride)")",
                                at: "padding", label: "with stride > 1",
                                help: ["give the padding as numbers: (kernel - 1)/2 per side keeps the size divided by the stride"])
            }
            // The extra row or column of an odd total goes at the end, as in PyTorch and TensorFlow.
            begin = (0..<n).map { dilation[$0] * (kernel[$0] - 1) / 2 }
            end = (0..<n).map { dilation[$0] * (kernel[$0] - 1) - begin[$0] }
        case .choice("valid")?:
            begin = Array(repeating: 0, count: n)
            end = begin
        default:
            begin = c.ints("padding")
            end = begin
            try c.requirePositive(begin, "padding", allowZero: true)
        }
        var shape = [x.shape[0], Poly.constant(out)]
        for i in 0..<n {
            let size = c.scope.expression(x.shape[2 + i])
            // PyTorch: (size + 2*padding - dilation*(kernel - 1) - 1)//stride + 1
            let padded: DimExpr = begin[i] == end[i]
                ? .binary(.add, size, .binary(.multiply, .constant(2), .constant(begin[i])))
                : .binary(.add, .binary(.add, size, .constant(begin[i])), .constant(end[i]))
            let formula: DimExpr = .binary(.add, .binary(.floorDivide, .binary(.subtract, .binary(.subtract, padded,
                .binary(.multiply, .constant(dilation[i]), .binary(.subtract, .constant(kernel[i]), .constant(1)))), .constant(1)),
                .constant(stride[i])), .constant(1))
            shape.append(try c.requirePositive(formula, "output \(axisName(i, of: n))", at: "kernel"))
        }
        c.attributes["padding"] = nil
        c.attributes["pads"] = .ints(begin + end)
        var r = LayerContext.Result(type: TensorType(.f32, shape))
        r.parameters.append(("weight", [out, cin / groups] + kernel, .weight, .f32))
        if c.bool("bias") { r.parameters.append(("bias", [out], .bias, .f32)) }
        return r
    }

    private static func transposedConvolution(_ c: inout LayerContext) throws -> LayerContext.Result {
        let x = try c.input(0, ranks: 4...4, layout: "[N, C, H, W]")
        let cin = try c.constant(x.shape[1], "input channels")
        let out = c.int("out"), groups = c.int("groups")
        let kernel = c.ints("kernel"), stride = c.ints("stride"), dilation = c.ints("dilation")
        let padding = c.ints("padding"), outputPadding = c.ints("output_padding")
        try c.requirePositive([out], "out")
        try c.requirePositive([groups], "groups")
        try c.requirePositive(kernel, "kernel")
        try c.requirePositive(stride, "stride")
        try c.requirePositive(dilation, "dilation")
        try c.requirePositive(padding, "padding", allowZero: true)
        try c.requirePositive(outputPadding, "output_padding", allowZero: true)
        try checkGroups(c, cin: cin, out: out, groups: groups)
        for i in 0..<2 where outputPadding[i] >= max(stride[i], dilation[i]) {
            throw c.failure(.badAttributeValue, "`output_padding` must be smaller than the stride or the dilation, as in PyTorch; found \(outputPadding[i]) with stride \(stride[i])",
                            at: "output_padding", label: "too large")
        }
        var shape = [x.shape[0], Poly.constant(out)]
        for i in 0..<2 {
            let size = c.scope.expression(x.shape[2 + i])
            // PyTorch: (size - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1
            let formula: DimExpr = .binary(.add, .binary(.add, .binary(.add, .binary(.subtract,
                .binary(.multiply, .binary(.subtract, size, .constant(1)), .constant(stride[i])),
                .binary(.multiply, .constant(2), .constant(padding[i]))),
                .binary(.multiply, .constant(dilation[i]), .binary(.subtract, .constant(kernel[i]), .constant(1)))),
                .constant(outputPadding[i])), .constant(1))
            shape.append(try c.requirePositive(formula, "output \(axisName(i, of: 2))", at: padding[i] > 0 ? "padding" : "kernel",
                                               fix: "use less padding, or a larger kernel or stride"))
        }
        var r = LayerContext.Result(type: TensorType(.f32, shape))
        r.parameters.append(("weight", [cin, out / groups] + kernel, .weight, .f32))
        if c.bool("bias") { r.parameters.append(("bias", [out], .bias, .f32)) }
        return r
    }

    private static func checkGroups(_ c: LayerContext, cin: Int, out: Int, groups: Int) throws {
        for (what, n) in [("input channels", cin), ("output channels", out)] where n % groups != 0 {
            throw c.failure(.groupsMismatch, "\(c.op.name)'s `groups` \(groups) does not divide its \(n) \(what)", at: "groups",
                            label: "\(n) % \(groups) = \(n % groups)", help: ["use a `groups` that divides both \(cin) and \(out)"],
                            withProducers: true)
        }
    }

    private static func pooling(_ c: inout LayerContext, axes n: Int) throws -> LayerContext.Result {
        let x = try c.input(0, ranks: (n + 2)...(n + 2), layout: n == 1 ? "[N, C, L]" : "[N, C, H, W]")
        let kernel = c.ints("kernel"), stride = c.ints("stride"), padding = c.ints("padding")
        try c.requirePositive(kernel, "kernel")
        try c.requirePositive(stride, "stride")
        try c.requirePositive(padding, "padding", allowZero: true)
        for i in 0..<n where padding[i] * 2 > kernel[i] {
            throw c.failure(.badAttributeValue, "\(c.op.name)'s padding \(padding[i]) is more than half its kernel \(kernel[i]), which PyTorch rejects",
                            at: "padding", label: "too much padding")
        }
        let ceil = c.bool("ceil_mode")
        var shape = Array(x.shape.prefix(2))
        for i in 0..<n {
            let size = c.scope.expression(x.shape[2 + i])
            // PyTorch: (size + 2*padding - (kernel - 1) - 1 [+ stride - 1 with ceil_mode])//stride + 1
            var numerator: DimExpr = .binary(.subtract, .binary(.subtract,
                .binary(.add, size, .binary(.multiply, .constant(2), .constant(padding[i]))),
                .binary(.subtract, .constant(kernel[i]), .constant(1))), .constant(1))
            if ceil { numerator = .binary(.add, numerator, .binary(.subtract, .constant(stride[i]), .constant(1))) }
            let formula: DimExpr = .binary(.add, .binary(.floorDivide, numerator, .constant(stride[i])), .constant(1))
            let out = try c.requirePositive(formula, "output \(axisName(i, of: n))", at: "kernel")
            if ceil {
                // PyTorch drops a last window that would start in the padding;
                // Strata keeps one formula, so that must never happen.
                let gap: DimExpr = .binary(.subtract, .binary(.add, size, .constant(padding[i])),
                                           .binary(.multiply, .binary(.subtract, c.scope.expression(out), .constant(1)), .constant(stride[i])))
                if !c.scope.provePositive(try c.normalize(gap)).isProven {
                    throw c.failure(.badAttributeValue, "with `ceil_mode`, \(c.op.name)'s last window would start in the padding, where PyTorch drops it",
                                    at: "ceil_mode", label: "last window starts in the padding",
                                    notes: ["Strata needs one output-size formula for every input size"],
                                    help: ["use `ceil_mode: false`, or less padding"])
                }
            }
            shape.append(out)
        }
        return LayerContext.Result(type: TensorType(.f32, shape))
    }

    private static func reshape(_ c: inout LayerContext) throws -> LayerContext.Result {
        let x = try c.input(0, ranks: 1...8, layout: "any shape")
        guard case .shape(let target)? = c.attributes["shape"] else { return LayerContext.Result(type: x) }
        let total = try product(c, x.shape[...])
        let inferred = target.firstIndex { $0.constant == -1 }
        let known = try product(c, target.enumerated().filter { $0.offset != inferred }.map(\.element)[...])
        var shape = target
        if let i = inferred {
            switch c.scope.proveDivisible(total, by: known) {
            case .proven: break
            case .refuted(let ce):
                var notes = ["for \(ce)"]
                if let b = c.scope.binding(real: Dictionary(uniqueKeysWithValues: ce.binding.map { ($0.name, $0.value) })),
                   let t = try? total.evaluate(b), let k = try? known.evaluate(b) {
                    notes = ["for \(ce): \(t) elements, which \(k) does not divide"]
                }
                throw c.failure(.reshapeMismatch, "reshape cannot infer the -1: \(c.describe(total)) elements do not divide by \(c.describe(known))",
                                at: "shape", label: "not exact", notes: notes, withProducers: true)
            case .unknown(let n):
                c.warnings.append(c.failure(.unproven, "could not prove that \(c.describe(known)) divides \(c.describe(total))",
                                            at: "shape", notes: ["no counterexample among \(n) sampled sizes"]))
            }
            shape[i] = try c.normalize(.binary(.exactDivide, c.scope.expression(total), c.scope.expression(known)))
        } else {
            try c.requireEqual(total, known, code: .reshapeMismatch,
                               "reshape from \(c.describe(x)) to \(c.describe(TensorType(.f32, target))) changes the element count",
                               at: "shape", aName: "the input's element count", bName: "the target's")
        }
        for (i, d) in shape.enumerated() {
            _ = try c.requirePositive(c.scope.expression(d), "target dimension \(i)", at: "shape")
        }
        c.attributes["shape"] = .shape(shape)
        return LayerContext.Result(type: TensorType(.f32, shape))
    }

    private static func pad(_ c: inout LayerContext) throws -> LayerContext.Result {
        let x = try c.input(0, ranks: 4...4, layout: "[N, C, H, W]")
        let a = c.ints("amount")
        try c.requirePositive(a, "amount", allowZero: true)
        // [top, bottom, left, right], from an int or [h, w].
        let sides = a.count == 1 ? [a[0], a[0], a[0], a[0]] : a.count == 2 ? [a[0], a[0], a[1], a[1]] : a
        c.attributes["amount"] = .ints(sides)
        var shape = x.shape
        for (axis, pair) in [(2, (sides[0], sides[1])), (3, (sides[2], sides[3]))] {
            if c.choice("mode") == "reflect" {
                // Reflection mirrors rows inside the map, so each amount must be below its size.
                let widest = max(pair.0, pair.1)
                let side = axis == 2 ? "height" : "width"
                let room: DimExpr = .binary(.subtract, c.scope.expression(x.shape[axis]), .constant(widest))
                _ = try c.requirePositive(room, "\(side) - \(widest)", at: "amount",
                                          message: "reflect padding of \(widest) needs a \(side) above \(widest)",
                                          fix: "pad less, or use `mode: replicate`")
            }
            shape[axis] = try c.normalize(.binary(.add, c.scope.expression(x.shape[axis]), .constant(pair.0 + pair.1)))
        }
        return LayerContext.Result(type: TensorType(.f32, shape))
    }

    private static func product(_ c: LayerContext, _ dims: ArraySlice<Poly>) throws -> Poly {
        do {
            return try dims.reduce(Poly.constant(1)) { try $0.multiplied(by: $1) }
        } catch {
            throw c.failure(.symbolicOverflow, "\(c.op.name)'s element count overflows a 64-bit integer")
        }
    }

    private static func sum(_ c: LayerContext, _ a: Poly, _ b: Poly) throws -> Poly {
        do { return try a.adding(b) } catch {
            throw c.failure(.symbolicOverflow, "\(c.op.name)'s output size overflows a 64-bit integer")
        }
    }
}
