/// A transposed convolution prepared for one input shape, as stride_y x
/// stride_x ordinary convolutions: output pixels whose coordinates leave the
/// same remainder modulo the stride (a phase) are reached by the same
/// kernel taps, so each phase is an ordinary convolution over only its
/// taps, run in the direct form of `DirectBand`, its results written
/// straight to their pixels with the epilogue applied in registers. Nothing
/// is scattered or accumulated in memory, and when the phases are of one
/// size their input rows are copied once for all of them. Tested against
/// `Convolution.transposed` in FastKernelTests.
public final class TransposedKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]

    /// One phase: its output rows, packed weights and band.
    struct Phase {
        var rows: Int
        /// Output pixel index (oy * W' + ox) of the phase's first pixel, and
        /// the distance between its rows.
        var origin: Int, pitch: Int
        /// Packed weights of every group, one after another.
        var packed: [Float]
        var band: DirectBand
    }

    let phases: [Phase]
    let groups: Int
    let outChannels: Int
    let epilogue: FusedEpilogue
    /// Whether every phase reads one band, copied once per job.
    let shared: Bool
    /// As `ConvolutionKernel.blocks`: a phase's pixels, every other column
    /// of the output, are each a vector in blocks. Phases are of stride 1:
    /// with one group, they read blocks (`readsBlocksAlone`).
    public let blocks: (input: Bool, output: Bool)
    public var readsBlocksAlone: Bool { true }
    public let lanes: (reading: Bool, writing: Bool)
    /// A sketch: the form and layout facts alone, no weights (see `PreparedKernel.isSketch`).
    public let isSketch: Bool
    /// (phases, batch, group, first phase row) of each job.
    let jobs: [(Range<Int>, Int, Int, Int)]

    /// weight: [C, O/groups, kH, kW]; `scale` multiplies output channel o's weights. `blocked` says which of
    /// input and output hold their channels in blocks (`ChannelBlocks`); only where `blocks` allows.
    public init(input: [Int], weight: Tensor, stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int),
                dilation: (Int, Int), groups: Int, scale: [Float]? = nil, epilogue: FusedEpilogue,
                blocked: (input: Bool, output: Bool) = (false, false), sketch: Bool = false) {
        isSketch = sketch
        let (n, c, h, w) = (input[0], input[1], input[2], input[3])
        let (og, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3])
        let cg = c / groups
        let ho = (h - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
        let wo = (w - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + outputPadding.1 + 1
        inputShape = input
        outputShape = [n, og * groups, ho, wo]
        self.groups = groups
        outChannels = og * groups
        self.epilogue = epilogue

        /// For one axis and remainder q: the output coordinates and the taps that reach them.
        func axis(_ q: Int, out: Int, kernel: Int, s: Int, p: Int, d: Int) -> ([Int], [Int]) {
            ((0..<out).filter { ($0 + p) % s == q }, (0..<kernel).filter { ($0 * d) % s == q })
        }
        var phases: [Phase] = []
        // Phase pixel (yi, xi) reads input (yi + cy[t], xi + cx[u]) for tap (t, u):
        // neighbouring phase pixels read neighbouring inputs, as in an ordinary convolution.
        var shapes: [(ys: [Int], xs: [Int], tys: [Int], txs: [Int], cy: [Int], cx: [Int])] = []
        for qy in 0..<stride.0 {
            for qx in 0..<stride.1 {
                let (ys, tys) = axis(qy, out: ho, kernel: kh, s: stride.0, p: padding.0, d: dilation.0)
                let (xs, txs) = axis(qx, out: wo, kernel: kw, s: stride.1, p: padding.1, d: dilation.1)
                guard !ys.isEmpty && !xs.isEmpty else { continue }
                shapes.append((ys, xs, tys, txs, tys.map { (ys[0] + padding.0 - $0 * dilation.0) / stride.0 },
                               txs.map { (xs[0] + padding.1 - $0 * dilation.1) / stride.1 }))
            }
        }
        // Phases of one size (as with kernel 4, stride 2, padding 1) read their input through one
        // band: its origin and extent cover every phase's taps, and a job copies it once for all phases.
        shared = Set(shapes.map { [$0.ys.count, $0.xs.count] }).count == 1
        let blockable = ChannelBlocks.fit(outputChannels: og, groups: groups)
        blocks = (groups == 1, blockable)
        lanes = (blockable && shapes.allSatisfy { DirectBand.lanes(m: og, columns: $0.xs.count) }, blockable)
        precondition((!blocked.input || blocks.input) && (!blocked.output || blocks.output), "no channel blocks here")
        let size = blocked.output ? ChannelBlocks.size : 1
        let origin = (shapes.flatMap(\.cy).min() ?? 0, shapes.flatMap(\.cx).min() ?? 0)
        let extent = (shapes.flatMap(\.cy).map { $0 - origin.0 + 1 }.max() ?? 1, shapes.flatMap(\.cx).map { $0 - origin.1 + 1 }.max() ?? 1)
        for (ys, xs, tys, txs, cy, cx) in shapes {
            let top = shared ? origin.0 : cy.min() ?? 0, left = shared ? origin.1 : cx.min() ?? 0
            var taps: [DirectBand.Tap] = []
            for ic in 0..<cg {
                for t in cy { for u in cx { taps.append(DirectBand.Tap(channel: ic, dy: t - top, dx: u - left)) } }
            }
            let band = DirectBand(outputRows: ys.count, columns: xs.count, channels: cg, stride: (1, 1), top: top, left: left,
                                  taps: taps, m: og, extent: shared ? extent : (1, 1), blocked: blocked, images: n) { r, x in
                (r * stride.0 * wo + xs[x] - xs[0]) * size
            }
            let depth = cg * tys.count * txs.count
            // A [og x depth] per group: A[oc, (ic, t, u)] = w[ic, oc, tys[t], txs[u]]. Output channels in the inner
            // loop read w in order; in A's order each read was a line of its own, 4 og kh kw bytes from the last (the
            // DCGAN generator planned at batch 1 in 160 ms, 124 with them inner).
            var packed: [Float] = []
            let reach = tys.count * txs.count
            for g in 0..<groups where !sketch {
                var a = [Float](repeating: 0, count: og * depth)
                weight.data.withUnsafeBufferPointer { w in
                    a.withUnsafeMutableBufferPointer { a in
                        for ic in 0..<cg {
                            let source = w.baseAddress! + (g * cg + ic) * og * kh * kw
                            for oc in 0..<og {
                                for (t, ky) in tys.enumerated() {
                                    for (u, kx) in txs.enumerated() {
                                        a[oc * depth + ic * reach + t * txs.count + u] = source[(oc * kh + ky) * kw + kx]
                                    }
                                }
                            }
                        }
                    }
                }
                let rowScale = scale.map { Array($0[(g * og)..<((g + 1) * og)]) }
                packed += a.withUnsafeBufferPointer { PackedGEMM.pack($0.baseAddress!, m: og, k: depth, scale: rowScale, rows: band.blockRows) }
            }
            phases.append(Phase(rows: ys.count, origin: ys[0] * wo + xs[0], pitch: stride.0 * wo, packed: packed + [0], band: band))
        }
        var jobs: [(Range<Int>, Int, Int, Int)] = []
        for (index, phase) in phases.enumerated() where !shared || index == 0 {
            for b in 0..<n {
                for g in 0..<groups {
                    for y0 in Swift.stride(from: 0, to: phase.rows, by: phase.band.rows) {
                        jobs.append((shared ? phases.indices : index..<(index + 1), b, g, y0))
                    }
                }
            }
        }
        self.phases = phases
        self.jobs = jobs
    }

    public var scratchFloats: Int { phases.map(\.band.floats).max() ?? 0 }

    /// Which of input and output hold their channels in blocks: every phase's band says the same.
    var blocked: (input: Bool, output: Bool) { phases.first?.band.blocked ?? (false, false) }

    /// How the phases are computed: " channels in lanes" when their tiles hold output channels, and the blocks.
    public var form: String {
        (phases.contains { $0.band.lanes } ? " channels in lanes" : "") + (blocked.input ? ", from blocks of 16" : "")
            + (blocked.output ? ", to blocks of 16" : "")
    }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3])
        let (ho, wo) = (outputShape[2], outputShape[3])
        let og = outChannels / groups
        func blocks(_ band: DirectBand) -> Int { (og + band.blockRows - 1) / band.blockRows }
        // Phases normally agree on their tiles; if not, items are split by the most blocks any has.
        let split = PackedGEMM.Split(jobs: jobs.count, blocks: phases.map { blocks($0.band) }.max() ?? 1, threads: pool.threads)
        let tile = epilogue.tile(residuals: residuals)
        let (planes, size) = ChannelBlocks.planes(outChannels, blocked: blocked.output)
        let (inputPlanes, inputSize) = ChannelBlocks.planes(c, blocked: blocked.input)
        pool.reserveScratch(scratchFloats)
        pool.parallelFor(split.items) { item, worker in
            let (job, items) = split.item(item)
            let (indices, b, group, y0) = self.jobs[job]
            let first = self.phases[indices.lowerBound].band, cg = first.channels
            let rows = min(first.rows, self.phases[indices.lowerBound].rows - y0)
            guard !items.clamped(to: 0..<blocks(first)).isEmpty else { return }
            let buffer = pool.scratch(worker)
            first.copy(y0: y0, rows: rows, h: h, w: w, plane: { x + (b * inputPlanes + group * cg + $0) * h * w * inputSize },
                       into: buffer)
            for phase in self.phases[indices] {
                let band = phase.band, k = band.taps.count
                phase.packed.withUnsafeBufferPointer { a in
                    band.multiply(rows: rows, buffer: buffer, rowBlocks: items.clamped(to: 0..<blocks(band)),
                                  packed: a.baseAddress! + group * blocks(band) * k * band.blockRows, epilogue: tile.rows(from: group * og),
                                  output: output,
                                  origin: ((b * planes + group * og) * ho * wo + phase.origin + y0 * phase.pitch) * size,
                                  rowStride: ho * wo * size)
                }
            }
        }
    }
}

extension TransposedKernel {
    /// A transposed convolution of a 1x1 input without padding, dilation or
    /// groups (a DCGAN generator's first layer) reaches each output pixel by
    /// exactly one tap: y[oc, ky, kx] = Σ_c x[c] W[c, oc, ky, kx], a linear
    /// layer whose weights are W rearranged to [O·kH·kW, C], returned here
    /// (nil for any other transposed convolution). The direct form would
    /// multiply kH·kW taps for every pixel, all but one of them padding.
    public static func linearWeight(input: [Int], weight: Tensor, padding: (Int, Int), outputPadding: (Int, Int), dilation: (Int, Int),
                                    groups: Int) -> Tensor? {
        guard input.count == 4, input[2] == 1, input[3] == 1, padding == (0, 0), outputPadding == (0, 0), dilation == (1, 1), groups == 1
        else { return nil }
        let (c, o, pixels) = (weight.shape[0], weight.shape[1], weight.shape[2] * weight.shape[3])
        var data = [Float](repeating: 0, count: weight.count)
        for ic in 0..<c {
            for row in 0..<(o * pixels) { data[row * c + ic] = weight.data[ic * o * pixels + row] }
        }
        return Tensor(shape: [o * pixels, c], data: data)
    }
}
