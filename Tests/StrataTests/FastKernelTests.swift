import StrataKernels
import StrataRuntime
import Testing

/// Every fast kernel against its reference twin, on random shapes and attributes.
@Suite struct FastKernelTests {
    static func random(_ shape: [Int], _ rng: inout Random) -> Tensor {
        Tensor(shape: shape, data: rng.normal(count: shape.reduce(1, *)))
    }

    static func error(_ a: Tensor, _ b: Tensor) -> Double {
        guard a.shape == b.shape else { return .infinity }
        let scale = max(b.data.map { abs(Double($0)) }.max() ?? 0, 1e-30)
        return (zip(a.data, b.data).map { abs(Double($0) - Double($1)) }.max() ?? 0) / scale
    }

    @Test func convolutionMatchesReference() {
        var rng = Random(seed: 17)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<120 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            let groups = pick([1, 1, 2, 3]), cg = pick([1, 2, 5]), og = pick([1, 3, 4, 7])
            let (kh, kw) = (pick([1, 2, 3, 5]), pick([1, 3]))
            let stride = (pick([1, 2]), pick([1, 2, 3])), dilation = (pick([1, 2]), pick([1]))
            let padBegin = (pick([0, 1, 2]), pick([0, 1])), padEnd = (pick([0, 1, 2]), pick([0, 1]))
            let (h, w) = (pick([5, 8, 11]) + dilation.0 * kh, pick([4, 9, 17]) + kw)
            let x = Self.random([pick([1, 2]), groups * cg, h, w], &rng)
            let weight = Self.random([groups * og, cg, kh, kw], &rng)
            let bias = Self.random([groups * og], &rng)
            let g = Convolution.Geometry(stride: stride, padBegin: padBegin, padEnd: padEnd, dilation: dilation, groups: groups)
            let reference = Activation.relu.forward(Convolution.forward(x, weight: weight, bias: bias, g))
            let fast = FastLayers.convolution(x, weight: weight, g, epilogue: FastLayers.Fused(shift: bias.data, steps: [.relu]), pool: pool)
            #expect(Self.error(fast, reference) < 1e-5, "trial \(trial): error \(Self.error(fast, reference))")
        }
    }

    @Test func epiloguesMatchTheOpsTheyReplace() {
        var rng = Random(seed: 3)
        let pool = ThreadPool(threads: 2)
        let x = Self.random([2, 4, 6, 6], &rng), weight = Self.random([8, 4, 3, 3], &rng), residual = Self.random([2, 8, 6, 6], &rng)
        let scale = Self.random([8], &rng), shift = Self.random([8], &rng), slopes = Self.random([8], &rng)
        let g = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 1)
        var expected = Convolution.forward(x, weight: weight, bias: nil, g)
        for i in 0..<expected.count { expected.data[i] = expected.data[i] * scale.data[(i / 36) % 8] + shift.data[(i / 36) % 8] }
        expected = Activation.prelu(expected, weight: slopes)
        expected = Elementwise.sum([Elementwise.scale(expected, by: 0.5), residual])
        expected = Activation.tanh.forward(expected)
        expected = Layout.pixelShuffle(expected, factor: 2)
        let fused = FastLayers.Fused(scale: scale.data, shift: shift.data,
                                     steps: [.prelu(slopes.data), .multiply(0.5), .add(residual), .function { Float(Activation.tanh.apply(Double($0))) }],
                                     shuffle: 2)
        let fast = FastLayers.convolution(x, weight: weight, g, epilogue: fused, pool: pool)
        #expect(Self.error(fast, expected) < 1e-5)
    }

    @Test func linearMatchesReference() {
        var rng = Random(seed: 8)
        let pool = ThreadPool(threads: 2)
        for (rows, f, o) in [(1, 7, 3), (2, 400, 120), (3, 33, 17), (130, 9, 5), (1, 3136, 20)] {
            let x = Self.random([rows, f], &rng), w = Self.random([o, f], &rng), b = Self.random([o], &rng)
            let reference = Activation.leakyRelu(slope: 0.2).forward(Linear.forward(x, weight: w, bias: b))
            let fast = FastLayers.linear(x, weight: w, epilogue: FastLayers.Fused(shift: b.data, steps: [.leakyRelu(0.2)]), pool: pool)
            #expect(Self.error(fast, reference) < 1e-5, "\(rows)x\(f)x\(o)")
        }
    }
}

extension FastKernelTests {
    @Test func transposedConvolutionMatchesReference() {
        var rng = Random(seed: 23)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<60 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            let groups = pick([1, 1, 2]), cg = pick([1, 3, 4]), og = pick([1, 2, 5])
            let (kh, kw) = (pick([1, 2, 3, 4]), pick([1, 3, 4]))
            let stride = (pick([1, 2, 3]), pick([1, 2])), dilation = (pick([1, 2]), pick([1]))
            let padding = (pick([0, 1]), pick([0, 1]))
            let outputPadding = (pick([0, max(stride.0, dilation.0) - 1]), 0)
            let x = Self.random([pick([1, 2]), groups * cg, pick([1, 3, 7]), pick([2, 5, 9])], &rng)
            let weight = Self.random([groups * cg, og, kh, kw], &rng), bias = Self.random([groups * og], &rng)
            let reference = Convolution.transposed(x, weight: weight, bias: bias, stride: stride, padding: padding,
                                                   outputPadding: outputPadding, dilation: dilation, groups: groups)
            guard reference.shape.allSatisfy({ $0 > 0 }) else { continue }
            let fast = FastLayers.transposed(x, weight: weight, bias: bias, stride: stride, padding: padding,
                                             outputPadding: outputPadding, dilation: dilation, groups: groups, pool: pool)
            #expect(Self.error(fast, reference) < 1e-5, "trial \(trial): error \(Self.error(fast, reference))")
        }
    }
}
