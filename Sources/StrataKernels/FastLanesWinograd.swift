import CKernelSupport
/// Winograd's minimal filtering F(m x m, r x r) on tiles numbered across
/// the batch, with the output channels in the GEMM's lanes, for:
/// - 3x3 convolutions of stride 1 on maps of any size, where values may
///   be in channel blocks (the row form, `WinogradKernel`, takes those
///   whose values stay plain);
/// - convolutions of kernel 4 and stride 2 (a DCGAN discriminator's and a
///   VAE encoder's downsampling layers). Such a layer is the sum of four
///   2x2 convolutions of stride 1, one per input phase (rows and columns
///   of one parity, taps (2a + py, 2b + px)): a 2x2 convolution whose
///   channels are the input's four phases, read straight from the input
///   at a stride of 2;
/// - transposed convolutions of kernel 4, stride 2 and padding 1 (a DCGAN
///   generator's and a VAE decoder's upsampling layers), phase by phase.
/// Each of a transposed layer's four output phases
/// (`TransposedKernel`) is an ordinary 2x2 convolution of the input: phase
/// (qy, qx) pixel (i, j) is output (2i + qy, 2j + qx) and reads inputs
/// (i - 1 + qy + a, j - 1 + qx + b) through weights (3 - qy - 2a, 3 - qx - 2b),
/// a and b in 0...1. An m x m block of a phase's pixels (a tile) is
/// computed from the α x α inputs under it (α = m + r - 1 for an r x r
/// kernel) in α² multiplies per input and output channel: for a 2x2 block,
/// 16 instead of 36 for a 3x3 kernel and 9 instead of 16 for a 2x2 one;
/// for a 4x4 block and a 2x2 kernel, where the map and the batch are large
/// enough, 25 instead of 64.
/// - U = G g Gᵀ, each phase's weights transformed in Double and packed
///   once at plan time in blocks of 16 output channels;
/// - V = Bᵀ d B, 16 input channels of a tile at a time from the input in
///   channel blocks (a plain input is first copied into blocks);
/// - M_ξ = V_ξ U_ξ for the α² positions ξ on the packed GEMM's tile with
///   the output channels in its lanes (6 tiles x 16 channels), as a
///   linear layer;
/// - Y = Aᵀ M A, 16 output channels of a pixel at a time through the
///   epilogue, stored as one vector in blocks (or 16 values a plane apart).
/// Numbered across the batch, small maps (a VAE's 7x7) still fill the
/// GEMM's rows; a job takes a run of tiles. Tested against the reference
/// in FastKernelTests: within 1e-5 of the largest output (the transforms'
/// coefficients are 0, ±1 and ±½), 4e-5 on 4x4 blocks (F(4x4, 2x2) at the
/// points 0, ±1, -2, whose coefficients reach 8 and 1/6: measured about
/// 2e-5 with 256 channels along the depth).
public final class LanesWinogradKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let epilogue: FusedEpilogue
    /// Which of input and output hold their channels in blocks (`ChannelBlocks`).
    let blocked: (input: Bool, output: Bool)
    /// Phase pixels per side of a tile (m), and inputs per side of its
    /// window (α = m + r - 1 for an r x r kernel): F(2x2, 3x3) takes 4,
    /// F(2x2, 2x2) 3 and F(4x4, 2x2) 5.
    let tile: Int, alpha: Int
    /// A phase: where tile (0, 0)'s window starts in the input, and the
    /// output row and column its pixel (0, 0) is.
    struct Phase {
        var window: (Int, Int), output: (Int, Int)
    }
    let phases: [Phase]
    /// Output pixels from one phase pixel to the next (2 between a transposed layer's).
    let step: Int
    /// Input pixels from one window position to the next (2 for a strided
    /// layer), and the offset of each input phase the window reads (its
    /// channels one after another along the GEMM's depth).
    let inputStep: Int, reads: [(Int, Int)]
    /// Pixels of each phase, rows and columns.
    let phaseSize: (Int, Int)
    /// Uᵀ_ξ of each phase, [C x O] in blocks of 16 output channels; floats of one.
    let packed: [Float]
    let packedSize: Int
    /// A sketch: the form and layout facts alone, no weights (see `PreparedKernel.isSketch`).
    public let isSketch: Bool
    /// Tiles of a phase per image along each axis.
    let tileRows: Int, tilesPerRow: Int
    /// Most tiles per job (α² (depth + O) floats of V and M each).
    let jobTiles: Int
    /// Input and output channels rounded up to whole blocks; a tile's row of V (those of every input phase), of M.
    let channels: (input: Int, output: Int)
    let depth: Int
    /// The offsets of a tile's α² inputs from its first, in a block, for
    /// the tiles whose window lies inside the input: worked out per tile,
    /// they were a third of the Swift around the VAE decoder's transforms
    /// (a table of every tile's held 2 MB per layer of EDSR at 256x256).
    let window: [Int]
    /// A plain input copied into blocks, allocated by the first run: a
    /// plan that is only printed (`--emit plan`) holds none.
    private var blockedCopy: UnsafeMutablePointer<Float>?

    /// Whether a convolution of `weight` [O, C, kH, kW] on input [N, C, H,
    /// W] runs here: 3x3, stride 1, undilated, one group, padding of at
    /// most 1 on each side, channels enough for the GEMM, and 16 tiles or
    /// more (see `transposedApplies`).
    public static func applies(input: [Int], weight: [Int], geometry g: Convolution.Geometry) -> Bool {
        guard input.count == 4, weight.count == 4, weight[2] == 3, weight[3] == 3, g.stride == (1, 1), g.dilation == (1, 1),
              g.groups == 1, g.padBegin == g.padEnd, g.padBegin.0 <= 1, g.padBegin.1 <= 1
        else { return false }
        let ho = input[2] + 2 * g.padBegin.0 - 2, wo = input[3] + 2 * g.padBegin.1 - 2
        return ho > 0 && wo > 0 && weight[1] >= 32 && weight[0] >= 16 && input[0] * ((ho + 1) / 2) * ((wo + 1) / 2) >= 16
    }

    /// Whether a convolution of `weight` [O, C, kH, kW] on input [N, C, H,
    /// W] runs here as four 2x2 ones: 4x4, stride 2, undilated, one group,
    /// padding of at most 1, input channels in whole blocks of 16 (the
    /// phases' channels side by side along the depth, no lanes of garbage
    /// between them), and 16 tiles or more.
    public static func stridedApplies(input: [Int], weight: [Int], geometry g: Convolution.Geometry) -> Bool {
        guard input.count == 4, weight.count == 4, weight[2] == 4, weight[3] == 4, g.stride == (2, 2), g.dilation == (1, 1),
              g.groups == 1, g.padBegin == g.padEnd, g.padBegin.0 <= 1, g.padBegin.1 <= 1
        else { return false }
        let ho = (input[2] + 2 * g.padBegin.0 - 4) / 2 + 1, wo = (input[3] + 2 * g.padBegin.1 - 4) / 2 + 1
        return ho > 0 && wo > 0 && weight[1] % ChannelBlocks.size == 0 && weight[0] >= 16
            && input[0] * ((ho + 1) / 2) * ((wo + 1) / 2) >= 16
    }

    /// Whether a transposed convolution of `weight` [C, O, kH, kW] on input
    /// [N, C, H, W] runs here: kernel 4, stride 2, padding 1, no output
    /// padding, dilation or groups, channels enough for the GEMM, and 16
    /// tiles or more per phase across the batch: U, 9/4 of the weights,
    /// is read once per job, and with fewer tiles that costs more than the
    /// multiplies saved (DCGAN's 512 -> 256 layer on a 4x4 map at batch 1:
    /// 1.07 ms on the direct form, 1.37 here).
    public static func transposedApplies(input: [Int], weight: [Int], stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int),
                                         dilation: (Int, Int), groups: Int) -> Bool {
        input.count == 4 && weight.count == 4 && weight[2] == 4 && weight[3] == 4 && stride == (2, 2) && padding == (1, 1)
            && outputPadding == (0, 0) && dilation == (1, 1) && groups == 1 && weight[0] >= 32 && weight[1] >= 16
            && input[0] * ((input[2] + 1) / 2) * ((input[3] + 1) / 2) >= 16
    }

    /// A convolution: weight [O, C, 3, 3], `padding` on each side; `scale`
    /// multiplies output channel o's weights (a folded batch norm).
    public convenience init(convolution input: [Int], weight: Tensor, padding: (Int, Int), scale: [Float]? = nil,
                            epilogue: FusedEpilogue, blocked: (input: Bool, output: Bool) = (false, false), sketch: Bool = false) {
        let (c, o) = (weight.shape[1], weight.shape[0]), size = (input[2] + 2 * padding.0 - 2, input[3] + 2 * padding.1 - 2)
        self.init(input: input, output: [input[0], o, size.0, size.1], kernel: 3,
                  phases: [Phase(window: (-padding.0, -padding.1), output: (0, 0))], step: 1, phaseSize: size,
                  weights: { _, _, oc, ic, a, b in Double(weight.data[((oc * c + ic) * 3 + a) * 3 + b]) },
                  scale: scale, epilogue: epilogue, blocked: blocked, sketch: sketch)
    }

    /// A convolution of kernel 4 and stride 2: weight [O, C, 4, 4], `padding` on each side; `scale` as above.
    public convenience init(strided input: [Int], weight: Tensor, padding: (Int, Int), scale: [Float]? = nil,
                            epilogue: FusedEpilogue, blocked: (input: Bool, output: Bool) = (false, false), sketch: Bool = false) {
        let (c, o) = (weight.shape[1], weight.shape[0])
        let size = ((input[2] + 2 * padding.0 - 4) / 2 + 1, (input[3] + 2 * padding.1 - 4) / 2 + 1)
        // Output y reads input 2 (y + a) + py - padding through tap 2a + py: input phase py, window row y + a.
        self.init(input: input, output: [input[0], o, size.0, size.1], kernel: 2, phases: [Phase(window: (0, 0), output: (0, 0))],
                  step: 1, phaseSize: size, inputStep: 2,
                  reads: (0..<4).map { ($0 / 2 - padding.0, $0 % 2 - padding.1) },
                  weights: { _, read, oc, ic, a, b in Double(weight.data[((oc * c + ic) * 4 + 2 * a + read / 2) * 4 + 2 * b + read % 2]) },
                  scale: scale, epilogue: epilogue, blocked: blocked, sketch: sketch)
    }

    /// A transposed convolution: weight [C, O, 4, 4]; `scale` as for a convolution.
    public convenience init(transposed input: [Int], weight: Tensor, scale: [Float]? = nil, epilogue: FusedEpilogue,
                            blocked: (input: Bool, output: Bool) = (false, false), sketch: Bool = false) {
        let (h, w, o) = (input[2], input[3], weight.shape[1])
        let phases = (0..<4).map { Phase(window: (-1 + $0 / 2, -1 + $0 % 2), output: ($0 / 2, $0 % 2)) }
        self.init(input: input, output: [input[0], o, 2 * h, 2 * w], kernel: 2, phases: phases, step: 2, phaseSize: (h, w),
                  weights: { phase, _, oc, ic, a, b in
                      Double(weight.data[((ic * o + oc) * 4 + 3 - phase / 2 - 2 * a) * 4 + 3 - phase % 2 - 2 * b])
                  },
                  scale: scale, epilogue: epilogue, blocked: blocked, sketch: sketch)
    }

    /// `weights(phase, read, o, c, a, b)`: tap (a, b) of the r x r kernel (r = α - 1) of output phase `phase`
    /// from input channel c of input phase `read` to output channel o.
    /// Inlined into each form's initializer, so that its `weights` is too
    /// (called, it doubled the time to plan the VAE decoder).
    @inline(__always)
    private init(input: [Int], output: [Int], kernel r: Int, phases: [Phase], step: Int, phaseSize: (Int, Int), inputStep: Int = 1,
                 reads: [(Int, Int)] = [(0, 0)], weights: (Int, Int, Int, Int, Int, Int) -> Double, scale: [Float]?,
                 epilogue: FusedEpilogue, blocked: (input: Bool, output: Bool), sketch: Bool) {
        isSketch = sketch
        let (n, c, o) = (input[0], input[1], output[1])
        inputShape = input
        outputShape = output
        func tiles(_ m: Int) -> Int { ((phaseSize.0 + m - 1) / m) * ((phaseSize.1 + m - 1) / m) }
        // A 2x2 kernel on tiles of 4x4 where that saves a fifth of the multiplies (7x7 maps: 100 against 144;
        // 14x14: 400 against 441, not worth its larger transforms), with 32 tiles or more across the batch to
        // read U (25/9 as large) for, or a U of 1 MB or less, which L2 and L3 serve: at batch 1 the DCGAN
        // discriminator's 128 -> 256 layer (13 MB of U on 4x4 tiles) took 0.83 ms on 4 tiles of 4x4 and 0.46
        // on 16 of 2x2, its 64 -> 128 layer 0.47 on 16 and 0.41 on 64; the VAE decoder's 64 -> 32 layer (800
        // KB) took the decoder from 48 to 45 µs on 4 tiles a phase.
        let smallU = 25 * reads.count * c * o * phases.count <= 1 << 18
        tile = r == 2 && 5 * 25 * tiles(4) <= 4 * 9 * tiles(2) && (n * tiles(4) >= 32 || smallU) ? 4 : 2
        let alpha = tile + r - 1
        (self.alpha, self.phases, self.step, self.phaseSize) = (alpha, phases, step, phaseSize)
        (self.inputStep, self.reads) = (inputStep, reads)
        precondition(reads.count == 1 || c % ChannelBlocks.size == 0, "input phases of partial blocks")
        self.epilogue = epilogue
        self.blocked = blocked
        let size = ChannelBlocks.size, positions = alpha * alpha
        channels = (ChannelBlocks.blocks(c) * size, ChannelBlocks.blocks(o) * size)
        depth = reads.count * channels.input
        let k = reads.count * c
        (tileRows, tilesPerRow) = ((phaseSize.0 + tile - 1) / tile, (phaseSize.1 + tile - 1) / tile)
        window = (0..<positions).map { i in (inputStep * (i / alpha) * input[3] + inputStep * (i % alpha)) * size }
        // Weights of a phase beyond about 512 KB (α² k O floats, k the depth) come from L3 for each job: then jobs are as large
        // as 4 MB of V and M allow (DCGAN's 512 -> 256 layer 20 -> 14 ms at batch 32); otherwise about 128 KB keep
        // more of them in L2 (its 128 -> 64 layer 15.5 -> 14.7 ms).
        let budget = positions * k * o > 131_072 ? 1 << 20 : 32_768
        jobTiles = max(1, budget / (positions * (depth + channels.output)) / PackedGEMM.rows) * PackedGEMM.rows
        // Uᵀ_ξ[c, o], the depth of each input phase one after another.
        (packed, packedSize) = WinogradWeights.packed(alpha: alpha, r: r, phases: phases.count, o: o, k: k, scale: scale,
                                                      rows: PackedGEMM.columns, sketch: sketch) { phase, oc, kk, a, b in
            weights(phase, kk / c, oc, kk % c, a, b)
        }
    }

    deinit { blockedCopy?.deallocate() }

    /// Whether the row form (`WinogradKernel`) takes this layer too: a 3x3 one on a map it tiles.
    public var rowFormApplies: Bool {
        guard alpha == 4, let window = phases.first?.window else { return false }
        let pad = (-window.0, -window.1)
        return WinogradKernel.applies(input: inputShape, weight: [outputShape[1], inputShape[1], 3, 3],
                                      geometry: Convolution.Geometry(stride: (1, 1), padBegin: pad, padEnd: pad, dilation: (1, 1), groups: 1))
    }

    /// Floats of scratch each worker needs: V, then M.
    public var scratchFloats: Int { alpha * alpha * (depth + channels.output) * jobTiles }

    public var form: String {
        "winograd F(\(tile)x\(tile), \(alpha - tile + 1)x\(alpha - tile + 1))"
            + (reads.count > 1 ? " per input phase" : phases.count > 1 ? " per phase" : " channels in lanes")
            + (blocked.input ? ", from blocks of 16" : "") + (blocked.output ? ", to blocks of 16" : "")
    }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        var source = x
        if !blocked.input {
            let copy = blockedCopy ?? {
                let count = inputShape[0] * channels.input * inputShape[2] * inputShape[3]
                let copy = UnsafeMutablePointer<Float>.allocate(capacity: count)
                copy.initialize(repeating: 0, count: count)
                blockedCopy = copy
                return copy
            }()
            block(x, into: copy, pool: pool)
            source = UnsafePointer(copy)
        }
        let total = inputShape[0] * tileRows * tilesPerRow
        // Few tiles (a batch of one) are shared between the threads by phases where there are enough of them: each
        // thread then reads its phases' weights only, and its products keep their rows.
        let byPhase = total < pool.threads * jobTiles && phases.count % pool.threads == 0 && pool.threads > 1
        // Too few tiles to share without spare rows (ResNet-20's 8x8 layers at batch 1: 16 tiles, 6 + 2 on each
        // thread, the 2 computing 4 rows; a VAE encoder's 7x7 layer, 4) and one phase: the threads share the
        // blocks of output channels instead, each transforming every tile's inputs.
        let blocks = (outputShape[1] + ChannelBlocks.size - 1) / ChannelBlocks.size
        let byBlocks = !byPhase && pool.threads > 1 && total < 2 * PackedGEMM.rows * pool.threads && blocks >= pool.threads
        let perJob = byPhase || byBlocks ? min(jobTiles, total) : min(jobTiles, (total + pool.threads - 1) / pool.threads)
        let chunks = (total + perJob - 1) / perJob, groups = byPhase || byBlocks ? pool.threads : 1
        let tile = epilogue.tile(residuals: residuals, alongColumns: true)
        pool.reserveScratch(scratchFloats)
        packed.withUnsafeBufferPointer { u in
            pool.parallelFor(chunks * groups) { job, worker in
                let first = (job / groups) * perJob, group = job % groups, share = byPhase ? self.phases.count / groups : self.phases.count
                let phases = byPhase ? group * share..<(group + 1) * share : 0..<share
                self.compute(source, tiles: first..<min(total, first + perJob), phases: phases,
                             blocks: byBlocks ? blocks * group / groups..<blocks * (group + 1) / groups : 0..<blocks,
                             u: u.baseAddress!, scratch: pool.scratch(worker), epilogue: tile, output: output)
            }
        }
    }

    /// A plain [N, C, H, W] input into blocks, block by block.
    private func block(_ x: UnsafePointer<Float>, into copy: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let c = inputShape[1], pixels = inputShape[2] * inputShape[3], size = ChannelBlocks.size, blocks = ChannelBlocks.blocks(c)
        // A small input (a VAE's 64 x 7 x 7 per image) costs less than waking the workers for it.
        let jobs = inputShape[0] * blocks, serial = inputShape[0] * c * pixels < 1 << 16
        let copyBlock = { (job: Int) in
            let (b, block) = (job / blocks, job % blocks)
            ChannelBlocks.move(plain: UnsafeMutablePointer(mutating: x + (b * c + block * size) * pixels), blocked: copy + job * pixels * size,
                               count: min(size, c - block * size), pixels: pixels, intoBlocks: true)
        }
        if serial {
            for job in 0..<jobs { copyBlock(job) }
        } else {
            pool.parallelFor(jobs) { job, _ in copyBlock(job) }
        }
    }

    /// Tiles `tiles` (numbered across the batch) of phases `chosen`, blocks `blocks` of 16 output channels:
    /// V, the α² products, then Y.
    func compute(_ x: UnsafePointer<Float>, tiles: Range<Int>, phases chosen: Range<Int>, blocks: Range<Int>, u: UnsafePointer<Float>,
                 scratch: UnsafeMutablePointer<Float>, epilogue: TileEpilogue, output: UnsafeMutablePointer<Float>) {
        let k = reads.count * inputShape[1], count = tiles.count, size = ChannelBlocks.size
        let positions = alpha * alpha, v = scratch, m = v + positions * depth * jobTiles
        let (vStride, mStride) = (depth * jobTiles, channels.output * jobTiles)
        let (first, width) = (blocks.lowerBound * size, min(outputShape[1], blocks.upperBound * size) - blocks.lowerBound * size)
        for phase in chosen {
            transformInputs(x, phase: phases[phase], tiles: tiles, into: v)
            for xi in 0..<positions {
                PackedGEMM.product(m: count, k: k, a: v + xi * vStride, lda: depth, b: u + (phase * positions + xi) * packedSize + first * k,
                                   n: width, c: m + xi * mStride + first, ldc: channels.output)
            }
            transformOutputs(m, phase: phases[phase], tiles: tiles, blocks: blocks, epilogue: epilogue, output: output)
        }
    }

    /// Whether the output transform and its epilogue run whole in C
    /// (`strata_winograd_store`), and if so the function ending it:
    /// whole blocks of output channels stored in blocks, the common epilogue.
    private func whole(_ epilogue: TileEpilogue) -> strata_function? {
        guard blocked.output, outputShape[1] % ChannelBlocks.size == 0, let common = epilogue.common else { return nil }
        return common.cFunction
    }

    /// Each of tile `t`'s pixels inside `phase`, in order: its index among
    /// the tile's (row by row) and its place in the output's plane.
    @inline(__always)
    private func forEachPixel(of t: Int, phase: Phase, _ body: (Int, Int) -> Void) {
        let (_, ty, tx) = place(t), wo = outputShape[3]
        for a in 0..<tile where tile * ty + a < phaseSize.0 {
            for e in 0..<tile where tile * tx + e < phaseSize.1 {
                body(a * tile + e, (step * (tile * ty + a) + phase.output.0) * wo + step * (tile * tx + e) + phase.output.1)
            }
        }
    }

    /// The image, row and column of tile `t` of a phase.
    private func place(_ t: Int) -> (image: Int, row: Int, column: Int) {
        let perImage = tileRows * tilesPerRow
        return (t / perImage, (t % perImage) / tilesPerRow, t % tilesPerRow)
    }

    typealias V = SIMD16<Float>

    /// V = Bᵀ d B of `phase` for `tiles`, block by block of input channels and input phase by input phase:
    /// d, the α x α inputs at window positions (2 ty, 2 tx) + the phase's window on, `inputStep` apart from
    /// the input phase's offset, zeros outside the input.
    private func transformInputs(_ x: UnsafePointer<Float>, phase: Phase, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>) {
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3]), size = ChannelBlocks.size, blocks = ChannelBlocks.blocks(c)
        let step = 4 * depth * jobTiles, plane = h * w * size, alpha = alpha, s = inputStep
        // α² offsets, up to 25 (F(4x4, 2x2)), for tiles at the input's edges.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 25) { edgeBuffer in
        window.withUnsafeBufferPointer { window in
            let edge = edgeBuffer.baseAddress!
            for (index, t) in tiles.enumerated() {
                let (b, ty, tx) = place(t), y0 = tile * ty + phase.window.0, x0 = tile * tx + phase.window.1
                let image = x + b * blocks * plane
                for (read, (qy, qx)) in reads.enumerated() {
                    let (top, left) = (s * y0 + qy, s * x0 + qx), span = s * (alpha - 1)
                    var offsets = window.baseAddress!, first = image + (top * w + left) * size
                    if top < 0 || left < 0 || top + span >= h || left + span >= w {
                        // Each input's offset in the image's first block, or -1 outside the input.
                        for i in 0..<alpha {
                            let y = top + s * i
                            for j in 0..<alpha {
                                let xx = left + s * j
                                edge[i * alpha + j] = y >= 0 && y < h && xx >= 0 && xx < w ? (y * w + xx) * size : -1
                            }
                        }
                        (offsets, first) = (UnsafePointer(edge), image)
                    }
                    // d and V in registers, in C: Swift's 16 values of 16 lanes take 32 of AVX2's 16 and spill.
                    strata_winograd_inputs(PackedGEMM.wide, alpha, first, blocks, plane, offsets,
                                           v + index * depth + read * channels.input, step / 4)
                }
            }
        }
        }
    }

    /// Y = Aᵀ M A of `phase` for `tiles`, 16 output channels of a tile at a time: the tile's pixels inside the
    /// phase through the epilogue to memory, by `storeRows` where it can (the common epilogues kept in
    /// registers) and pixel by pixel otherwise.
    private func transformOutputs(_ m: UnsafeMutablePointer<Float>, phase: Phase, tiles: Range<Int>, blocks: Range<Int>, epilogue: TileEpilogue,
                                  output: UnsafeMutablePointer<Float>) {
        let (o, ho, wo) = (outputShape[1], outputShape[2], outputShape[3]), pixels = ho * wo
        let step = 4 * channels.output * jobTiles, size = ChannelBlocks.size, alpha = alpha
        withUnsafeTemporaryAllocation(of: V.self, capacity: 16) { buffer in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 32) { offsets in
            let y = buffer.baseAddress!, places = offsets.baseAddress!
            if let function = whole(epilogue) {
                // The transform and the epilogue of every block of a tile in one call (the epilogue's pass
                // through `storeRows` per block cost more than the transform).
                let common = epilogue.common!, inside = places + 16
                for (index, t) in tiles.enumerated() {
                    let b = place(t).image
                    var count = 0
                    forEachPixel(of: t, phase: phase) { i, p in
                        (inside[count], places[count]) = (i, ChannelBlocks.index(b, 0, p, channels: o, pixels: pixels))
                        count += 1
                    }
                    // Block b's channels lie size * pixels floats on from the first block's.
                    let skip = blocks.lowerBound * size * pixels
                    strata_winograd_store(PackedGEMM.wide, alpha, m + index * channels.output + blocks.lowerBound * size, step / 4,
                                          blocks.count, count, inside, places, size * pixels, output + skip,
                                          common.shift + epilogue.firstRow + blocks.lowerBound * size, common.residual.map { $0 + skip },
                                          function)
                }
                return
            }
            for (index, t) in tiles.enumerated() {
                let b = place(t).image
                for block in blocks {
                    strata_winograd_outputs(PackedGEMM.wide, alpha, m + index * channels.output + block * size, step / 4,
                                            UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self))
                    // The pixels inside the phase, moved to the front in order.
                    var count = 0
                    forEachPixel(of: t, phase: phase) { i, p in
                        y[count] = y[i]
                        // Relative to the block's first channel (`storeRows` adds the column).
                        places[count] = blocked.output ? ChannelBlocks.index(b, block * size, p, channels: o, pixels: pixels) - block * size
                            : b * o * pixels + p
                        count += 1
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

extension LanesWinogradKernel: PreparedKernel {}

extension LanesWinogradKernel: ChannelBlockable {
    /// Pixels in and out are 16 channels each: blocks save the copy into
    /// them and the scalar stores.
    public var blocks: (input: Bool, output: Bool) { (true, true) }
    public var readsBlocksAlone: Bool { true }
    public var lanes: (reading: Bool, writing: Bool) { (true, true) }
}
