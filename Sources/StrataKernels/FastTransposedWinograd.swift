/// A transposed convolution of kernel 4, stride 2 and padding 1 (a DCGAN
/// generator's and a VAE decoder's upsampling layers) by Winograd's minimal
/// filtering F(2x2, 2x2), phase by phase. Each of the four output phases
/// (`TransposedKernel`) is an ordinary 2x2 convolution of the input: phase
/// (qy, qx) pixel (i, j) is output (2i + qy, 2j + qx) and reads inputs
/// (i - 1 + qy + a, j - 1 + qx + b) through weights (3 - qy - 2a, 3 - qx - 2b),
/// a and b in 0...1. A 2x2 block of a phase's pixels (a tile) is computed from
/// the 3x3 inputs under it in 9 multiplies per input and output channel
/// instead of 16:
/// - U = G g Gᵀ, G = [1 0; 1 1; 0 1], each phase's 2x2 weights transformed
///   and packed once at plan time, in blocks of 16 output channels;
/// - V = Bᵀ d B, Bᵀ = [1 -1 0; 0 1 0; 0 -1 1], 16 input channels of a tile
///   at a time from the input in channel blocks (a plain input is first
///   copied into blocks);
/// - M_ξ = V_ξ U_ξ for the 9 positions ξ on the packed GEMM's tile with the
///   output channels in its lanes (6 tiles x 16 channels), as a linear layer;
/// - Y = Aᵀ M A, Aᵀ = [1 1 0; 0 1 1], 16 output channels of a pixel at a
///   time through the epilogue, stored as one vector in blocks (or 16
///   values a plane apart).
/// Tiles are numbered across the batch, so that small maps (a VAE's 7x7)
/// still fill the GEMM's rows; a job takes a run of them. Tested against
/// `Convolution.transposed` in FastKernelTests (within 1e-5 of the largest
/// output; the transforms' coefficients are 0 and ±1).
public final class TransposedWinogradKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let epilogue: FusedEpilogue
    /// Which of input and output hold their channels in blocks (`ChannelBlocks`).
    let blocked: (input: Bool, output: Bool)
    /// Uᵀ_ξ of each phase, [C x O] in blocks of 16 output channels; floats of one.
    let packed: [Float]
    let packedSize: Int
    /// Tiles of a phase per image along each axis.
    let tileRows: Int, tilesPerRow: Int
    /// Most tiles per job (9 (C + O) floats of V and M each).
    let jobTiles: Int
    /// Input and output channels rounded up to whole blocks: a tile's row of V, of M.
    let channels: (input: Int, output: Int)
    /// A plain input copied into blocks.
    private let blockedCopy: UnsafeMutablePointer<Float>?

    /// Whether a transposed convolution of `weight` [C, O, kH, kW] on input
    /// [N, C, H, W] runs here: kernel 4, stride 2, padding 1, no output
    /// padding, dilation or groups, channels enough for the GEMM, and 16
    /// tiles or more per phase across the batch: U, 9/4 of the weights,
    /// is read once per job, and with fewer tiles that costs more than the
    /// multiplies saved (DCGAN's 512 -> 256 layer on a 4x4 map at batch 1:
    /// 1.07 ms on the direct form, 1.37 here).
    public static func applies(input: [Int], weight: [Int], stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int),
                               dilation: (Int, Int), groups: Int) -> Bool {
        input.count == 4 && weight.count == 4 && weight[2] == 4 && weight[3] == 4 && stride == (2, 2) && padding == (1, 1)
            && outputPadding == (0, 0) && dilation == (1, 1) && groups == 1 && weight[0] >= 32 && weight[1] >= 16
            && input[0] * ((input[2] + 1) / 2) * ((input[3] + 1) / 2) >= 16
    }

    /// weight: [C, O, 4, 4]; `scale` multiplies output channel o's weights (a folded batch norm).
    public init(input: [Int], weight: Tensor, scale: [Float]? = nil, epilogue: FusedEpilogue,
                blocked: (input: Bool, output: Bool) = (false, false)) {
        let (n, c, h, w) = (input[0], input[1], input[2], input[3]), o = weight.shape[1]
        inputShape = input
        outputShape = [n, o, 2 * h, 2 * w]
        self.epilogue = epilogue
        self.blocked = blocked
        let size = ChannelBlocks.size
        channels = (ChannelBlocks.blocks(c) * size, ChannelBlocks.blocks(o) * size)
        (tileRows, tilesPerRow) = ((h + 1) / 2, (w + 1) / 2)
        // Weights of a phase beyond about 512 KB (9 C O floats) come from L3 for each job: then jobs are as large
        // as 4 MB of V and M allow (DCGAN's 512 -> 256 layer 20 -> 14 ms at batch 32); otherwise about 128 KB keep
        // more of them in L2 (its 128 -> 64 layer 15.5 -> 14.7 ms).
        let budget = 9 * c * o > 131_072 ? 1 << 20 : 32_768
        jobTiles = max(1, budget / (9 * (channels.input + channels.output)) / PackedGEMM.rows) * PackedGEMM.rows
        blockedCopy = blocked.input ? nil : .allocate(capacity: n * channels.input * h * w)
        blockedCopy?.initialize(repeating: 0, count: n * channels.input * h * w)
        // Uᵀ_ξ[c, o] = Σ G[ξy][a] g[a][b] G[ξx][b], g[a][b] = w[c, o, 3 - qy - 2a, 3 - qx - 2b] (scaled), in Double.
        let gMatrix: [[Double]] = [[1, 0], [1, 1], [0, 1]]
        var parts: [[Float]] = []
        for phase in 0..<4 {
            let (qy, qx) = (phase / 2, phase % 2)
            for xi in 0..<9 {
                var u = [Float](repeating: 0, count: o * c)
                for oc in 0..<o {
                    let s = Double(scale?[oc] ?? 1)
                    for ic in 0..<c {
                        var sum = 0.0
                        for a in 0..<2 {
                            for b in 0..<2 {
                                let tap = weight.data[((ic * o + oc) * 4 + 3 - qy - 2 * a) * 4 + 3 - qx - 2 * b]
                                sum += gMatrix[xi / 3][a] * Double(tap) * gMatrix[xi % 3][b]
                            }
                        }
                        u[oc * c + ic] = Float(sum * s)
                    }
                }
                parts.append(u.withUnsafeBufferPointer { PackedGEMM.pack($0.baseAddress!, m: o, k: c, rows: PackedGEMM.columns) })
            }
        }
        packedSize = parts[0].count
        packed = parts.flatMap { $0 }
    }

    deinit { blockedCopy?.deallocate() }

    /// Floats of scratch each worker needs: V, then M.
    public var scratchFloats: Int { 9 * (channels.input + channels.output) * jobTiles }

    public var form: String {
        "winograd F(2x2, 2x2) per phase" + (blocked.input ? ", from blocks of 16" : "") + (blocked.output ? ", to blocks of 16" : "")
    }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let source = blockedCopy.map { copy in
            block(x, into: copy, pool: pool)
            return UnsafePointer(copy)
        } ?? x
        let total = inputShape[0] * tileRows * tilesPerRow
        // Few tiles (a batch of one) are shared evenly between the threads.
        let perJob = min(jobTiles, (total + pool.threads - 1) / pool.threads)
        let tile = epilogue.tile(residuals: residuals, alongColumns: true)
        pool.reserveScratch(scratchFloats)
        packed.withUnsafeBufferPointer { u in
            pool.parallelFor((total + perJob - 1) / perJob) { job, worker in
                let first = job * perJob
                self.compute(source, tiles: first..<min(total, first + perJob), u: u.baseAddress!, scratch: pool.scratch(worker),
                             epilogue: tile, output: output)
            }
        }
    }

    /// A plain [N, C, H, W] input into blocks: 16 channels of 16 pixels at a time (the last 16 overlap the others).
    private func block(_ x: UnsafePointer<Float>, into copy: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let c = inputShape[1], pixels = inputShape[2] * inputShape[3], size = ChannelBlocks.size, blocks = ChannelBlocks.blocks(c)
        // A small input (a VAE's 64 x 7 x 7 per image) costs less than waking the workers for it.
        let jobs = inputShape[0] * blocks, serial = inputShape[0] * c * pixels < 1 << 16
        let copyBlock = { (job: Int) in
            let (b, block) = (job / blocks, job % blocks), count = min(size, c - block * size)
            let plane = x + (b * c + block * size) * pixels, target = copy + job * pixels * size
            guard pixels >= size else {
                for j in 0..<count { for p in 0..<pixels { target[p * size + j] = plane[j * pixels + p] } }
                return
            }
            var p = 0
            while p < pixels {
                p = min(p, pixels - size)
                ChannelBlocks.transpose(plane + p, pixels: count, sourceStride: pixels, into: target + p * size, stride: size)
                p += size
            }
        }
        if serial {
            for job in 0..<jobs { copyBlock(job) }
        } else {
            pool.parallelFor(jobs) { job, _ in copyBlock(job) }
        }
    }

    /// Tiles `tiles` (numbered across the batch) of every phase: V, the 9 products, then Y.
    func compute(_ x: UnsafePointer<Float>, tiles: Range<Int>, u: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                 epilogue: TileEpilogue, output: UnsafeMutablePointer<Float>) {
        let (c, o) = (inputShape[1], outputShape[1]), count = tiles.count, width = PackedGEMM.columns
        let v = scratch, m = v + 9 * channels.input * jobTiles
        let (vStride, mStride) = (channels.input * jobTiles, channels.output * jobTiles), none = TileEpilogue()
        for phase in 0..<4 {
            transformInputs(x, phase: phase, tiles: tiles, into: v)
            for xi in 0..<9 {
                let target = PackedGEMM.Target(output: m + xi * mStride, origin: 0, rowStride: channels.output)
                for block in 0..<(o + width - 1) / width {
                    let weights = u + (phase * 9 + xi) * packedSize + block * c * width
                    for rowBlock in 0..<(count + PackedGEMM.rows - 1) / PackedGEMM.rows {
                        let rows = PackedGEMM.rowsOf(block: rowBlock, m: count), r0 = rows.lowerBound
                        // Rows past the block repeat its first; they are not stored.
                        func spread(_ i: Int) -> Int { r0 + i < rows.upperBound ? 4 * i * channels.input : 0 }
                        PackedGEMM.tile(rows: rows, k: c, column: block * width, width: min(width, o - block * width),
                                        epilogue: none, target: target,
                                        rowsAt: PackedGEMM.Stride(v + xi * vStride + r0 * channels.input, step: 4),
                                        spread: (0, spread(1), spread(2), spread(3), spread(4), spread(5)),
                                        columnsAt: PackedGEMM.Stride(weights, step: 4 * width))
                    }
                }
            }
            transformOutputs(m, phase: phase, tiles: tiles, epilogue: epilogue, output: output)
        }
    }

    /// The image, row and column of tile `t` of a phase.
    private func place(_ t: Int) -> (image: Int, row: Int, column: Int) {
        let perImage = tileRows * tilesPerRow
        return (t / perImage, (t % perImage) / tilesPerRow, t % tilesPerRow)
    }

    /// V = Bᵀ d B of phase `phase` for `tiles`, block by block of input channels: d, the 3x3 inputs from
    /// (2 ty - 1 + qy, 2 tx - 1 + qx), zeros outside the input.
    private func transformInputs(_ x: UnsafePointer<Float>, phase: Int, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>) {
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3]), size = ChannelBlocks.size, blocks = ChannelBlocks.blocks(c)
        let (qy, qx) = (phase / 2, phase % 2), step = 4 * channels.input * jobTiles, plane = h * w * size
        typealias V = SIMD16<Float>
        for (index, t) in tiles.enumerated() {
            let (b, ty, tx) = place(t), y0 = 2 * ty - 1 + qy, x0 = 2 * tx - 1 + qx
            // Each input's offset in the image's first block, or -1 outside the input.
            var at = (0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &at) { raw in
                let offsets = raw.baseAddress!.assumingMemoryBound(to: Int.self)
                for i in 0..<3 {
                    for j in 0..<3 {
                        let (y, xx) = (y0 + i, x0 + j)
                        offsets[i * 3 + j] = y >= 0 && y < h && xx >= 0 && xx < w ? (b * blocks * h * w + y * w + xx) * size : -1
                    }
                }
            }
            let out = UnsafeMutableRawPointer(v + index * channels.input)
            for block in 0..<blocks {
                let base = UnsafeRawPointer(x + block * plane)
                @inline(__always) func d(_ offset: Int) -> V { offset < 0 ? V() : base.loadUnaligned(fromByteOffset: 4 * offset, as: V.self) }
                // Along rows, then along columns: (d0 - d1, d1, d2 - d1) each way.
                let (d00, d01, d02) = (d(at.0), d(at.1), d(at.2)), (d10, d11, d12) = (d(at.3), d(at.4), d(at.5))
                let (d20, d21, d22) = (d(at.6), d(at.7), d(at.8))
                let r0 = (d00 - d01, d01, d02 - d01), r1 = (d10 - d11, d11, d12 - d11), r2 = (d20 - d21, d21, d22 - d21)
                @inline(__always) func put(_ xi: Int, _ value: V) {
                    out.storeBytes(of: value, toByteOffset: xi * step + 64 * block, as: V.self)
                }
                put(0, r0.0 - r1.0); put(1, r0.1 - r1.1); put(2, r0.2 - r1.2)
                put(3, r1.0); put(4, r1.1); put(5, r1.2)
                put(6, r2.0 - r1.0); put(7, r2.1 - r1.1); put(8, r2.2 - r1.2)
            }
        }
    }

    /// Y = Aᵀ M A of phase `phase` for `tiles`, 16 output channels of a tile at a time: the tile's pixels
    /// inside the output through the epilogue to memory, by `storeRows` where it can (the common
    /// epilogues kept in registers) and pixel by pixel otherwise.
    private func transformOutputs(_ m: UnsafeMutablePointer<Float>, phase: Int, tiles: Range<Int>, epilogue: TileEpilogue,
                                  output: UnsafeMutablePointer<Float>) {
        let (o, h, w) = (outputShape[1], inputShape[2], inputShape[3]), (ho, wo) = (2 * h, 2 * w), pixels = ho * wo
        let (qy, qx) = (phase / 2, phase % 2), step = 4 * channels.output * jobTiles, size = ChannelBlocks.size
        typealias V = SIMD16<Float>
        withUnsafeTemporaryAllocation(of: V.self, capacity: 4) { values in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 4) { offsets in
            let y = values.baseAddress!, places = offsets.baseAddress!
            for (index, t) in tiles.enumerated() {
                let (b, ty, tx) = place(t)
                for block in 0..<(o + size - 1) / size {
                    let at = UnsafeRawPointer(m + index * channels.output + block * size)
                    @inline(__always) func get(_ xi: Int) -> V { at.loadUnaligned(fromByteOffset: xi * step, as: V.self) }
                    // Along rows (m0 + m1, m1 + m2), then along columns.
                    @inline(__always) func row(_ i: Int) -> (V, V) {
                        let m1 = get(3 * i + 1)
                        return (get(3 * i) + m1, m1 + get(3 * i + 2))
                    }
                    let (s0, s1, s2) = (row(0), row(1), row(2))
                    let sums = ((s0.0 + s1.0, s0.1 + s1.1), (s1.0 + s2.0, s1.1 + s2.1))
                    var count = 0
                    for a in 0..<2 where 2 * ty + a < h {
                        for e in 0..<2 where 2 * tx + e < w {
                            let p = (2 * (2 * ty + a) + qy) * wo + 2 * (2 * tx + e) + qx
                            y[count] = a == 0 ? (e == 0 ? sums.0.0 : sums.0.1) : (e == 0 ? sums.1.0 : sums.1.1)
                            // Relative to the block's first channel (`storeRows` adds the column).
                            places[count] = blocked.output ? ChannelBlocks.index(b, block * size, p, channels: o, pixels: pixels) - block * size
                                : b * o * pixels + p
                            count += 1
                        }
                    }
                    let target = PackedGEMM.Target(output: output, origin: 0, rowStride: 0, columnStride: blocked.output ? 1 : pixels,
                                                   rowOffsets: places)
                    let width = min(size, o - block * size)
                    if epilogue.storesRows(target, width: blocked.output ? size : width) {
                        epilogue.storeRows(y, count: count, row: 0, column: block * size, target)
                    } else {
                        for i in 0..<count { epilogue.store(y[i].lowHalf, y[i].highHalf, row: i, column: block * size, width: width, target) }
                    }
                }
            }
        }
        }
    }
}

extension TransposedWinogradKernel: PreparedKernel {}

extension TransposedWinogradKernel: ChannelBlockable {
    /// Pixels in and out are 16 channels each: blocks save the copy into
    /// them and the scalar stores.
    public var blocks: (input: Bool, output: Bool) { (true, true) }
    public var readsBlocksAlone: Bool { true }
    public var lanes: (reading: Bool, writing: Bool) { (true, true) }
}
