/// A transposed convolution prepared for one input shape, as stride_y x
/// stride_x ordinary convolutions: output pixels whose coordinates leave the
/// same remainder modulo the stride (a phase) are reached by the same
/// kernel taps, so each phase is one GEMM over an im2col of only its taps,
/// its results written straight to their pixels with the epilogue applied
/// in registers. Nothing is scattered or accumulated in memory. Tested
/// against `Convolution.transposed` in FastKernelTests.
public final class TransposedKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]

    /// One phase: its output rows and columns, the taps that reach them and
    /// the input coordinate each tap reads (-1: none).
    struct Phase {
        var rows: Int, columns: Int
        var tapsY: Int, tapsX: Int
        /// [row * tapsY + t] -> input row; [column * tapsX + u] -> input column.
        var sourceY: [Int], sourceX: [Int]
        /// Output pixel index (oy * W' + ox) of each phase pixel.
        var offsets: [Int]
        /// Packed weights of every group, one after another.
        var packed: [Float]
        var depth: Int { channelsPerGroup * tapsY * tapsX }
        var channelsPerGroup: Int
        var panel: Int
        /// Direct form (see `direct`): phase rows per band, input rows per
        /// band, padded row length, the first input row and column a band
        /// row and column 0 read, relative to the phase's, and each tap's byte offset.
        var band: (rows: Int, inputRows: Int, width: Int, top: Int, left: Int, offsets: [Int])?
    }

    let phases: [Phase]
    let groups: Int
    let outChannels: Int
    let epilogue: FusedEpilogue
    /// (phase, batch, group, first pixel) of each job.
    let jobs: [(Int, Int, Int, Int)]

    /// weight: [C, O/groups, kH, kW]; `scale` multiplies output channel o's weights.
    public init(input: [Int], weight: Tensor, stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int),
                dilation: (Int, Int), groups: Int, scale: [Float]? = nil, epilogue: FusedEpilogue) {
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

        /// For one axis and remainder q: the output coordinates, the taps, and the input coordinate per (output, tap).
        func axis(_ q: Int, size: Int, out: Int, kernel: Int, s: Int, p: Int, d: Int) -> ([Int], [Int], [Int]) {
            let outputs = (0..<out).filter { ($0 + p) % s == q }
            let taps = (0..<kernel).filter { ($0 * d) % s == q }
            var source: [Int] = []
            for o in outputs {
                for t in taps {
                    let i = (o + p - t * d) / s
                    source.append(i >= 0 && i < size ? i : -1)
                }
            }
            return (outputs, taps, source)
        }
        var phases: [Phase] = []
        var jobs: [(Int, Int, Int, Int)] = []
        for qy in 0..<stride.0 {
            for qx in 0..<stride.1 {
                let (ys, tys, sy) = axis(qy, size: h, out: ho, kernel: kh, s: stride.0, p: padding.0, d: dilation.0)
                let (xs, txs, sx) = axis(qx, size: w, out: wo, kernel: kw, s: stride.1, p: padding.1, d: dilation.1)
                guard !ys.isEmpty && !xs.isEmpty else { continue }
                let depth = cg * tys.count * txs.count
                // A [og x depth] per group: A[oc, (ic, t, u)] = w[ic, oc, tys[t], txs[u]].
                var packed: [Float] = []
                for g in 0..<groups {
                    var a = [Float](repeating: 0, count: og * depth)
                    for oc in 0..<og {
                        for ic in 0..<cg {
                            for (t, ky) in tys.enumerated() {
                                for (u, kx) in txs.enumerated() {
                                    a[oc * depth + (ic * tys.count + t) * txs.count + u] =
                                        weight.data[(((g * cg + ic) * og + oc) * kh + ky) * kw + kx]
                                }
                            }
                        }
                    }
                    let rowScale = scale.map { Array($0[(g * og)..<((g + 1) * og)]) }
                    packed += a.withUnsafeBufferPointer { PackedGEMM.pack($0.baseAddress!, m: og, k: depth, scale: rowScale) }
                }
                let panel = PackedGEMM.panelColumns(depth: depth)
                let pixels = ys.count * xs.count
                // Phase pixel (yi, xi) reads input (yi + cy[t], xi + cx[u]) for tap (t, u):
                // neighbouring phase pixels read neighbouring inputs, as in an ordinary convolution.
                let cy = tys.map { (ys[0] + padding.0 - $0 * dilation.0) / stride.0 }
                let cx = txs.map { (xs[0] + padding.1 - $0 * dilation.1) / stride.1 }
                var band: (rows: Int, inputRows: Int, width: Int, top: Int, left: Int, offsets: [Int])?
                if xs.count >= 12, let top = cy.min(), let bottom = cy.max(), let left = cx.min(), let right = cx.max() {
                    let width = xs.count + right - left
                    let fit = max(1, 65_536 / (cg * width) - (bottom - top))
                    let rows = max(1, min(fit, (ys.count + 3) / 4))
                    let inputRows = rows + bottom - top
                    var offsets: [Int] = []
                    for ic in 0..<cg {
                        for t in cy { for u in cx { offsets.append(4 * ((ic * inputRows + t - top) * width + u - left)) } }
                    }
                    band = (rows, inputRows, width, top, left, offsets)
                }
                for b in 0..<n {
                    for g in 0..<groups {
                        if let band {
                            for y0 in Swift.stride(from: 0, to: ys.count, by: band.rows) { jobs.append((phases.count, b, g, y0)) }
                        } else {
                            for p0 in Swift.stride(from: 0, to: pixels, by: panel) { jobs.append((phases.count, b, g, p0)) }
                        }
                    }
                }
                phases.append(Phase(rows: ys.count, columns: xs.count, tapsY: tys.count, tapsX: txs.count, sourceY: sy, sourceX: sx,
                                    offsets: ys.flatMap { y in xs.map { y * wo + $0 } }, packed: packed + [0],
                                    channelsPerGroup: cg, panel: panel, band: band))
            }
        }
        self.phases = phases
        self.jobs = jobs
    }

    public var scratchFloats: Int {
        phases.map { p in p.band.map { p.channelsPerGroup * $0.inputRows * $0.width + PackedGEMM.columns } ?? p.depth * p.panel }.max() ?? 0
    }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3])
        let (ho, wo) = (outputShape[2], outputShape[3])
        let og = outChannels / groups, blocks = (og + PackedGEMM.rows - 1) / PackedGEMM.rows
        let split = PackedGEMM.Split(jobs: jobs.count, blocks: blocks, threads: pool.threads)
        let tile = epilogue.tile(residuals: residuals)
        pool.reserveScratch(scratchFloats)
        pool.parallelFor(split.items) { item, worker in
            let (job, rowBlocks) = split.item(item)
            let (index, b, group, p0) = self.jobs[job]
            guard !rowBlocks.isEmpty else { return }
            let phase = self.phases[index]
            if let band = phase.band {
                self.direct(x, phase: phase, band: band, b: b, group: group, y0: p0, rowBlocks: rowBlocks, tile: tile,
                            output: output, buffer: pool.scratch(worker))
                return
            }
            let count = min(phase.panel, phase.rows * phase.columns - p0), k = phase.depth
            let buffer = pool.scratch(worker)
            let columns = PackedGEMM.columns
            let cg = phase.channelsPerGroup
            // im2col of this phase's taps for pixels p0..<p0+count, zero past count.
            for j in count..<((count + columns - 1) / columns * columns) {
                for kk in 0..<k { buffer[PackedGEMM.offset(k: kk, column: j, depth: k)] = 0 }
            }
            phase.sourceY.withUnsafeBufferPointer { sourceY in
                phase.sourceX.withUnsafeBufferPointer { sourceX in
                    for ic in 0..<cg {
                        let plane = x + (b * c + group * cg + ic) * h * w
                        for t in 0..<phase.tapsY {
                            for u in 0..<phase.tapsX {
                                let row = buffer + ((ic * phase.tapsY + t) * phase.tapsX + u) * columns
                                // Phase pixels row by row: one input row (or none) per output row.
                                var p = p0
                                while p < p0 + count {
                                    let yi = p / phase.columns, xi0 = p % phase.columns
                                    let n = min(p0 + count, (yi + 1) * phase.columns) - p
                                    let iy = sourceY[yi * phase.tapsY + t]
                                    if iy < 0 {
                                        PackedGEMM.fill(row, from: p - p0, count: n, depth: k) { _ in 0 }
                                    } else {
                                        let src = plane + iy * w, tapsX = phase.tapsX
                                        PackedGEMM.fill(row, from: p - p0, count: n, depth: k) { i in
                                            let ix = sourceX[(xi0 + i) * tapsX + u]
                                            return ix >= 0 ? src[ix] : 0
                                        }
                                    }
                                    p += n
                                }
                            }
                        }
                    }
                }
            }
            phase.packed.withUnsafeBufferPointer { a in
                phase.offsets.withUnsafeBufferPointer { offsets in
                    PackedGEMM.multiply(rowBlocks: rowBlocks, m: og, k: k, packed: a.baseAddress! + group * blocks * k * PackedGEMM.rows,
                                        panel: buffer, columns: count, epilogue: tile.rows(from: group * og),
                                        target: PackedGEMM.Target(output: output, origin: (b * self.outChannels + group * og) * ho * wo,
                                                                  rowStride: ho * wo, columnOffsets: offsets.baseAddress! + p0))
                }
            }
        }
    }

    /// One band of phase rows y0..<y0+rows: input rows copied zero-padded
    /// into `buffer`, then 6 x 16 tiles reading their 16 columns of tap
    /// (c, t, u) straight from there.
    private func direct(_ x: UnsafePointer<Float>, phase: Phase, band: (rows: Int, inputRows: Int, width: Int, top: Int, left: Int, offsets: [Int]),
                        b: Int, group: Int, y0: Int, rowBlocks: Range<Int>, tile: TileEpilogue, output: UnsafeMutablePointer<Float>,
                        buffer: UnsafeMutablePointer<Float>) {
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3])
        let (ho, wo) = (outputShape[2], outputShape[3])
        let og = outChannels / groups, blocks = (og + PackedGEMM.rows - 1) / PackedGEMM.rows
        let cg = phase.channelsPerGroup, k = phase.depth, width = band.width
        let rows = min(band.rows, phase.rows - y0)
        // Input column band.left + j lands at buffer column j.
        let lo = min(width, max(0, -band.left)), hi = max(lo, min(width, w - band.left))
        for ic in 0..<cg {
            let plane = x + (b * c + group * cg + ic) * h * w
            for r in 0..<(rows + band.inputRows - band.rows) {
                let dst = buffer + (ic * band.inputRows + r) * width
                let iy = y0 + band.top + r
                if iy < 0 || iy >= h {
                    dst.update(repeating: 0, count: width)
                } else {
                    dst.update(repeating: 0, count: lo)
                    (dst + lo).update(from: plane + iy * w + band.left + lo, count: hi - lo)
                    (dst + hi).update(repeating: 0, count: width - hi)
                }
            }
        }
        (buffer + cg * band.inputRows * width).update(repeating: 0, count: PackedGEMM.columns)
        let target = { (offsets: UnsafePointer<Int>) in
            PackedGEMM.Target(output: output, origin: (b * self.outChannels + group * og) * ho * wo, rowStride: ho * wo,
                              columnOffsets: offsets)
        }
        let epilogue = tile.rows(from: group * og)
        phase.packed.withUnsafeBufferPointer { a in
            phase.offsets.withUnsafeBufferPointer { pixels in
                band.offsets.withUnsafeBufferPointer { taps in
                    let weights = a.baseAddress! + group * blocks * k * PackedGEMM.rows, tap = taps.baseAddress!
                    let t = target(pixels.baseAddress!)
                    for block in rowBlocks {
                        for r in 0..<rows {
                            var x0 = 0
                            while x0 < phase.columns {
                                let start = UnsafeRawPointer(buffer + r * width + x0)
                                PackedGEMM.tile(block: block, m: og, k: k, packed: weights, column: (y0 + r) * phase.columns + x0,
                                                width: min(PackedGEMM.columns, phase.columns - x0), epilogue: epilogue, target: t) { kk in
                                    start + tap[kk]
                                }
                                x0 += PackedGEMM.columns
                            }
                        }
                    }
                }
            }
        }
    }
}
