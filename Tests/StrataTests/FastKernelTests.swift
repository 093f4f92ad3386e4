import Foundation
import StrataKernels
import StrataRuntime
import Testing

/// Every fast kernel against its reference twin, on random shapes and attributes.
@Suite struct FastKernelTests {
    static func random(_ shape: [Int], _ rng: inout Random) -> Tensor {
        Tensor(shape: shape, data: rng.normal(count: shape.reduce(1, *)))
    }

    static func error(_ a: Tensor, _ b: Tensor) -> Double {
        // A NaN (an element never written: `run` starts from NaN) would be skipped by max().
        guard a.shape == b.shape, !a.data.contains(where: \.isNaN) else { return .infinity }
        let scale = max(b.data.map { abs(Double($0)) }.max() ?? 0, 1e-30)
        return (zip(a.data, b.data).map { abs(Double($0) - Double($1)) }.max() ?? 0) / scale
    }

    /// Runs a prepared kernel on tensors; the output starts as NaN so that an unwritten element shows,
    /// and is followed by a guard of NaNs that must stay so: nothing is written past its end.
    static func run(_ kernel: PreparedKernel, _ x: Tensor, residuals: [Tensor] = [], shape: [Int], pool: ThreadPool) -> Tensor {
        let count = shape.reduce(1, *), guardCount = 4096
        var y = Tensor(shape: [count + guardCount], data: [Float](repeating: .nan, count: count + guardCount))

        let copies = residuals.map { r -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: r.count)
            p.initialize(from: r.data, count: r.count)
            return p
        }
        defer { copies.forEach { $0.deallocate() } }
        pool.reserveScratch(kernel.scratchFloats)
        x.data.withUnsafeBufferPointer { xs in
            y.data.withUnsafeMutableBufferPointer { ys in
                kernel.run(xs.baseAddress!, residuals: copies.map { UnsafePointer($0) }, output: ys.baseAddress!, pool: pool)
            }
        }
        let untouched = y.data[count...].allSatisfy { $0.isNaN }
        #expect(untouched, "written past the output's end")
        return Tensor(shape: shape, data: Array(y.data[..<count]))
    }

    @Test func convolutionMatchesReference() {
        var rng = Random(seed: 17)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<120 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            let groups = pick([1, 1, 2, 3]), cg = pick([1, 2, 5]), og = pick([1, 3, 4, 7, 17])
            let (kh, kw) = (pick([1, 2, 3, 5]), pick([1, 3]))
            let stride = (pick([1, 2]), pick([1, 2, 3])), dilation = (pick([1, 2]), pick([1, 2]))
            let padBegin = (pick([0, 1, 2]), pick([0, 1])), padEnd = (pick([0, 1, 2]), pick([0, 1]))
            let (h, w) = (pick([5, 8, 11]) + dilation.0 * kh, pick([4, 9, 17, 40]) + dilation.1 * kw)
            let x = Self.random([pick([1, 2, 4]), groups * cg, h, w], &rng)
            let weight = Self.random([groups * og, cg, kh, kw], &rng)
            let bias = Self.random([groups * og], &rng)
            let g = Convolution.Geometry(stride: stride, padBegin: padBegin, padEnd: padEnd, dilation: dilation, groups: groups)
            let reference = Activation.relu.forward(Convolution.forward(x, weight: weight, bias: bias, g))
            let kernel = ConvolutionKernel(input: x.shape, weight: weight, geometry: g,
                                           epilogue: FusedEpilogue(steps: [.channelShift(bias.data), .function(.relu)]))
            let fast = Self.run(kernel, x, shape: kernel.outputShape, pool: pool)
            #expect(Self.error(fast, reference) < 1e-5, "trial \(trial): error \(Self.error(fast, reference))")
        }
    }

    /// Larger convolutions: several bands and row blocks, the one-row tile,
    /// and depths cut into slices (40 x 3 x 3 = 360 taps) with a partial
    /// last row block, strips first (19 x 19) and weights first (16 x 16).
    /// Maps under 16 wide with 16 or more output channels put the channels
    /// in the tiles' lanes: a partial last block of 16 (37 = 16 + 16 + 5),
    /// sliced depths (64 x 9 taps), strides, groups and a batch.
    @Test func largeConvolutionsMatchReference() {
        var rng = Random(seed: 5)
        let pool = ThreadPool(threads: 2)
        for (c, o, k, size, stride, groups, n) in [(48, 20, 1, 37, 1, 1, 1), (9, 13, 3, 29, 1, 1, 1), (4, 1, 5, 70, 1, 1, 1),
                                                   (3, 1, 3, 13, 1, 1, 1), (40, 14, 3, 19, 1, 1, 1), (64, 60, 3, 16, 1, 1, 1),
                                                   (20, 37, 3, 7, 1, 1, 2), (64, 32, 3, 8, 1, 1, 1), (6, 16, 4, 28, 2, 1, 3),
                                                   (8, 34, 3, 11, 2, 2, 1), (1, 32, 4, 28, 2, 1, 2),
                                                   // Stride 2 on odd sizes, both column phases or the even one alone.
                                                   (5, 16, 3, 27, 2, 1, 1), (12, 20, 1, 33, 2, 1, 2),
                                                   // Two, three, seven and nine output channels on the three-row tile, in
                                                   // slices of depth, the rows of C split over jobs (one image, few bands).
                                                   (32, 3, 9, 21, 1, 1, 1), (40, 2, 3, 37, 1, 1, 2), (40, 9, 3, 23, 1, 1, 1),
                                                   (32, 7, 3, 9, 1, 1, 2),
                                                   // 31 channels in row blocks 6 x 4 + 4 + 3, 32 in 6 x 4 + 4 + 4.
                                                   (64, 31, 3, 21, 1, 1, 2), (64, 32, 3, 21, 1, 1, 2)] {
            let x = Self.random([n, c, size, size], &rng), weight = Self.random([o, c / groups, k, k], &rng)
            let g = Convolution.Geometry(stride: (stride, stride), padBegin: (k / 2, k / 2), padEnd: (k / 2, k / 2), dilation: (1, 1),
                                         groups: groups)
            let residual = Self.random(Convolution.forward(x, weight: weight, bias: nil, g).shape, &rng)
            let kernel = ConvolutionKernel(input: x.shape, weight: weight, geometry: g, epilogue: FusedEpilogue(steps: [.residual(0)]))
            let fast = Self.run(kernel, x, residuals: [residual], shape: kernel.outputShape, pool: pool)
            let expected = Elementwise.sum([Convolution.forward(x, weight: weight, bias: nil, g), residual])
            #expect(Self.error(fast, expected) < 1e-5, "\(c) -> \(o), \(size)x\(size): \(kernel.form)")
            #expect(kernel.form.hasSuffix("lanes") == (o >= 16 && size / stride < 16), "\(kernel.form)")
        }
    }

    /// Winograd's F(2x2, 3x3) on random shapes: channel counts off the 6-row blocks and the 16-column
    /// tiles (37, 45), padding 0 or 1, maps of one job or many (a tile row of 8 or 56 tiles), a batch, a
    /// folded scale, and the common epilogues (relu, tanh, a residual) and a general one (prelu); only
    /// where `applies` says so.
    @Test func winogradMatchesReference() {
        var rng = Random(seed: 23)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<24 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            let (c, o, n, pad) = (pick([32, 37, 64]), pick([32, 45, 64]), pick([1, 2]), pick([0, 1]))
            let (ho, wo) = (pick([2, 6, 16, 30]), pick([16, 32, 112]))
            let x = Self.random([n, c, ho + 2 - 2 * pad, wo + 2 - 2 * pad], &rng), weight = Self.random([o, c, 3, 3], &rng)
            // Scaled as an initializer would, so that tanh's inputs are not all far into its saturation.
            let bias = Self.random([o], &rng), scale = Self.random([o], &rng).data.map { $0 / Float(9 * c).squareRoot() }
            let g = Convolution.Geometry(stride: (1, 1), padBegin: (pad, pad), padEnd: (pad, pad), dilation: (1, 1), groups: 1)
            #expect(WinogradKernel.applies(input: x.shape, weight: weight.shape, geometry: g))
            let scaled = Tensor(shape: weight.shape, data: weight.data.enumerated().map { $1 * scale[$0 / (c * 9)] })
            let plain = Convolution.forward(x, weight: scaled, bias: bias, g)
            let residual = Self.random(plain.shape, &rng), slopes = Self.random([o], &rng).data
            let (steps, expected) = Self.epilogue(trial % 4, plain, bias: bias.data, residual: residual, slopes: slopes)
            // Inputs, and outputs of whole blocks, in channel blocks or not; a residual in the output's layout.
            let layout = (pick([0, 1]) == 1, o % ChannelBlocks.size == 0 && pick([0, 1]) == 1)
            let kernel = WinogradKernel(input: x.shape, weight: weight, geometry: g, scale: scale, epilogue: FusedEpilogue(steps: steps),
                                        blocked: layout)
            #expect(kernel.outputShape == plain.shape)
            let raw = Self.run(kernel, layout.0 ? Self.blocked(x) : x, residuals: [layout.1 ? Self.blocked(residual) : residual],
                               shape: [layout.1 ? ChannelBlocks.floats(plain.shape) : plain.count], pool: pool)
            let fast = layout.1 ? Self.unblocked(raw, plain.shape) : Tensor(shape: plain.shape, data: raw.data)
            #expect(Self.error(fast, expected) < 1e-5, "trial \(trial): \(c) -> \(o), \(x.shape), \(layout): error \(Self.error(fast, expected))")
        }
        let g = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 1)
        for (input, weight) in [([1, 16, 32, 32], [32, 16, 3, 3]), ([1, 32, 32, 32], [16, 32, 3, 3]), ([1, 32, 8, 8], [32, 32, 3, 3]),
                                ([1, 32, 31, 32], [32, 32, 3, 3]), ([1, 32, 32, 32], [32, 32, 5, 5])] {
            #expect(!WinogradKernel.applies(input: input, weight: weight, geometry: g), "\(input) \(weight)")
        }
        var strided = g
        strided.stride = (2, 2)
        #expect(!WinogradKernel.applies(input: [1, 32, 32, 32], weight: [32, 32, 3, 3], geometry: strided))
    }

    /// A lanes-form Winograd kernel, `make(layout, epilogue)`, against
    /// `plain` (the bare convolution) through epilogue form `form`, its
    /// input and output in a random layout (a residual in the output's).
    static func expectLanes(_ x: Tensor, plain: Tensor, bias: [Float], form: Int, rng: inout Random, pool: ThreadPool, _ label: String,
                            make: ((Bool, Bool), FusedEpilogue) -> LanesWinogradKernel) {
        let residual = random(plain.shape, &rng), slopes = random([plain.shape[1]], &rng).data
        let (steps, expected) = epilogue(form, plain, bias: bias, residual: residual, slopes: slopes)
        let layout = (rng.next() % 2 == 1, rng.next() % 2 == 1)
        let kernel = make(layout, FusedEpilogue(steps: steps))
        #expect(kernel.outputShape == plain.shape)
        let raw = run(kernel, layout.0 ? blocked(x) : x, residuals: [layout.1 ? blocked(residual) : residual],
                      shape: [layout.1 ? ChannelBlocks.floats(plain.shape) : plain.count], pool: pool)
        let fast = layout.1 ? unblocked(raw, plain.shape) : Tensor(shape: plain.shape, data: raw.data)
        #expect(error(fast, expected) < winogradBound(kernel.form), "\(label), \(layout): error \(error(fast, expected))")
    }

    /// How far Winograd's lanes form may be from the reference, relative
    /// to the largest output: F(4x4, 2x2)'s transforms have coefficients up
    /// to 8 and 1/6, and lose about twice what the others do.
    static func winogradBound(_ form: String) -> Double { form.contains("F(4x4") ? 4e-5 : 1e-5 }

    /// Epilogue form `form` (shift and relu, shift and tanh, shift, residual
    /// and relu, shift and prelu) of a [N, C, H, W] `plain` output, and
    /// what it gives.
    static func epilogue(_ form: Int, _ plain: Tensor, bias: [Float], residual: Tensor, slopes: [Float]) -> ([FusedEpilogue.Step], Tensor) {
        switch form {
        case 0: ([.channelShift(bias), .function(.relu)], Activation.relu.forward(plain))
        case 1: ([.channelShift(bias), .function(.tanh)], Activation.tanh.forward(plain))
        case 2: ([.channelShift(bias), .residual(0), .function(.relu)], Activation.relu.forward(Elementwise.sum([plain, residual])))
        default: ([.channelShift(bias), .prelu(slopes)],
                  Tensor(shape: plain.shape, data: plain.data.enumerated().map { i, v in
                      v >= 0 ? v : v * slopes[(i / (plain.shape[2] * plain.shape[3])) % plain.shape[1]]
                  }))
        }
    }

    /// `LanesWinogradKernel` on 3x3 convolutions, and on 4x4 ones of stride
    /// 2, against the reference: odd and even maps with and without
    /// padding, partial blocks in and out, tiles across images, every
    /// epilogue form, any layout.
    @Test func lanesWinogradMatchesReference() {
        var rng = Random(seed: 31)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<40 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            // 3x3 of stride 1, then 4x4 of stride 2 (four 2x2 convolutions of the input's phases), on even and odd inputs.
            let strided = trial >= 24, k = strided ? 4 : 3, s = strided ? 2 : 1
            let (c, o, pad) = (pick(strided ? [16, 32, 64] : [32, 40, 64]), pick([16, 20, 64]), pick([0, 1]))
            let (ho, wo) = (pick([1, 7, 8, 14]), pick([3, 8, 13])), odd = strided ? pick([0, 1]) : 0
            let tiles = (ho + 1) / 2 * ((wo + 1) / 2), n = max(pick([1, 2, 8]), (16 + tiles - 1) / tiles)
            let x = Self.random([n, c, s * (ho - 1) + k - 2 * pad + odd, s * (wo - 1) + k - 2 * pad + odd], &rng)
            let weight = Self.random([o, c, k, k], &rng)
            let bias = Self.random([o], &rng), scale = Self.random([o], &rng).data.map { $0 / Float(k * k * c).squareRoot() }
            let g = Convolution.Geometry(stride: (s, s), padBegin: (pad, pad), padEnd: (pad, pad), dilation: (1, 1), groups: 1)
            #expect(strided ? LanesWinogradKernel.stridedApplies(input: x.shape, weight: weight.shape, geometry: g)
                    : LanesWinogradKernel.applies(input: x.shape, weight: weight.shape, geometry: g))
            let scaled = Tensor(shape: weight.shape, data: weight.data.enumerated().map { $1 * scale[$0 / (c * k * k)] })
            Self.expectLanes(x, plain: Convolution.forward(x, weight: scaled, bias: bias, g), bias: bias.data, form: trial % 4, rng: &rng,
                             pool: pool, "trial \(trial): \(c) -> \(o), \(x.shape), \(k)x\(k)") { layout, epilogue in
                strided ? LanesWinogradKernel(strided: x.shape, weight: weight, padding: (pad, pad), scale: scale, epilogue: epilogue, blocked: layout)
                    : LanesWinogradKernel(convolution: x.shape, weight: weight, padding: (pad, pad), scale: scale, epilogue: epilogue,
                                          blocked: layout)
            }
        }
        let g = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 1)
        for (input, weight) in [([2, 16, 8, 8], [32, 16, 3, 3]), ([2, 32, 8, 8], [8, 32, 3, 3]), ([1, 32, 6, 6], [32, 32, 3, 3]),
                                ([2, 32, 8, 8], [32, 32, 5, 5])] {
            #expect(!LanesWinogradKernel.applies(input: input, weight: weight, geometry: g), "\(input) \(weight)")
        }
        var strided = g
        strided.stride = (2, 2)
        #expect(!LanesWinogradKernel.applies(input: [4, 32, 8, 8], weight: [32, 32, 3, 3], geometry: strided))
        // Input channels in partial blocks, too few tiles, a 3x3 kernel.
        for (input, weight) in [([4, 20, 16, 16], [32, 20, 4, 4]), ([1, 32, 8, 8], [32, 32, 4, 4]), ([4, 32, 16, 16], [32, 32, 3, 3])] {
            #expect(!LanesWinogradKernel.stridedApplies(input: input, weight: weight, geometry: strided), "\(input) \(weight)")
        }
    }

    /// `TransposedColumnsKernel` against the reference: plain and blocked
    /// inputs (partial blocks), rows narrower and wider than 16 pixels, a
    /// 1x1 map, a shift and sigmoid or a residual.
    @Test func transposedColumnsMatchReference() {
        var rng = Random(seed: 37)
        let pool = ThreadPool(threads: 2)
        for (trial, (n, c, h, w)) in [(2, 32, 14, 14), (1, 20, 7, 7), (3, 3, 1, 1), (2, 16, 5, 20), (1, 40, 9, 33)].enumerated() {
            let x = Self.random([n, c, h, w], &rng), weight = Self.random([c, 1, 4, 4], &rng), bias = Self.random([1], &rng)
            #expect(TransposedColumnsKernel.applies(weight: weight.shape, stride: (2, 2), padding: (1, 1), outputPadding: (0, 0),
                                                    dilation: (1, 1), groups: 1))
            let plain = Convolution.transposed(x, weight: weight, bias: bias, stride: (2, 2), padding: (1, 1), outputPadding: (0, 0),
                                               dilation: (1, 1), groups: 1)
            let residual = Self.random(plain.shape, &rng)
            let (steps, expected): ([FusedEpilogue.Step], Tensor) = trial % 2 == 0
                ? ([.channelShift(bias.data), .function(.sigmoid)], Activation.sigmoid.forward(plain))
                : ([.channelShift(bias.data), .residual(0)], Elementwise.sum([plain, residual]))
            for blocked in [false, true] {
                let kernel = TransposedColumnsKernel(input: x.shape, weight: weight, epilogue: FusedEpilogue(steps: steps), blocked: blocked)
                #expect(kernel.outputShape == plain.shape)
                let fast = Self.run(kernel, blocked ? Self.blocked(x) : x, residuals: [residual], shape: plain.shape, pool: pool)
                #expect(Self.error(fast, expected) < 1e-5, "\(x.shape) blocked \(blocked): error \(Self.error(fast, expected))")
            }
        }
        #expect(!TransposedColumnsKernel.applies(weight: [8, 2, 4, 4], stride: (2, 2), padding: (1, 1), outputPadding: (0, 0),
                                                 dilation: (1, 1), groups: 1))
        #expect(!TransposedColumnsKernel.applies(weight: [8, 1, 3, 3], stride: (2, 2), padding: (1, 1), outputPadding: (0, 0),
                                                 dilation: (1, 1), groups: 1))
    }

    /// `LanesWinogradKernel` on transposed convolutions against the reference: odd and even maps
    /// (tiles past a 7x7 map's edge), partial blocks in and out, tiles
    /// numbered across images, every epilogue form, any layout.
    @Test func transposedWinogradMatchesReference() {
        var rng = Random(seed: 29)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<24 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            let (c, o, h, w) = (pick([32, 40, 64]), pick([16, 20, 32]), pick([1, 4, 7]), pick([2, 7, 16]))
            // At least the 16 tiles per phase it takes, sometimes across several images; with 8 images, enough
            // for tiles of 4x4 on the larger maps.
            let n = max(pick([1, 3, 8]), (16 + (h + 1) / 2 * ((w + 1) / 2) - 1) / ((h + 1) / 2 * ((w + 1) / 2)))
            let x = Self.random([n, c, h, w], &rng), weight = Self.random([c, o, 4, 4], &rng)
            let bias = Self.random([o], &rng), scale = Self.random([o], &rng).data.map { $0 / Float(4 * c).squareRoot() }
            #expect(LanesWinogradKernel.transposedApplies(input: x.shape, weight: weight.shape, stride: (2, 2), padding: (1, 1),
                                                     outputPadding: (0, 0), dilation: (1, 1), groups: 1))
            let scaled = Tensor(shape: weight.shape, data: weight.data.enumerated().map { $1 * scale[($0 / 16) % o] })
            let plain = Convolution.transposed(x, weight: scaled, bias: bias, stride: (2, 2), padding: (1, 1), outputPadding: (0, 0),
                                               dilation: (1, 1), groups: 1)
            Self.expectLanes(x, plain: plain, bias: bias.data, form: trial % 4, rng: &rng, pool: pool,
                             "trial \(trial): \(c) -> \(o), \(x.shape)") { layout, epilogue in
                LanesWinogradKernel(transposed: x.shape, weight: weight, scale: scale, epilogue: epilogue, blocked: layout)
            }
        }
        for (input, weight, stride, padding) in [([1, 16, 8, 8], [16, 32, 4, 4], (2, 2), (1, 1)), ([1, 32, 8, 8], [32, 8, 4, 4], (2, 2), (1, 1)),
                                                 ([1, 32, 8, 8], [32, 32, 3, 3], (2, 2), (1, 1)), ([1, 32, 8, 8], [32, 32, 4, 4], (2, 2), (0, 0)),
                                                 ([1, 32, 8, 8], [32, 32, 4, 4], (1, 1), (1, 1)), ([3, 32, 4, 4], [32, 32, 4, 4], (2, 2), (1, 1))] {
            #expect(!LanesWinogradKernel.transposedApplies(input: input, weight: weight, stride: stride, padding: padding, outputPadding: (0, 0),
                                                      dilation: (1, 1), groups: 1), "\(input) \(weight)")
        }
    }

    /// Blocked `data` as plain [N, C, H, W] `shape`.
    static func unblocked(_ data: Tensor, _ shape: [Int]) -> Tensor {
        let (n, c, pixels) = (shape[0], shape[1], shape[2] * shape[3])
        var out = [Float](repeating: 0, count: shape.reduce(1, *))
        for b in 0..<n {
            for ch in 0..<c {
                for p in 0..<pixels { out[(b * c + ch) * pixels + p] = data.data[ChannelBlocks.index(b, ch, p, channels: c, pixels: pixels)] }
            }
        }
        return Tensor(shape: shape, data: out)
    }

    /// `t` [N, C, H, W] in blocks, the unused lanes of a partial block NaN (they must never be read).
    static func blocked(_ t: Tensor) -> Tensor {
        let (n, c, pixels) = (t.shape[0], t.shape[1], t.shape[2] * t.shape[3])
        var data = [Float](repeating: .nan, count: ChannelBlocks.floats(t.shape))
        for b in 0..<n {
            for ch in 0..<c {
                for p in 0..<pixels { data[ChannelBlocks.index(b, ch, p, channels: c, pixels: pixels)] = t.data[(b * c + ch) * pixels + p] }
            }
        }
        return Tensor(shape: [data.count], data: data)
    }

    /// Channels in blocks of 16 (`ChannelBlocks`) read, written, or both,
    /// by layers with their channels in lanes: full and partial blocks (20
    /// and 37 channels), strides, padding, a 4x4 kernel of stride 2, bands
    /// cut into rows, a batch, maps as wide as a tile or wider, a residual
    /// in the output's layout with relu or leaky relu after it, transposed
    /// layers' phases; and the layers that may not take them.
    @Test func blockedChannelsMatchReference() {
        var rng = Random(seed: 29)
        let pool = ThreadPool(threads: 2)
        func unblocked(_ data: Tensor, _ shape: [Int]) -> Tensor { Self.unblocked(data, shape) }
        for (c, o, k, size, stride, pad, n) in [(32, 64, 4, 14, 2, 1, 2), (20, 37, 3, 8, 1, 1, 1), (37, 16, 3, 9, 2, 0, 3),
                                                (16, 20, 1, 7, 1, 0, 2), (64, 32, 3, 4, 1, 1, 1), (48, 16, 5, 13, 1, 2, 1),
                                                (16, 32, 3, 16, 1, 1, 2), (20, 37, 3, 23, 1, 1, 1), (32, 16, 1, 33, 2, 0, 1)] {
            let x = Self.random([n, c, size, size], &rng), weight = Self.random([o, c, k, k], &rng), bias = Self.random([o], &rng)
            let g = Convolution.Geometry(stride: (stride, stride), padBegin: (pad, pad), padEnd: (pad, pad), dilation: (1, 1), groups: 1)
            let convolved = Convolution.forward(x, weight: weight, bias: bias, g), residual = Self.random(convolved.shape, &rng)
            for (layout, added) in [((true, false), false), ((false, true), false), ((true, true), false), ((false, true), true), ((true, true), true)] {
                let steps: [FusedEpilogue.Step] = added ? [.channelShift(bias.data), .residual(0), .function(.leakyRelu(0.1))]
                    : [.channelShift(bias.data), .function(.relu)]
                let expected = added ? Activation.leakyRelu(slope: 0.1).forward(Elementwise.sum([convolved, residual]))
                    : Activation.relu.forward(convolved)
                let kernel = ConvolutionKernel(input: x.shape, weight: weight, geometry: g, epilogue: FusedEpilogue(steps: steps), blocked: layout)
                let input = layout.0 ? Self.blocked(x) : x
                let shape = kernel.outputShape, floats = layout.1 ? ChannelBlocks.floats(shape) : shape.reduce(1, *)
                let raw = Self.run(kernel, input, residuals: added ? [layout.1 ? Self.blocked(residual) : residual] : [], shape: [floats], pool: pool)
                let fast = layout.1 ? unblocked(raw, shape) : Tensor(shape: shape, data: raw.data)
                #expect(Self.error(fast, expected) < 1e-5, "\(c) -> \(o), \(size)x\(size), \(layout), \(added): \(Self.error(fast, expected))")
                #expect(kernel.form.hasSuffix(layout.1 ? "to blocks of 16" : "from blocks of 16"), "\(kernel.form)")
            }
        }
        // Transposed: phases of one size sharing a band (kernel 4, stride 2), of two sizes (kernel 3, stride 2, output
        // padding 1) with partial blocks, and phases wider than a tile.
        for (c, o, k, h, w, outputPadding) in [(32, 16, 4, 7, 7, 0), (20, 37, 3, 9, 11, 1), (16, 20, 4, 18, 18, 0)] {
            let x = Self.random([2, c, h, w], &rng), weight = Self.random([c, o, k, k], &rng), bias = Self.random([o], &rng)
            let expected = Activation.relu.forward(Convolution.transposed(x, weight: weight, bias: bias, stride: (2, 2), padding: (1, 1),
                                                                          outputPadding: (outputPadding, outputPadding), dilation: (1, 1),
                                                                          groups: 1))
            for layout in [(true, false), (false, true), (true, true)] {
                let kernel = TransposedKernel(input: x.shape, weight: weight, stride: (2, 2), padding: (1, 1),
                                              outputPadding: (outputPadding, outputPadding), dilation: (1, 1), groups: 1,
                                              epilogue: FusedEpilogue(steps: [.channelShift(bias.data), .function(.relu)]), blocked: layout)
                let shape = kernel.outputShape, floats = layout.1 ? ChannelBlocks.floats(shape) : shape.reduce(1, *)
                let raw = Self.run(kernel, layout.0 ? Self.blocked(x) : x, shape: [floats], pool: pool)
                let fast = layout.1 ? unblocked(raw, shape) : Tensor(shape: shape, data: raw.data)
                #expect(Self.error(fast, expected) < 1e-5, "transposed \(c) -> \(o), \(h)x\(w), \(layout): \(Self.error(fast, expected))")
                #expect(kernel.form.hasSuffix(layout.1 ? "to blocks of 16" : "from blocks of 16"), "\(kernel.form)")
            }
        }
        // Rows wider than a tile, too few output channels for a tile's lanes (read from blocks by the plain tile at
        // stride 1, not at all at 2), two groups, a shuffle.
        let plain = FusedEpilogue(), same = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 1)
        let grouped = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 2)
        var halving = same
        halving.stride = (2, 2)
        for (kernel, allowed, narrow) in [
            (ConvolutionKernel(input: [1, 16, 20, 20], weight: Self.random([16, 16, 3, 3], &rng), geometry: same, epilogue: plain), (true, true), false),
            (ConvolutionKernel(input: [1, 16, 8, 8], weight: Self.random([8, 16, 3, 3], &rng), geometry: same, epilogue: plain), (true, false), false),
            (ConvolutionKernel(input: [1, 16, 8, 8], weight: Self.random([8, 16, 3, 3], &rng), geometry: halving, epilogue: plain),
             (false, false), false),
            (ConvolutionKernel(input: [1, 32, 8, 8], weight: Self.random([32, 16, 3, 3], &rng), geometry: grouped, epilogue: plain), (false, false), false),
            (ConvolutionKernel(input: [1, 16, 8, 8], weight: Self.random([64, 16, 3, 3], &rng), geometry: same, epilogue: plain, shuffle: 2),
             (true, false), true),
            (ConvolutionKernel(input: [1, 16, 8, 8], weight: Self.random([16, 16, 3, 3], &rng), geometry: same, epilogue: plain), (true, true), true)
        ] {
            #expect(kernel.blocks == allowed && kernel.lanes.reading == narrow,
                    "\(kernel.inputShape) -> \(kernel.outputShape): \(kernel.blocks), lanes \(kernel.lanes)")
        }
    }

    /// A sketch (a kernel without its weights) tells what its kernel tells
    /// of its form, output, scratch and channel blocks: a plan lays out its
    /// values from sketches and prepares each kernel once, for that layout.
    @Test func sketchesTellWhatTheirKernelsTell() {
        var rng = Random(seed: 41)
        func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
        func facts(_ kernel: PreparedKernel) -> String {
            let form: String = switch kernel {
            case let k as ConvolutionKernel: "\(k.form) \(k.outputShape)"
            case let k as WinogradKernel: "\(k.form) \(k.outputShape)"
            case let k as LanesWinogradKernel: "\(k.form) \(k.outputShape) \(k.rowFormApplies)"
            case let k as TransposedKernel: "\(k.form) \(k.outputShape)"
            case let k as TransposedColumnsKernel: "\(k.form) \(k.outputShape)"
            case let k as LinearKernel: "linear \(k.rows) x \(k.outputs)"
            default: "\(type(of: kernel))"
            }
            let blocks = (kernel as? ChannelBlockable).map { " \($0.blocks) \($0.readsBlocksAlone) \($0.lanes)" } ?? ""
            return form + " scratch \(kernel.scratchFloats)" + blocks
        }
        var checked = Set<String>()
        func expectSame(_ what: String, _ make: (Bool) -> PreparedKernel) {
            let (sketch, kernel) = (make(true), make(false))
            checked.insert("\(type(of: kernel))")
            #expect(sketch.isSketch && !kernel.isSketch && facts(sketch) == facts(kernel), "\(what): \(facts(sketch)) | \(facts(kernel))")
        }
        let plain = FusedEpilogue()
        for trial in 0..<80 {
            let (n, c, o) = (pick([1, 2, 8]), pick([3, 16, 20, 32, 64]), pick([1, 8, 16, 37, 64]))
            let (h, w, k, s) = (pick([4, 7, 8, 14, 20]), pick([4, 9, 16, 20]), pick([1, 3, 4]), pick([1, 2]))
            let input = [n, c, h, w], pad = k == 4 ? 1 : k / 2, what = "trial \(trial): \(input), \(o) out, \(k)x\(k) s\(s)"
            let g = Convolution.Geometry(stride: (s, s), padBegin: (pad, pad), padEnd: (pad, pad), dilation: (1, 1), groups: 1)
            let weight = Self.random([o, c, k, k], &rng), transposed = Self.random([c, o, k, k], &rng)
            let allowed = ConvolutionKernel(input: input, weight: weight, geometry: g, epilogue: plain).blocks
            for layout in [(false, false), allowed] {
                expectSame(what + " \(layout)") {
                    ConvolutionKernel(input: input, weight: weight, geometry: g, epilogue: plain, blocked: layout, sketch: $0)
                }
            }
            if WinogradKernel.applies(input: input, weight: weight.shape, geometry: g) {
                expectSame(what) { WinogradKernel(input: input, weight: weight, geometry: g, epilogue: plain, sketch: $0) }
            }
            if LanesWinogradKernel.applies(input: input, weight: weight.shape, geometry: g) {
                expectSame(what) {
                    LanesWinogradKernel(convolution: input, weight: weight, padding: (pad, pad), epilogue: plain, blocked: (true, true), sketch: $0)
                }
            }
            if LanesWinogradKernel.stridedApplies(input: input, weight: weight.shape, geometry: g) {
                expectSame(what) { LanesWinogradKernel(strided: input, weight: weight, padding: (pad, pad), epilogue: plain, sketch: $0) }
            }
            let (stride, padding) = ((s, s), (pad, pad))
            expectSame(what + " transposed") {
                TransposedKernel(input: input, weight: transposed, stride: stride, padding: padding, outputPadding: (0, 0), dilation: (1, 1),
                                 groups: 1, epilogue: plain, sketch: $0)
            }
            if LanesWinogradKernel.transposedApplies(input: input, weight: transposed.shape, stride: stride, padding: padding,
                                                     outputPadding: (0, 0), dilation: (1, 1), groups: 1) {
                expectSame(what + " transposed") { LanesWinogradKernel(transposed: input, weight: transposed, epilogue: plain, sketch: $0) }
            }
            if TransposedColumnsKernel.applies(weight: transposed.shape, stride: stride, padding: padding, outputPadding: (0, 0),
                                               dilation: (1, 1), groups: 1) {
                expectSame(what + " transposed") { TransposedColumnsKernel(input: input, weight: transposed, epilogue: plain, sketch: $0) }
            }
            let features = Self.random([o, c * h * w], &rng)
            expectSame(what + " linear") { LinearKernel(rows: n, weight: features, epilogue: plain, sketch: $0) }
        }
        // The row form's maps and one output channel of a 4x4 transposed layer, rare among the shapes above.
        let same = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 1)
        for (input, o) in [([2, 32, 8, 16], 32), ([1, 64, 14, 32], 40)] {
            let weight = Self.random([o, input[1], 3, 3], &rng)
            #expect(WinogradKernel.applies(input: input, weight: weight.shape, geometry: same), "\(input)")
            expectSame("row form \(input)") { WinogradKernel(input: input, weight: weight, geometry: same, epilogue: plain, sketch: $0) }
        }
        for (input, blocked) in [([2, 64, 16, 16], false), ([1, 20, 7, 9], true)] {
            let weight = Self.random([input[1], 1, 4, 4], &rng)
            expectSame("by columns \(input)") {
                TransposedColumnsKernel(input: input, weight: weight, epilogue: plain, blocked: blocked, sketch: $0)
            }
        }
        #expect(checked.count == 6, "kernels checked: \(checked.sorted())")
    }

    /// Blocked inputs of stride-1 layers that do not write blocks, read by
    /// the plain tile from a band copied out of the blocks: rows of 16
    /// pixels or more (transposed 16 at a time, the last 16 overlapping),
    /// narrower ones (transposed whole, the rest spilling onto the next
    /// row), partial blocks (37 and 20 channels), a single output channel,
    /// 24 output channels on a wide map, a batch, bands of many rows and of
    /// few, padding; transposed layers' phases of 7x7 and 16x16.
    @Test func plainTileReadsBlocks() {
        var rng = Random(seed: 31)
        let pool = ThreadPool(threads: 2)
        for (c, o, k, h, w, pad) in [(37, 3, 3, 14, 14, 1), (20, 9, 5, 9, 40, 2), (16, 1, 3, 12, 12, 1), (32, 24, 3, 20, 20, 1),
                                     (48, 2, 3, 5, 17, 0), (16, 8, 1, 31, 33, 0)] {
            // Scaled as an initializer would, so that tanh's inputs are not all far into its saturation.
            let x = Self.random([2, c, h, w], &rng), bias = Self.random([o], &rng)
            let weight = Tensor(shape: [o, c, k, k], data: Self.random([o, c, k, k], &rng).data.map { $0 / Float(c * k * k).squareRoot() })
            let g = Convolution.Geometry(stride: (1, 1), padBegin: (pad, pad), padEnd: (pad, pad), dilation: (1, 1), groups: 1)
            let expected = Activation.tanh.forward(Convolution.forward(x, weight: weight, bias: bias, g))
            let kernel = ConvolutionKernel(input: x.shape, weight: weight, geometry: g,
                                           epilogue: FusedEpilogue(steps: [.channelShift(bias.data), .function(.tanh)]), blocked: (true, false))
            let fast = Self.run(kernel, Self.blocked(x), shape: kernel.outputShape, pool: pool)
            #expect(Self.error(fast, expected) < 1e-5, "\(c) -> \(o), \(h)x\(w): \(Self.error(fast, expected))")
            #expect(kernel.form.hasSuffix("from blocks of 16") && !kernel.form.contains("lanes"), "\(kernel.form)")
        }
        for (c, o, size) in [(32, 1, 14), (64, 3, 16), (20, 5, 7)] {
            let x = Self.random([2, c, size, size], &rng), weight = Self.random([c, o, 4, 4], &rng), bias = Self.random([o], &rng)
            let expected = Activation.sigmoid.forward(Convolution.transposed(x, weight: weight, bias: bias, stride: (2, 2), padding: (1, 1),
                                                                             outputPadding: (0, 0), dilation: (1, 1), groups: 1))
            let kernel = TransposedKernel(input: x.shape, weight: weight, stride: (2, 2), padding: (1, 1), outputPadding: (0, 0),
                                          dilation: (1, 1), groups: 1,
                                          epilogue: FusedEpilogue(steps: [.channelShift(bias.data), .function(.sigmoid)]), blocked: (true, false))
            let fast = Self.run(kernel, Self.blocked(x), shape: kernel.outputShape, pool: pool)
            #expect(Self.error(fast, expected) < 1e-5, "transposed \(c) -> \(o), \(size)x\(size): \(Self.error(fast, expected))")
        }
    }

    /// `ChannelBlocks.transpose`: 16 pixels' channels into channel rows, and
    /// fewer (zeros past them) into fewer rows (nothing stored past them).
    @Test func channelBlockTranspose() {
        var rng = Random(seed: 37)
        for (pixels, count) in [(16, 16), (11, 16), (16, 5), (3, 9), (8, 8), (9, 1)] {
            let source = Self.random([16 * 16], &rng).data, stride = 21
            var target = [Float](repeating: .nan, count: 16 * stride)
            source.withUnsafeBufferPointer { s in
                target.withUnsafeMutableBufferPointer { t in
                    ChannelBlocks.transpose(s.baseAddress!, pixels: pixels, into: t.baseAddress!, stride: stride, count: count)
                }
            }
            for c in 0..<16 {
                for p in 0..<stride {
                    let value = target[c * stride + p]
                    if c >= count || p >= 16 {
                        #expect(value.isNaN, "\(pixels) pixels, \(count) rows: (\(c), \(p)) written")
                    } else {
                        #expect(value == (p < pixels ? source[p * 16 + c] : 0), "\(pixels) pixels, \(count) rows: (\(c), \(p))")
                    }
                }
            }
        }
    }

    /// A layer and the 1x1 layer after it, band by band: bands of 1-4 rows
    /// (a partial last one), rows not a multiple of 16 wide (tiles read
    /// past a row's end in the middle band), channels in lanes for the
    /// second (a 9-wide map), a residual on the second, a batch of 2; and
    /// the cases it refuses (a 3x3 second layer, padding, a shuffle).
    @Test func chainedConvolutionsMatchReference() {
        var rng = Random(seed: 23)
        let pool = ThreadPool(threads: 2)
        for (c, mid, o, k, h, w, rows) in [(1, 24, 7, 9, 13, 37, 4), (3, 64, 32, 3, 11, 20, 1), (2, 16, 20, 5, 10, 9, 3),
                                            (5, 8, 3, 3, 7, 16, 2)] {
            let x = Self.random([2, c, h, w], &rng), w1 = Self.random([mid, c, k, k], &rng), w2 = Self.random([o, mid, 1, 1], &rng)
            let b1 = Self.random([mid], &rng), b2 = Self.random([o], &rng), residual = Self.random([2, o, h, w], &rng)
            let same = Convolution.Geometry(stride: (1, 1), padBegin: (k / 2, k / 2), padEnd: (k / 2, k / 2), dilation: (1, 1), groups: 1)
            let pointwise = Convolution.Geometry(stride: (1, 1), padBegin: (0, 0), padEnd: (0, 0), dilation: (1, 1), groups: 1)
            let middle = Activation.relu.forward(Convolution.forward(x, weight: w1, bias: b1, same))
            let expected = Elementwise.sum([Activation.tanh.forward(Convolution.forward(middle, weight: w2, bias: b2, pointwise)), residual])
            let first = ConvolutionKernel(input: x.shape, weight: w1, geometry: same,
                                          epilogue: FusedEpilogue(steps: [.channelShift(b1.data), .function(.relu)]), bandRows: rows)
            let second = ConvolutionKernel(input: middle.shape, weight: w2, geometry: pointwise,
                                           epilogue: FusedEpilogue(steps: [.channelShift(b2.data), .function(.tanh), .residual(0)]),
                                           bandRows: rows)
            let chain = try! #require(ConvolutionChain(first: first, second: second))
            let fast = Self.run(chain, x, residuals: [residual], shape: expected.shape, pool: pool)
            #expect(Self.error(fast, expected) < 1e-5, "\(c) -> \(mid) -> \(o), \(h)x\(w), \(rows) rows: \(Self.error(fast, expected))")
        }
        let x = [1, 4, 12, 12], w1 = Self.random([8, 4, 3, 3], &rng), plain = FusedEpilogue()
        let same = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 1)
        let pointwise = Convolution.Geometry(stride: (1, 1), padBegin: (0, 0), padEnd: (0, 0), dilation: (1, 1), groups: 1)
        let first = ConvolutionKernel(input: x, weight: w1, geometry: same, epilogue: plain, bandRows: 2)
        for second in [ConvolutionKernel(input: first.outputShape, weight: Self.random([4, 8, 3, 3], &rng), geometry: same, epilogue: plain, bandRows: 2),
                       ConvolutionKernel(input: first.outputShape, weight: Self.random([4, 8, 1, 1], &rng), geometry: same, epilogue: plain, bandRows: 2),
                       ConvolutionKernel(input: first.outputShape, weight: Self.random([8, 8, 1, 1], &rng), geometry: pointwise, epilogue: plain,
                                         shuffle: 2, bandRows: 2),
                       ConvolutionKernel(input: first.outputShape, weight: Self.random([4, 8, 1, 1], &rng), geometry: pointwise, epilogue: plain,
                                         bandRows: 3)] {
            #expect(ConvolutionChain(first: first, second: second) == nil, "\(second.outputShape)")
        }
    }

    /// Every epilogue step with a pixel shuffle, on a narrow map (tiles across
    /// rows, or with 20 channels, channels in lanes) and a wide one (tiles within rows).
    @Test func epiloguesMatchTheOpsTheyReplace() {
        var rng = Random(seed: 3)
        let pool = ThreadPool(threads: 2)
        for (h, w, o) in [(6, 6, 8), (5, 37, 8), (6, 6, 20)] {
            let x = Self.random([2, 4, h, w], &rng), weight = Self.random([o, 4, 3, 3], &rng), residual = Self.random([2, o, h, w], &rng)
            let scale = Self.random([o], &rng), shift = Self.random([o], &rng), slopes = Self.random([o], &rng)
            let g = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 1)
            var expected = Convolution.forward(x, weight: weight, bias: nil, g)
            let plane = h * w
            for i in 0..<expected.count { expected.data[i] = expected.data[i] * scale.data[(i / plane) % o] + shift.data[(i / plane) % o] }
            expected = Activation.prelu(expected, weight: slopes)
            expected = Elementwise.sum([Elementwise.scale(expected, by: 0.5), residual])
            for i in 0..<expected.count { expected.data[i] = expected.data[i] * slopes.data[(i / plane) % o] + shift.data[(i / plane) % o] }
            expected = Activation.tanh.forward(expected)
            expected = Layout.pixelShuffle(expected, factor: 2)
            let epilogue = FusedEpilogue(steps: [.channelShift(shift.data), .prelu(slopes.data), .multiply(0.5), .residual(0),
                                                 .channelScale(slopes.data), .channelShift(shift.data), .function(.tanh)])
            let kernel = ConvolutionKernel(input: x.shape, weight: weight, geometry: g, scale: scale.data, epilogue: epilogue, shuffle: 2)
            let fast = Self.run(kernel, x, residuals: [residual], shape: kernel.outputShape, pool: pool)
            #expect(Self.error(fast, expected) < 1e-5, "\(h)x\(w), \(o) channels: \(Self.error(fast, expected))")
        }
    }

    /// The epilogues whose tiles are stored by a loop of their own (a
    /// shift, then a residual or not, then relu, tanh or nothing), and one
    /// that takes the general path, on rows of full 16-column strips in
    /// blocks of 6 and 4 output channels.
    @Test func storedEpilogueFormsMatchReference() {
        var rng = Random(seed: 23)
        let pool = ThreadPool(threads: 2)
        let x = Self.random([2, 5, 9, 32], &rng), weight = Self.random([10, 5, 3, 3], &rng), residual = Self.random([2, 10, 9, 32], &rng)
        let shift = Self.random([10], &rng)
        let g = Convolution.Geometry(stride: (1, 1), padBegin: (1, 1), padEnd: (1, 1), dilation: (1, 1), groups: 1)
        let shifted = Convolution.forward(x, weight: weight, bias: shift, g), added = Elementwise.sum([shifted, residual])
        let cases: [([FusedEpilogue.Step], Tensor)] = [
            ([.channelShift(shift.data)], shifted),
            ([.channelShift(shift.data), .function(.relu)], Activation.relu.forward(shifted)),
            ([.channelShift(shift.data), .function(.tanh)], Activation.tanh.forward(shifted)),
            ([.channelShift(shift.data), .residual(0)], added),
            ([.channelShift(shift.data), .residual(0), .function(.relu)], Activation.relu.forward(added)),
            ([.channelShift(shift.data), .residual(0), .function(.leakyRelu(0.25))], Activation.leakyRelu(slope: 0.25).forward(added)),
        ]
        for (steps, expected) in cases {
            let kernel = ConvolutionKernel(input: x.shape, weight: weight, geometry: g, epilogue: FusedEpilogue(steps: steps))
            let fast = Self.run(kernel, x, residuals: [residual], shape: kernel.outputShape, pool: pool)
            #expect(Self.error(fast, expected) < 1e-5, "\(steps): \(Self.error(fast, expected))")
        }
    }

    @Test func linearMatchesReference() {
        var rng = Random(seed: 8)
        let pool = ThreadPool(threads: 2)
        for (rows, f, o) in [(1, 7, 3), (2, 400, 120), (3, 33, 17), (4, 5, 6), (130, 9, 5), (1, 3136, 20), (32, 3136, 20), (37, 300, 70)] {
            let x = Self.random([rows, f], &rng), w = Self.random([o, f], &rng), b = Self.random([o], &rng)
            let residual = Self.random([rows, o], &rng)
            let reference = Elementwise.sum([Activation.leakyRelu(slope: 0.2).forward(Linear.forward(x, weight: w, bias: b)), residual])
            let kernel = LinearKernel(rows: rows, weight: w,
                                      epilogue: FusedEpilogue(steps: [.channelShift(b.data), .function(.leakyRelu(0.2)), .residual(0)]))
            let fast = Self.run(kernel, x, residuals: [residual], shape: [rows, o], pool: pool)
            #expect(Self.error(fast, reference) < 1e-5, "\(rows)x\(f)x\(o)")
            // In place, as a plan runs it when nothing reads the residual afterwards.
            var inPlace = residual
            x.data.withUnsafeBufferPointer { xs in
                inPlace.data.withUnsafeMutableBufferPointer { ys in
                    kernel.run(xs.baseAddress!, residuals: [UnsafePointer(ys.baseAddress!)], output: ys.baseAddress!, pool: pool)
                }
            }
            #expect(Self.error(inPlace, reference) < 1e-5, "\(rows)x\(f)x\(o) in place")
        }
        // The common epilogue (a shift, maybe a residual, then relu, tanh or nothing): on a few rows whole on AVX-512
        // where there is one; on more, with whole blocks of 16 outputs, on the lanes tile in C.
        for (rows, f, o, function, activation) in [(1, 20, 3136, PointwiseFunction.relu, Activation.relu), (2, 100, 200, .tanh, .tanh),
                                                   (32, 20, 256, .relu, .relu), (37, 16, 48, .tanh, .tanh), (5, 300, 32, .relu, .relu),
                                                   (61, 7, 16, .tanh, .tanh)] {
            let x = Self.random([rows, f], &rng), w = Self.random([o, f], &rng), b = Self.random([o], &rng)
            let residual = Self.random([rows, o], &rng)
            for added in [false, true] {
                let steps: [FusedEpilogue.Step] = [.channelShift(b.data)] + (added ? [.residual(0)] : []) + [.function(function)]
                let kernel = LinearKernel(rows: rows, weight: w, epilogue: FusedEpilogue(steps: steps))
                let fast = Self.run(kernel, x, residuals: added ? [residual] : [], shape: [rows, o], pool: pool)
                let sum = Linear.forward(x, weight: w, bias: b)
                let expected = activation.forward(added ? Elementwise.sum([sum, residual]) : sum)
                #expect(Self.error(fast, expected) < 1e-5, "\(rows)x\(f)x\(o), residual: \(added)")
            }
        }
    }

    @Test func pointwiseFunctionsMatchReference() {
        var rng = Random(seed: 9)
        let pool = ThreadPool(threads: 2)
        let x = Tensor(shape: [2, 3, 7, 5], data: rng.normal(count: 210).map { $0 * 4 })
        let cases: [(PointwiseFunction, Activation)] = [
            (.relu, .relu), (.leakyRelu(0.1), .leakyRelu(slope: 0.1)), (.sigmoid, .sigmoid), (.tanh, .tanh), (.silu, .silu),
            (.elu(0.7), .elu(alpha: 0.7)), (.gelu(tanhApproximation: true), .gelu(tanhApproximation: true)),
            (.gelu(tanhApproximation: false), .gelu(tanhApproximation: false)),
        ]
        for (f, reference) in cases {
            let kernel = PointwiseKernel(outer: 1, channels: 1, inner: x.count, epilogue: FusedEpilogue(steps: [.function(f)]))
            let fast = Self.run(kernel, x, shape: x.shape, pool: pool)
            let expected = reference.forward(x)
            let worst = zip(fast.data, expected.data).map { abs(Double($0) - Double($1)) }.max() ?? 0
            #expect(worst < 2e-6, "\(f.name): absolute error \(worst)")
        }
        // Batch norm as a per-channel scale and shift, with a residual.
        let k = Self.random([3], &rng), t = Self.random([3], &rng), r = Self.random(x.shape, &rng)
        var expected = x
        for i in 0..<x.count { expected.data[i] = x.data[i] * k.data[(i / 35) % 3] + t.data[(i / 35) % 3] + r.data[i] }
        let kernel = PointwiseKernel(outer: 2, channels: 3, inner: 35,
                                     epilogue: FusedEpilogue(steps: [.channelScale(k.data), .channelShift(t.data), .residual(0)]))
        #expect(Self.error(Self.run(kernel, x, residuals: [r], shape: x.shape, pool: pool), expected) < 1e-6)
    }

    @Test func poolingMatchesReference() {
        var rng = Random(seed: 31)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<60 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            let k = (pick([1, 2, 3]), pick([2, 3])), s = (pick([1, 2]), pick([1, 2, 3]))
            let p = (pick([0, 1]), pick([0, 1])), ceil = pick([0, 1]) == 1
            guard p.0 * 2 <= k.0 && p.1 * 2 <= k.1 else { continue }
            let x = Self.random([pick([1, 2]), pick([1, 3]), pick([4, 7, 9]), pick([5, 8])], &rng)
            let window = Pooling.Window(kernel: k, stride: s, padding: p, ceilMode: ceil)
            for (average, include) in [(false, true), (true, true), (true, false)] {
                let kernel = PoolingKernel(input: x.shape, window: window, average: average, countIncludePad: include)
                let fast = Self.run(kernel, x, shape: kernel.outputShape, pool: pool)
                let reference = average ? Pooling.average(x, window, countIncludePad: include) : Pooling.max(x, window)
                #expect(Self.error(fast, reference) < 1e-6, "trial \(trial) average \(average)")
            }
        }
        // LeNet's and VGG's windows, pairs of columns taken 8 at a time, with odd widths' tails.
        for (shape, k) in [([2, 3, 28, 28], (2, 2)), ([1, 2, 9, 37], (2, 2)), ([3, 4, 10, 11], (2, 2)), ([1, 2, 6, 19], (3, 2))] {
            let x = Self.random(shape, &rng), window = Pooling.Window(kernel: k, stride: (2, 2), padding: (0, 0), ceilMode: false)
            for average in [false, true] {
                let kernel = PoolingKernel(input: x.shape, window: window, average: average, countIncludePad: true)
                let reference = average ? Pooling.average(x, window, countIncludePad: true) : Pooling.max(x, window)
                #expect(Self.error(Self.run(kernel, x, shape: kernel.outputShape, pool: pool), reference) < 1e-6, "\(shape) average \(average)")
            }
        }
        // Global pooling: planes of 21 (16 lanes and a tail), 64 (ResNet-20's 8x8) and 5 values; channels in blocks,
        // whole and partial (20: 16 + 4), and a single pixel.
        for shape in [[2, 5, 3, 7], [3, 4, 8, 8], [1, 3, 1, 5], [2, 20, 3, 3], [1, 32, 8, 8], [2, 16, 1, 1]] {
            let x = Self.random(shape, &rng)
            for (average, blocks) in [(false, false), (true, false), (false, true), (true, true)] where !blocks || shape[1] >= 16 {
                let kernel = PoolingKernel(global: x.shape, average: average, blocked: blocks)
                let fast = Self.run(kernel, blocks ? Self.blocked(x) : x, shape: Array(shape.prefix(2)), pool: pool)
                #expect(Self.error(fast, Pooling.global(x, average: average, keepdims: false)) < 1e-6,
                        "\(shape) average \(average) blocked \(blocks)")
            }
        }
    }

    /// Work items: a part of a job's row blocks copies the job's band
    /// again, so a job is cut only as far as balancing the threads needs.
    @Test func jobsAreCutOnlyToBalanceThreads() {
        func parts(_ jobs: Int, _ blocks: Int, _ threads: Int) -> [Range<Int>] {
            let split = PackedGEMM.Split(jobs: jobs, blocks: blocks, threads: threads)
            return (0..<split.items).filter { split.item($0).job == 0 }.map { split.item($0).rowBlocks }
        }
        #expect(parts(1, 11, 1) == [0..<11])
        #expect(parts(4, 3, 2) == [0..<3])
        #expect(parts(1, 4, 2) == [0..<2, 2..<4])
        #expect(parts(3, 3, 2) == [0..<2, 2..<3])
        #expect(parts(1, 1, 2) == [0..<1])
        for (jobs, blocks, threads) in [(1, 11, 2), (3, 7, 2), (5, 6, 4), (2, 9, 3)] {
            let split = PackedGEMM.Split(jobs: jobs, blocks: blocks, threads: threads)
            #expect(split.items % threads == 0, "\(jobs) jobs on \(threads) threads: \(split.items) items")
            for job in 0..<jobs {
                let covered = (0..<split.items).filter { split.item($0).job == job }.flatMap { Array(split.item($0).rowBlocks) }
                #expect(covered == Array(0..<blocks))
            }
        }
    }

    @Test func vectorMathIsAccurate() {
        let xs = stride(from: -30.0, through: 30.0, by: 0.013).map(Float.init)
        var worst = (exp: 0.0, tanh: 0.0, erf: 0.0)
        for chunk in stride(from: 0, to: xs.count - 16, by: 16) {
            let v = SIMD16<Float>((0..<16).map { xs[chunk + $0] })
            let e = VectorMath.exp(v), t = VectorMath.tanh(v), r = VectorMath.erf(v)
            for i in 0..<16 {
                let x = Double(v[i])
                worst.exp = max(worst.exp, abs(Double(e[i]) - Foundation.exp(x)) / Foundation.exp(x))
                worst.tanh = max(worst.tanh, abs(Double(t[i]) - Foundation.tanh(x)))
                worst.erf = max(worst.erf, abs(Double(r[i]) - Foundation.erf(x)))
            }
        }
        #expect(worst.exp < 5e-7 && worst.tanh < 5e-7 && worst.erf < 5e-7, "\(worst)")
        // relu is exact, on zeros of either sign, infinities and the extremes too.
        let edges: [Float] = [0, -0.0, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                              .leastNonzeroMagnitude, -.leastNonzeroMagnitude]
        for x in xs + edges {
            #expect(VectorMath.relu(SIMD16(repeating: x))[0] == max(x, 0), "relu(\(x))")
        }
        // So is max, either way round, on 8 or 16 lanes.
        let values = edges + [1, -1, 3.5, -2.25, 1e-30, -1e30]
        for a in values {
            for b in values {
                let (u, v) = (SIMD16<Float>(repeating: a), SIMD16<Float>(repeating: b))
                #expect(VectorMath.max(u, v)[0] == max(a, b) && VectorMath.max(u.lowHalf, v.lowHalf)[7] == max(a, b), "max(\(a), \(b))")
            }
        }
    }
}

extension FastKernelTests {
    @Test func transposedConvolutionMatchesReference() {
        var rng = Random(seed: 23)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<120 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            let groups = pick([1, 1, 2]), cg = pick([1, 3, 4]), og = pick([1, 2, 5, 8, 16])
            let (kh, kw) = (pick([1, 2, 3, 4]), pick([1, 3, 4]))
            let stride = (pick([1, 2, 3]), pick([1, 2])), dilation = (pick([1, 2]), pick([1, 3]))
            let padding = (pick([0, 1]), pick([0, 1, 2]))
            let outputPadding = (pick([0, max(stride.0, dilation.0) - 1]), 0)
            let x = Self.random([pick([1, 2]), groups * cg, pick([1, 3, 7]), pick([2, 5, 9, 14, 23])], &rng)
            let weight = Self.random([groups * cg, og, kh, kw], &rng), bias = Self.random([groups * og], &rng)
            let ho = (x.shape[2] - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
            let wo = (x.shape[3] - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + 1
            guard ho > 0 && wo > 0 else { continue }
            let reference = Convolution.transposed(x, weight: weight, bias: bias, stride: stride, padding: padding,
                                                   outputPadding: outputPadding, dilation: dilation, groups: groups)
            let kernel = TransposedKernel(input: x.shape, weight: weight, stride: stride, padding: padding, outputPadding: outputPadding,
                                          dilation: dilation, groups: groups, epilogue: FusedEpilogue(steps: [.channelShift(bias.data)]))
            let fast = Self.run(kernel, x, shape: kernel.outputShape, pool: pool)
            #expect(Self.error(fast, reference) < 1e-5, "trial \(trial): error \(Self.error(fast, reference)) x \(x.shape) w \(weight.shape) s \(stride) p \(padding) op \(outputPadding) d \(dilation)")
        }
        // Deep phases, cut into slices: 100 channels x 2 x 2 taps; then with 40 output channels in lanes.
        for (o, groups) in [(9, 1), (40, 1), (20, 2)] {
            let x = Self.random([1, 100, 6, 7], &rng), weight = Self.random([100, o, 4, 4], &rng)
            let kernel = TransposedKernel(input: x.shape, weight: weight, stride: (2, 2), padding: (1, 1), outputPadding: (0, 0),
                                          dilation: (1, 1), groups: groups, epilogue: FusedEpilogue())
            let reference = Convolution.transposed(x, weight: weight, bias: nil, stride: (2, 2), padding: (1, 1),
                                                   outputPadding: (0, 0), dilation: (1, 1), groups: groups)
            #expect(Self.error(Self.run(kernel, x, shape: kernel.outputShape, pool: pool), reference) < 1e-5, "\(o)\(kernel.form)")
        }
        // Wide phases (20x19) of a deep layer (128 channels x 2 x 2 taps): 31 channels in row blocks of 6 x 4 + 4 + 3.
        let x = Self.random([1, 128, 20, 19], &rng), weight = Self.random([128, 31, 4, 4], &rng)
        let kernel = TransposedKernel(input: x.shape, weight: weight, stride: (2, 2), padding: (1, 1), outputPadding: (0, 0),
                                      dilation: (1, 1), groups: 1, epilogue: FusedEpilogue())
        let reference = Convolution.transposed(x, weight: weight, bias: nil, stride: (2, 2), padding: (1, 1),
                                               outputPadding: (0, 0), dilation: (1, 1), groups: 1)
        #expect(kernel.form == "")
        #expect(Self.error(Self.run(kernel, x, shape: kernel.outputShape, pool: pool), reference) < 1e-5)
    }
}

extension FastKernelTests {
    /// Instance and group norm with an epilogue that has per-channel values
    /// (a prelu) and a residual, on maps whose sizes leave tails of fewer than
    /// 16 values, span several 4096-value partial sums, and sit far from zero.
    @Test func groupNormMatchesReference() {
        var rng = Random(seed: 41)
        let pool = ThreadPool(threads: 2)
        for (shape, groups, offset) in [([2, 6, 5, 7], 6, 0), ([3, 8, 9, 1], 2, 0), ([1, 4, 70, 90], 4, 100), ([2, 3, 11], 1, -3)] {
            var x = Self.random(shape, &rng)
            x.data = x.data.map { $0 + Float(offset) }
            let c = shape[1], weight = Self.random([c], &rng), bias = Self.random([c], &rng)
            let slopes = Self.random([c], &rng), residual = Self.random(shape, &rng)
            let kernel = GroupNormKernel(input: shape, groups: groups, weight: weight.data, bias: bias.data, eps: 1e-5,
                                         epilogue: FusedEpilogue(steps: [.prelu(slopes.data), .residual(0)]))
            let normalized = Normalization.group(x, groups: groups, weight: weight, bias: bias, eps: 1e-5)
            let expected = Elementwise.sum([Activation.prelu(normalized, weight: slopes), residual])
            let fast = Self.run(kernel, x, residuals: [residual], shape: shape, pool: pool)
            #expect(Self.error(fast, expected) < 1e-5, "\(shape) groups \(groups): \(Self.error(fast, expected))")
            // Without affine terms or an epilogue, in place.
            let plain = GroupNormKernel(input: shape, groups: groups, weight: nil, bias: nil, eps: 1e-3, epilogue: FusedEpilogue())
            var inPlace = x
            inPlace.data.withUnsafeMutableBufferPointer { p in
                plain.run(p.baseAddress!, residuals: [], output: p.baseAddress!, pool: pool)
            }
            let reference = Normalization.group(x, groups: groups, weight: nil, bias: nil, eps: 1e-3)
            #expect(Self.error(inPlace, reference) < 1e-5, "\(shape) groups \(groups) in place")
        }
    }

    @Test func padAndUpsampleMatchReference() {
        var rng = Random(seed: 43)
        let pool = ThreadPool(threads: 2)
        for trial in 0..<40 {
            func pick(_ values: [Int]) -> Int { values[Int(rng.next() % UInt64(values.count))] }
            let x = Self.random([pick([1, 2]), pick([1, 3]), pick([4, 5, 9]), pick([4, 6, 17])], &rng)
            let amounts = (0..<4).map { _ in pick([0, 1, 2, 3]) }
            for mode in [Layout.PadMode.zeros, .reflect, .replicate] {
                let kernel = PadKernel(input: x.shape, top: amounts[0], bottom: amounts[1], left: amounts[2], right: amounts[3], mode: mode)
                let reference = Layout.pad(x, top: amounts[0], bottom: amounts[1], left: amounts[2], right: amounts[3], mode: mode)
                #expect(Self.error(Self.run(kernel, x, shape: kernel.outputShape, pool: pool), reference) == 0,
                        "trial \(trial): pad \(amounts) \(mode)")
            }
            let scale = (pick([1, 2, 3]), pick([1, 2, 4]))
            for (bilinear, corners) in [(false, false), (true, false), (true, true)] {
                let kernel = UpsampleKernel(input: x.shape, scale: scale, bilinear: bilinear, alignCorners: corners)
                let reference = Layout.upsample(x, scale: scale, bilinear: bilinear, alignCorners: corners)
                #expect(Self.error(Self.run(kernel, x, shape: kernel.outputShape, pool: pool), reference) < 1e-6,
                        "trial \(trial): upsample \(scale) bilinear \(bilinear) align_corners \(corners)")
            }
        }
    }
}
