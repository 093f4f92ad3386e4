/// A 3x3 convolution of stride 1 by Winograd's minimal filtering
/// F(2x2, 3x3): each 2x2 block of outputs ("tile") is computed from the
/// 4x4 inputs under it in 16 multiplies per input and output channel
/// instead of 36. The 16 products of a tile are 16 independent matrix
/// products over the channels, M_ξ = U_ξ V_ξ (ξ one of the 4x4 positions),
/// run on the packed GEMM's 6 x 16 tiles:
/// - U = G g Gᵀ, the weights transformed and packed once at plan time;
/// - V = Bᵀ d B, the inputs of 8 neighbouring tiles transformed at a time
///   from a band copied as `DirectBand` copies its rows;
/// - Y = Aᵀ M A, the 2x2 outputs, through the fused epilogue to memory.
/// Work is split into jobs of a few rows of tiles of one image, whose
/// transformed inputs and products stay in the worker's scratch (L2).
/// Tested against `Convolution.forward` in FastKernelTests (within 1e-5
/// of the largest output; the transforms' coefficients are 0, ±1 and ±½).
public final class WinogradKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let pad: (Int, Int)
    let packed: [Float]
    let epilogue: FusedEpilogue
    /// Tile rows per job, tiles per row, floats of one packed U_ξ.
    let tileRows: Int, tilesPerRow: Int, packedSize: Int
    /// A sketch: the form and layout facts alone, no weights (see `PreparedKernel.isSketch`).
    public let isSketch: Bool
    /// Floats per band row: two input columns per tile and the 2 the last
    /// tile reads on, where the last group's loads end.
    let bandWidth: Int
    /// Which of input and output hold their channels in blocks
    /// (`ChannelBlocks`): the band is copied out of them, and 16 output
    /// channels of 16 pixels are transposed into them before the epilogue.
    let blocked: (input: Bool, output: Bool)

    /// Tiles of one group, transformed together in the lanes of a vector.
    static let group = 8

    /// Whether a convolution of `weight` [O, C, kH, kW] with this geometry
    /// on input [N, C, H, W] runs here: 3x3, stride 1, undilated, one
    /// group, and an output of whole tiles in whole groups (even height,
    /// width a multiple of 16). Deep enough to pay for the transforms:
    /// measured on ResNet-20, EDSR and ESPCN (see docs/performance.md).
    public static func applies(input: [Int], weight: [Int], geometry g: Convolution.Geometry) -> Bool {
        guard input.count == 4, weight.count == 4, weight[2] == 3, weight[3] == 3, g.stride == (1, 1), g.dilation == (1, 1),
              g.groups == 1, g.padBegin == g.padEnd, g.padBegin.0 <= 1, g.padBegin.1 <= 1
        else { return false }
        let ho = input[2] + 2 * g.padBegin.0 - 2, wo = input[3] + 2 * g.padBegin.1 - 2
        return ho > 0 && ho % 2 == 0 && wo % (2 * group) == 0 && weight[1] >= 32 && weight[0] >= 32
    }

    /// weight: [O, C, 3, 3]; `scale` multiplies output channel o's weights (a folded batch norm).
    public init(input: [Int], weight: Tensor, geometry g: Convolution.Geometry, scale: [Float]? = nil, epilogue: FusedEpilogue,
                blocked: (input: Bool, output: Bool) = (false, false), sketch: Bool = false) {
        isSketch = sketch
        precondition(Self.applies(input: input, weight: weight.shape, geometry: g), "not a Winograd convolution")
        let (n, c, h, w) = (input[0], input[1], input[2], input[3]), o = weight.shape[0]
        pad = g.padBegin
        let (ho, wo) = (h + 2 * pad.0 - 2, w + 2 * pad.1 - 2)
        inputShape = input
        outputShape = [n, o, ho, wo]
        self.epilogue = epilogue
        precondition(!blocked.output || o % ChannelBlocks.size == 0, "no channel blocks here")
        self.blocked = blocked
        tilesPerRow = wo / 2
        // About 8192 / (C + O) tiles per job keep its V and M (16 (C + O) floats per tile) within 512 KB; an
        // image splits into at least four jobs, as into four bands on the direct form, so that a batch of one
        // spreads over threads.
        let rowsOfTiles = ho / 2
        tileRows = max(1, min((rowsOfTiles + 3) / 4, 8192 / (c + o) / tilesPerRow))
        bandWidth = wo + 2
        (packed, packedSize) = WinogradWeights.packed(alpha: 4, r: 3, phases: 1, o: o, k: c, scale: scale, rows: PackedGEMM.rows,
                                                      sketch: sketch) {
            _, oc, ic, a, b in Double(weight.data[((oc * c + ic) * 3 + a) * 3 + b])
        }
    }

    /// Floats from one channel's transformed inputs (or products) to the next: a job's tiles, in whole 6 x 16 tiles' columns.
    var tiles: Int { (tileRows * tilesPerRow + PackedGEMM.columns - 1) / PackedGEMM.columns * PackedGEMM.columns }
    var bandRows: Int { 2 * tileRows + 2 }

    /// Floats of scratch each worker needs: the band, then V, then M.
    public var scratchFloats: Int { inputShape[1] * bandRows * bandWidth + 16 * (inputShape[1] + outputShape[1]) * tiles }

    public var form: String {
        "winograd F(2x2, 3x3)" + (blocked.input ? ", from blocks of 16" : "") + (blocked.output ? ", to blocks of 16" : "")
    }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let jobsPerImage = (outputShape[2] / 2 + tileRows - 1) / tileRows
        let tile = epilogue.tile(residuals: residuals, alongColumns: blocked.output)
        pool.reserveScratch(scratchFloats)
        packed.withUnsafeBufferPointer { u in
            pool.parallelFor(inputShape[0] * jobsPerImage) { job, worker in
                self.compute(x, image: job / jobsPerImage, firstTileRow: (job % jobsPerImage) * self.tileRows, u: u.baseAddress!,
                             scratch: pool.scratch(worker), epilogue: tile, output: output)
            }
        }
    }

    /// Tile rows `firstTileRow`..< of image `b`: band, V, the 16 products, then Y.
    func compute(_ x: UnsafePointer<Float>, image b: Int, firstTileRow ty0: Int, u: UnsafePointer<Float>,
                 scratch: UnsafeMutablePointer<Float>, epilogue: TileEpilogue, output: UnsafeMutablePointer<Float>) {
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3]), (o, ho, wo) = (outputShape[1], outputShape[2], outputShape[3])
        let rows = min(tileRows, ho / 2 - ty0), t = tiles
        let band = scratch, v = band + c * bandRows * bandWidth, m = v + 16 * c * t
        if blocked.input {
            let blocks = ChannelBlocks.blocks(c), size = ChannelBlocks.size
            DirectBand.copyRows(2 * ty0 - pad.0, count: 2 * rows + 2, left: -pad.1, width: bandWidth, planeSize: bandRows * bandWidth,
                                channels: c, h: h, w: w, blocks: { x + (b * blocks + $0) * h * w * size }, into: band)
        } else {
            DirectBand.copyRows(2 * ty0 - pad.0, count: 2 * rows + 2, left: -pad.1, width: bandWidth, planeSize: bandRows * bandWidth,
                                channels: c, h: h, w: w, plane: { x + (b * c + $0) * h * w }, into: band)
        }
        transformInputs(band, rows: rows, into: v)
        // M_ξ = U_ξ V_ξ, [O x tiles] each; columns past the job's tiles are computed from stale V and never read.
        let blocks = (o + PackedGEMM.rows - 1) / PackedGEMM.rows, none = TileEpilogue()
        for xi in 0..<16 {
            let target = PackedGEMM.Target(output: m + xi * o * t, origin: 0, rowStride: t)
            for column in stride(from: 0, to: rows * tilesPerRow, by: PackedGEMM.columns) {
                for block in 0..<blocks {
                    PackedGEMM.tile(rows: PackedGEMM.rowsOf(block: block, m: o), k: c, column: column, width: PackedGEMM.columns,
                                    epilogue: none, target: target,
                                    rowsAt: PackedGEMM.Stride(u + xi * packedSize + block * c * PackedGEMM.rows, step: PackedGEMM.rows * 4),
                                    columnsAt: PackedGEMM.Stride(v + xi * c * t + column, step: t * 4))
                }
            }
        }
        transformOutputs(m, rows: rows, image: b, firstTileRow: ty0, epilogue: epilogue, output: output, size: (o, ho, wo))
    }

    /// V = Bᵀ d B for every channel and tile, Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]: group g's 4x4
    /// inputs are 16-float loads of 4 band rows at columns 16 g and 16 g + 2, split into even and odd columns.
    private func transformInputs(_ band: UnsafeMutablePointer<Float>, rows: Int, into v: UnsafeMutablePointer<Float>) {
        let c = inputShape[1], t = tiles, groups = tilesPerRow / Self.group
        typealias V8 = SIMD8<Float>
        for ic in 0..<c {
            for r in 0..<rows {
                let top = UnsafeRawPointer(band + (ic * bandRows + 2 * r) * bandWidth)
                for g in 0..<groups {
                    /// Band row q of the tile row: its 4 columns per tile, transformed along the row.
                    @inline(__always) func row(_ q: Int) -> (V8, V8, V8, V8) {
                        let at = top + 4 * (q * bandWidth + 2 * Self.group * g)
                        let a = at.loadUnaligned(as: SIMD16<Float>.self), z = at.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
                        let (d0, d1, d2, d3) = (a.evenHalf, a.oddHalf, z.evenHalf, z.oddHalf)
                        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    }
                    let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3))
                    let out = UnsafeMutableRawPointer(v + ic * t + r * tilesPerRow + Self.group * g), step = 4 * c * t
                    @inline(__always) func put(_ xi: Int, _ value: V8) { out.storeBytes(of: value, toByteOffset: xi * step, as: V8.self) }
                    put(0, r0.0 - r2.0); put(1, r0.1 - r2.1); put(2, r0.2 - r2.2); put(3, r0.3 - r2.3)
                    put(4, r1.0 + r2.0); put(5, r1.1 + r2.1); put(6, r1.2 + r2.2); put(7, r1.3 + r2.3)
                    put(8, r2.0 - r1.0); put(9, r2.1 - r1.1); put(10, r2.2 - r1.2); put(11, r2.3 - r1.3)
                    put(12, r1.0 - r3.0); put(13, r1.1 - r3.1); put(14, r1.2 - r3.2); put(15, r1.3 - r3.3)
                }
            }
        }
    }

    /// Y = Aᵀ M A, Aᵀ = [1 1 1 0; 0 1 -1 -1], for 8 tiles and 6 output channels at a time (16 when blocked):
    /// two output rows of 16 values per channel, through the epilogue to memory by `storeRows` (which keeps the
    /// common epilogues in registers; applied step by step here, tanh's min and max were left as calls, a
    /// third of ESPCN's time). A residual is read where the output is stored.
    private func transformOutputs(_ m: UnsafeMutablePointer<Float>, rows: Int, image b: Int, firstTileRow ty0: Int,
                                  epilogue: TileEpilogue, output: UnsafeMutablePointer<Float>, size: (Int, Int, Int)) {
        let (o, ho, wo) = size, t = tiles, groups = tilesPerRow / Self.group, step = 4 * o * t
        let chunk = blocked.output ? ChannelBlocks.size : PackedGEMM.rows
        typealias V8 = SIMD8<Float>
        Self.pixelOffsets.withUnsafeBufferPointer { offsets in
        let offsets = offsets.baseAddress!
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 3 * chunk) { buffer in
            let upper = buffer.baseAddress!, lower = upper + chunk, pixels = lower + chunk
            for r in 0..<rows {
                for g in 0..<groups {
                    let column = r * tilesPerRow + Self.group * g
                    for oc0 in stride(from: 0, to: o, by: chunk) {
                        let count = min(chunk, o - oc0)
                        for i in 0..<count {
                            let at = UnsafeRawPointer(m + (oc0 + i) * t + column)
                            @inline(__always) func get(_ xi: Int) -> V8 { at.loadUnaligned(fromByteOffset: xi * step, as: V8.self) }
                            /// Row j of M transformed along the row.
                            @inline(__always) func row(_ j: Int) -> (V8, V8) {
                                let (a, b, c, d) = (get(4 * j), get(4 * j + 1), get(4 * j + 2), get(4 * j + 3))
                                return (a + b + c, b - c - d)
                            }
                            let (s0, s1, s2, s3) = (row(0), row(1), row(2), row(3))
                            upper[i].evenHalf = s0.0 + s1.0 + s2.0
                            upper[i].oddHalf = s0.1 + s1.1 + s2.1
                            lower[i].evenHalf = s1.0 - s2.0 - s3.0
                            lower[i].oddHalf = s1.1 - s2.1 - s3.1
                        }
                        let y = 2 * (ty0 + r), x = 2 * Self.group * g
                        guard blocked.output else {
                            // Output channel c's rows lie a plane apart: channel 0's place, a plane per row of C.
                            let first = (b * o * ho + y) * wo + x
                            epilogue.storeRows(upper, count: count, row: oc0, column: 0,
                                               PackedGEMM.Target(output: output, origin: first, rowStride: ho * wo))
                            epilogue.storeRows(lower, count: count, row: oc0, column: 0,
                                               PackedGEMM.Target(output: output, origin: first + wo, rowStride: ho * wo))
                            continue
                        }
                        // Each pixel's 16 channels side by side; the epilogue's per-channel values from column oc0 on
                        // (pixel offsets keep the common epilogues in registers, see `storeRows`).
                        for half in 0..<2 {
                            ChannelBlocks.transpose(UnsafeRawPointer(half == 0 ? upper : lower).assumingMemoryBound(to: Float.self),
                                                    into: UnsafeMutableRawPointer(pixels).assumingMemoryBound(to: Float.self),
                                                    stride: ChannelBlocks.size)
                            let first = ChannelBlocks.index(b, oc0, (y + half) * wo + x, channels: o, pixels: ho * wo) - oc0
                            epilogue.storeRows(pixels, count: ChannelBlocks.size, row: 0, column: oc0,
                                               PackedGEMM.Target(output: output, origin: first, rowStride: ChannelBlocks.size,
                                                                 rowOffsets: epilogue.common == nil ? nil : offsets))
                        }
                    }
                }
            }
        }
        }
    }

    /// Where 16 pixels side by side in blocks lie from the first.
    private static let pixelOffsets = (0..<ChannelBlocks.size).map { $0 * ChannelBlocks.size }
}

extension WinogradKernel: ChannelBlockable {
    /// Blocked output channels fill whole blocks.
    public var blocks: (input: Bool, output: Bool) { (true, outputShape[1] % ChannelBlocks.size == 0) }
    public var readsBlocksAlone: Bool { true }
    public var lanes: (reading: Bool, writing: Bool) { (false, false) }
}
