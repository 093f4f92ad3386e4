import CKernelSupport
/// A linear layer prepared for a number of rows: y[r, o] = x[r, :] . W[o, :]
/// then the epilogue. Many rows run on the packed GEMM's tile with the
/// outputs along its lanes: 6 rows of x, read where they lie (nothing is
/// repacked per call), times W^T packed at plan time in blocks of 16
/// outputs, each tile row stored as 16 neighbouring outputs. A few rows (a
/// batch of one) are matrix-vector products: W^T in blocks of 64 outputs is
/// B, each row of x a one-row A, and the one-row tile reads each weight
/// once; with fewer than 64 outputs, each a dot product of a row of x and a
/// row of W. Tested against `Linear.forward` in FastKernelTests.
public final class LinearKernel: @unchecked Sendable {
    public let rows: Int
    public let features: Int
    public let outputs: Int
    /// W^T in blocks of 16 outputs, each [features x 16], or for a few rows
    /// in blocks of 64, each [features x 64], or W itself for a few rows and
    /// fewer than 64 outputs (`dots`).
    let packed: [Float]
    /// Whether the outputs are dot products: blocks of 64 would be mostly
    /// padding (a VAE's 3136 -> 20 heads read 800 KB of them for 250 KB of weights).
    let dots: Bool
    let epilogue: FusedEpilogue
    /// A sketch: the form and layout facts alone, no weights (see `PreparedKernel.isSketch`).
    public let isSketch: Bool

    /// Fewer rows than this run as matrix-vector products.
    public static let vectorRows = 4

    public init(rows: Int, weight: Tensor, scale: [Float]? = nil, epilogue: FusedEpilogue, sketch: Bool = false) {
        self.rows = rows
        (outputs, features) = (weight.shape[0], weight.shape[1])
        self.epilogue = epilogue
        isSketch = sketch
        dots = rows < Self.vectorRows && outputs < 64
        guard !sketch else {
            packed = []
            return
        }
        var w = weight.data
        if let scale { for o in 0..<weight.shape[0] { for f in 0..<weight.shape[1] { w[o * weight.shape[1] + f] *= scale[o] } } }
        if dots {
            packed = w
        } else if rows < Self.vectorRows {
            let (o, f) = (weight.shape[0], weight.shape[1])
            var t = [Float](repeating: 0, count: (o + 63) / 64 * 64 * f)
            for i in 0..<o { for kk in 0..<f { t[((i / 64) * f + kk) * 64 + i % 64] = w[i * f + kk] } }
            packed = t
        } else {
            packed = w.withUnsafeBufferPointer {
                PackedGEMM.pack($0.baseAddress!, m: weight.shape[0], k: weight.shape[1], rows: PackedGEMM.columns)
            }
        }
    }

    public var scratchFloats: Int { rows < Self.vectorRows && !dots ? features * PackedGEMM.rows : 0 }

    /// Tiles of 6 rows per job.
    private static let tilesPerJob = 8

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        pool.reserveScratch(scratchFloats)
        // Outputs run along the tiles' columns on both paths.
        let tile = epilogue.tile(residuals: residuals, alongColumns: true)
        if dots { return dot(x, tile: tile, output: output, pool: pool) }
        if rows < Self.vectorRows {
            vector(x, tile: tile, output: output, pool: pool)
            return
        }
        let (f, o, width) = (features, outputs, PackedGEMM.columns)
        let tiles = (rows + PackedGEMM.rows - 1) / PackedGEMM.rows
        let split = PackedGEMM.Split(jobs: (tiles + Self.tilesPerJob - 1) / Self.tilesPerJob, blocks: (o + width - 1) / width,
                                     threads: pool.threads)
        if o % width == 0, let common = tile.common, let function = common.cFunction {
            return lanes(x, split: split, common: common, function: function, firstRow: tile.firstRow, output: output, pool: pool)
        }
        packed.withUnsafeBufferPointer { packedWeights in
            let a = packedWeights.baseAddress!
            pool.parallelFor(split.items) { item, _ in
                let (job, blocks) = split.item(item)
                let target = PackedGEMM.Target(output: output, origin: 0, rowStride: o)
                // A block's weights (or two's) stay in cache while the job's rows pass.
                for block in Swift.stride(from: blocks.lowerBound, to: blocks.upperBound, by: PackedGEMM.groups) {
                    let pair = PackedGEMM.groups == 2 && block + 1 < blocks.upperBound ? PackedGEMM.Pair(offset: 4 * f * width, column: (block + 1) * width,
                                                                               width: min(width, o - (block + 1) * width),
                                                                               target: target) : nil
                    for t in (job * Self.tilesPerJob)..<min(tiles, (job + 1) * Self.tilesPerJob) {
                        let rows = PackedGEMM.rowsOf(block: t, m: self.rows), r0 = rows.lowerBound
                        // Rows past the block repeat its first; they are not stored.
                        func spread(_ i: Int) -> Int { r0 + i < rows.upperBound ? 4 * i * f : 0 }
                        PackedGEMM.tile(rows: rows, k: f, column: block * width, width: min(width, o - block * width),
                                        epilogue: tile, target: target,
                                        rowsAt: PackedGEMM.Stride(x + r0 * f, step: 4),
                                        spread: (0, spread(1), spread(2), spread(3), spread(4), spread(5)),
                                        columnsAt: PackedGEMM.Stride(a + block * f * width, step: 4 * width), pair: pair)
                    }
                }
            }
        }
    }

    /// y[r, :] for a few rows, 64 outputs per job.
    /// Whole blocks of outputs and the common epilogue: a job's rows on
    /// the lanes tile, its loop over them and its epilogue in C, one call
    /// per block of 16 outputs (or pair on AVX-512), each row's outputs
    /// side by side as a blocked pixel's channels are (a VAE decoder's
    /// composed 20 -> 6272 layer at batch 32 spent twice as long on the
    /// Swift tile and its stores).
    private func lanes(_ x: UnsafePointer<Float>, split: PackedGEMM.Split, common: TileEpilogue.Common, function: strata_function,
                       firstRow: Int, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (f, o, width, groups) = (features, outputs, PackedGEMM.columns, PackedGEMM.groups)
        let perJob = Self.tilesPerJob * PackedGEMM.rows
        let starts = (0..<rows).map { $0 * f }, taps = (0..<f).map { 4 * $0 }, places = (0..<rows).map { $0 * o }
        packed.withUnsafeBufferPointer { w in
        starts.withUnsafeBufferPointer { starts in
        taps.withUnsafeBufferPointer { taps in
        places.withUnsafeBufferPointer { places in
            pool.parallelFor(split.items) { item, _ in
                let (job, blocks) = split.item(item)
                let first = job * perJob, count = min(self.rows, first + perJob) - first
                for block in Swift.stride(from: blocks.lowerBound, to: blocks.upperBound, by: groups) {
                    let next = groups == 2 && block + 1 < blocks.upperBound ? 4 * f * width : 0
                    strata_lanes(PackedGEMM.wide, count, starts.baseAddress! + first, UnsafeRawPointer(x).assumingMemoryBound(to: CChar.self),
                                 taps.baseAddress!, f, w.baseAddress! + block * f * width, next, output + block * width,
                                 places.baseAddress! + first, 1, width, common.shift + firstRow + block * width,
                                 common.residual.map { $0 + block * width }, function)
                }
            }
        }
        }
        }
        }
    }

    private func vector(_ x: UnsafePointer<Float>, tile: TileEpilogue, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (f, o) = (features, outputs)
        let chunks = (o + 63) / 64
        packed.withUnsafeBufferPointer { ws in
            let w = ws.baseAddress!
            if let common = tile.common, common.residual == nil, let function = common.cFunction {
                // The row and its epilogue in one call per 64 outputs (a VAE decoder's 20 -> 3136 layer took
                // 7 µs through the one-row tile's four stores per chunk on AVX-512).
                return pool.parallelFor(rows * chunks) { job, _ in
                    let r = job / chunks, chunk = job % chunks
                    strata_gemv(PackedGEMM.wide, f, x + r * f, w + chunk * f * 64, min(64, o - chunk * 64), output + r * o + chunk * 64,
                                common.shift + tile.firstRow + chunk * 64, function)
                }
            }
            pool.parallelFor(rows * chunks) { job, worker in
                let r = job / chunks, chunk = job % chunks
                // Row r of x as a one-row A: the tile reads its value for depth kk at kk * 6.
                let a = pool.scratch(worker)
                for kk in 0..<f { a[kk * PackedGEMM.rows] = x[r * f + kk] }
                let b = UnsafeRawPointer(w + chunk * f * 64)
                PackedGEMM.singleRow(k: f, packed: a, column: chunk * 64, width: min(64, o - chunk * 64), epilogue: tile,
                                     target: PackedGEMM.Target(output: output, origin: r * o, rowStride: 0),
                                     source: PackedGEMM.Stride(b, step: 256))
            }
        }
    }

    /// y[r, :] for a few rows and fewer than 64 outputs, 16 at a time
    /// through the epilogue, summed four at a time (each load of x feeds
    /// four rows of W).
    private func dot(_ x: UnsafePointer<Float>, tile: TileEpilogue, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (f, o) = (features, outputs)
        packed.withUnsafeBufferPointer { ws in
            let w = ws.baseAddress!
            pool.parallelFor(rows) { r, _ in
                // Past the last output, rows of W repeat the last one; their sums are not stored.
                func row(_ i: Int) -> UnsafePointer<Float> { w + min(i, o - 1) * f }
                for c in Swift.stride(from: 0, to: o, by: 16) {
                    // Summed aside, not in the output: a residual may be read from there (in place).
                    var v = SIMD16<Float>()
                    for i in Swift.stride(from: c, to: min(o, c + 16), by: 4) {
                        let sums = Self.dot(x + r * f, row(i), row(i + 1), row(i + 2), row(i + 3), count: f)
                        for j in 0..<4 { v[i + j - c] = sums[j] }
                    }
                    let width = min(16, o - c), base = r * o + c
                    v = tile.apply(v, row: 0, column: c, width: width, contiguousAt: width == 16 ? base : nil) { base + $0 }
                    for j in 0..<width { output[base + j] = v[j] }
                }
            }
        }
    }

    /// The dot products of x with four rows of W, `count` long: two
    /// accumulators per row, so that eight chains of additions overlap.
    private static func dot(_ x: UnsafePointer<Float>, _ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>,
                            _ w2: UnsafePointer<Float>, _ w3: UnsafePointer<Float>, count: Int) -> SIMD4<Float> {
        func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        var (a0, a1, a2, a3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
        var (b0, b1, b2, b3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
        var k = 0
        while k + 16 <= count {
            let u = load(x + k), v = load(x + k + 8)
            a0.addProduct(u, load(w0 + k)); b0.addProduct(v, load(w0 + k + 8))
            a1.addProduct(u, load(w1 + k)); b1.addProduct(v, load(w1 + k + 8))
            a2.addProduct(u, load(w2 + k)); b2.addProduct(v, load(w2 + k + 8))
            a3.addProduct(u, load(w3 + k)); b3.addProduct(v, load(w3 + k + 8))
            k += 16
        }
        var sums = SIMD4<Float>((a0 + b0).sum(), (a1 + b1).sum(), (a2 + b2).sum(), (a3 + b3).sum())
        while k < count {
            sums += SIMD4(w0[k], w1[k], w2[k], w3[k]) * x[k]
            k += 1
        }
        return sums
    }
}
