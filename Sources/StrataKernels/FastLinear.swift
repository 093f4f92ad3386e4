/// A linear layer prepared for a number of rows: y[r, o] = x[r, :] . W[o, :]
/// then the epilogue. Many rows run on the packed GEMM with the weights as A
/// and the rows, transposed into panels, as B; a few rows (a batch of one)
/// are matrix-vector products, which read each weight once and waste no
/// lanes on padding. Tested against `Linear.forward` in FastKernelTests.
public final class LinearKernel: @unchecked Sendable {
    public let rows: Int
    public let features: Int
    public let outputs: Int
    let weight: [Float]
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
        self.weight = w
        packed = rows < Self.vectorRows ? [] : w.withUnsafeBufferPointer { PackedGEMM.pack($0.baseAddress!, m: weight.shape[0], k: weight.shape[1]) }
    }

    public var scratchFloats: Int { rows < Self.vectorRows ? 0 : features * panel }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let tile = epilogue.tile(residuals: residuals)
        if rows < Self.vectorRows {
            vector(x, tile: tile, output: output, pool: pool)
            return
        }
        let (f, o) = (features, outputs)
        let panels = (rows + panel - 1) / panel
        let blocks = (o + PackedGEMM.rows - 1) / PackedGEMM.rows
        let split = PackedGEMM.Split(jobs: panels, blocks: blocks, threads: pool.threads)
        pool.reserveScratch(scratchFloats)
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

    /// y[r, :] for a few rows: 16 outputs per job, each a dot product over
    /// the features in 16 lanes.
    private func vector(_ x: UnsafePointer<Float>, tile: TileEpilogue, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (f, o) = (features, outputs)
        let chunks = (o + 15) / 16
        weight.withUnsafeBufferPointer { ws in
            let w = ws.baseAddress!
            pool.parallelFor(rows * chunks) { job, _ in
                let r = job / chunks, o0 = (job % chunks) * 16, width = min(16, o - o0)
                let xr = x + r * f
                var result = SIMD16<Float>()
                for i in 0..<width {
                    let wr = w + (o0 + i) * f
                    var acc = SIMD16<Float>()
                    var kk = 0
                    while kk + 16 <= f {
                        acc.addProduct(UnsafeRawPointer(wr + kk).loadUnaligned(as: SIMD16<Float>.self),
                                       UnsafeRawPointer(xr + kk).loadUnaligned(as: SIMD16<Float>.self))
                        kk += 16
                    }
                    var sum = acc.sum()
                    while kk < f { sum += wr[kk] * xr[kk]; kk += 1 }
                    result[i] = sum
                }
                // Lane i is output o0 + i: apply the epilogue one output (one row of C) at a time.
                for i in 0..<width {
                    let position = r * o + o0 + i
                    let v = tile.apply(SIMD16<Float>(repeating: result[i]), row: o0 + i, width: 1, contiguousAt: nil) { _ in position }
                    output[r * o + o0 + i] = v[0]
                }
            }
        }
    }
}
