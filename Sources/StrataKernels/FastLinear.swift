/// A linear layer prepared for a number of rows: y[r, o] = x[r, :] . W[o, :]
/// then the epilogue. Many rows run on the packed GEMM's tile with the
/// outputs along its lanes: 6 rows of x, read where they lie (nothing is
/// repacked per call), times W^T packed at plan time in blocks of 16
/// outputs, each tile row stored as 16 neighbouring outputs. A few rows (a
/// batch of one) are matrix-vector products: W^T in blocks of 64 outputs is
/// B, each row of x a one-row A, and the one-row tile reads each weight
/// once. Tested against `Linear.forward` in FastKernelTests.
public final class LinearKernel: @unchecked Sendable {
    public let rows: Int
    public let features: Int
    public let outputs: Int
    /// W^T in blocks of 16 outputs, each [features x 16], or for a few rows
    /// in blocks of 64, each [features x 64].
    let packed: [Float]
    let epilogue: FusedEpilogue

    /// Fewer rows than this run as matrix-vector products.
    public static let vectorRows = 4

    public init(rows: Int, weight: Tensor, scale: [Float]? = nil, epilogue: FusedEpilogue) {
        self.rows = rows
        (outputs, features) = (weight.shape[0], weight.shape[1])
        self.epilogue = epilogue
        var w = weight.data
        if let scale { for o in 0..<weight.shape[0] { for f in 0..<weight.shape[1] { w[o * weight.shape[1] + f] *= scale[o] } } }
        if rows < Self.vectorRows {
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

    public var scratchFloats: Int { rows < Self.vectorRows ? features * PackedGEMM.rows : 0 }

    /// Tiles of 6 rows per job.
    private static let tilesPerJob = 8

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        pool.reserveScratch(scratchFloats)
        // Outputs run along the tiles' columns on both paths.
        let tile = epilogue.tile(residuals: residuals, alongColumns: true)
        if rows < Self.vectorRows {
            vector(x, tile: tile, output: output, pool: pool)
            return
        }
        let (f, o, width) = (features, outputs, PackedGEMM.columns)
        let tiles = (rows + PackedGEMM.rows - 1) / PackedGEMM.rows
        let split = PackedGEMM.Split(jobs: (tiles + Self.tilesPerJob - 1) / Self.tilesPerJob, blocks: (o + width - 1) / width,
                                     threads: pool.threads)
        packed.withUnsafeBufferPointer { packedWeights in
            let a = packedWeights.baseAddress!
            pool.parallelFor(split.items) { item, _ in
                let (job, blocks) = split.item(item)
                // A block's weights stay in cache while the job's rows pass.
                for block in blocks {
                    for t in (job * Self.tilesPerJob)..<min(tiles, (job + 1) * Self.tilesPerJob) {
                        let r0 = t * PackedGEMM.rows
                        // Rows past the last repeat the first; they are not stored.
                        func spread(_ i: Int) -> Int { r0 + i < self.rows ? 4 * i * f : 0 }
                        PackedGEMM.tile(block: t, m: self.rows, k: f, column: block * width, width: min(width, o - block * width),
                                        epilogue: tile, target: PackedGEMM.Target(output: output, origin: 0, rowStride: o),
                                        rowsAt: PackedGEMM.Stride(x + r0 * f, step: 4),
                                        spread: (0, spread(1), spread(2), spread(3), spread(4), spread(5)),
                                        columnsAt: PackedGEMM.Stride(a + block * f * width, step: 4 * width))
                    }
                }
            }
        }
    }

    /// y[r, :] for a few rows, 64 outputs per job.
    private func vector(_ x: UnsafePointer<Float>, tile: TileEpilogue, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (f, o) = (features, outputs)
        let chunks = (o + 63) / 64
        packed.withUnsafeBufferPointer { ws in
            let w = ws.baseAddress!
            pool.parallelFor(rows * chunks) { job, worker in
                let r = job / chunks, chunk = job % chunks
                // Row r of x as a one-row A: the tile reads its value for depth kk at kk * 6.
                let a = pool.scratch(worker)
                for kk in 0..<f { a[kk * PackedGEMM.rows] = x[r * f + kk] }
                let b = UnsafeRawPointer(w + chunk * f * 64)
                PackedGEMM.singleRow(k: f, packed: a, column: chunk * 64, width: min(64, o - chunk * 64), epilogue: tile,
                                     target: PackedGEMM.Target(output: output, origin: r * o, rowStride: 0)) { b + $0 * 256 }
            }
        }
    }
}
