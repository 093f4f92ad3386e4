/// A linear layer prepared for a number of rows: y[r, o] = x[r, :] . W[o, :]
/// then the epilogue. Many rows run on the packed GEMM with the weights as A
/// and the rows, transposed into panels, as B; a few rows (a batch of one)
/// are matrix-vector products: the weights, transposed at plan time into
/// 64-output blocks, are B, each row of x is a one-row A, and the one-row
/// tile reads each weight once. Tested against `Linear.forward` in FastKernelTests.
public final class LinearKernel: @unchecked Sendable {
    public let rows: Int
    public let features: Int
    public let outputs: Int
    /// The weights as A (6-row blocks), or for a few rows as B: W^T in
    /// blocks of 64 outputs, each [features x 64].
    let packed: [Float]
    let epilogue: FusedEpilogue
    let panel: Int

    /// Fewer rows than this run as matrix-vector products.
    public static let vectorRows = 4

    public init(rows: Int, weight: Tensor, scale: [Float]? = nil, epilogue: FusedEpilogue) {
        self.rows = rows
        (outputs, features) = (weight.shape[0], weight.shape[1])
        self.epilogue = epilogue
        panel = PackedGEMM.panelColumns(depth: weight.shape[1])
        var w = weight.data
        if let scale { for o in 0..<weight.shape[0] { for f in 0..<weight.shape[1] { w[o * weight.shape[1] + f] *= scale[o] } } }
        if rows < Self.vectorRows {
            let (o, f) = (weight.shape[0], weight.shape[1])
            var t = [Float](repeating: 0, count: (o + 63) / 64 * 64 * f)
            for i in 0..<o { for kk in 0..<f { t[((i / 64) * f + kk) * 64 + i % 64] = w[i * f + kk] } }
            packed = t
        } else {
            packed = w.withUnsafeBufferPointer { PackedGEMM.pack($0.baseAddress!, m: weight.shape[0], k: weight.shape[1]) }
        }
    }

    public var scratchFloats: Int { rows < Self.vectorRows ? features * PackedGEMM.rows : features * panel }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        pool.reserveScratch(scratchFloats)
        if rows < Self.vectorRows {
            vector(x, tile: epilogue.tile(residuals: residuals, alongColumns: true), output: output, pool: pool)
            return
        }
        let tile = epilogue.tile(residuals: residuals)
        let (f, o) = (features, outputs)
        let panels = (rows + panel - 1) / panel
        let blocks = (o + PackedGEMM.rows - 1) / PackedGEMM.rows
        let split = PackedGEMM.Split(jobs: panels, blocks: blocks, threads: pool.threads)
        packed.withUnsafeBufferPointer { packedWeights in
            let a = packedWeights.baseAddress!
            pool.parallelFor(split.items) { item, worker in
                let (panel, rowBlocks) = split.item(item)
                let r0 = panel * self.panel
                let count = min(self.panel, self.rows - r0)
                guard !rowBlocks.isEmpty else { return }
                let buffer = pool.scratch(worker)
                let columns = PackedGEMM.columns
                for j in 0..<((count + columns - 1) / columns * columns) {
                    let dst = buffer + (j >> 4) * f * columns + (j & 15)
                    if j < count {
                        let src = x + (r0 + j) * f
                        for kk in 0..<f { dst[kk * columns] = src[kk] }
                    } else {
                        for kk in 0..<f { dst[kk * columns] = 0 }
                    }
                }
                PackedGEMM.multiply(rowBlocks: rowBlocks, m: o, k: f, packed: a, panel: buffer, columns: count, epilogue: tile,
                                    target: PackedGEMM.Target(output: output, origin: r0 * o, rowStride: 1, columnStride: o))
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
