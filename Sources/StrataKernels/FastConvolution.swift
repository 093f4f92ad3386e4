/// A 2-D convolution prepared for one input shape: weights packed (a batch
/// norm's scale folded into them), epilogue fixed, work split into jobs of
/// one band of output rows each, run in the direct form of `DirectBand`
/// (no im2col, any stride, dilation and padding). Tested against
/// `Convolution.forward` in FastKernelTests.
public final class ConvolutionKernel: @unchecked Sendable {
    public let inputShape: [Int]
    /// [N, O, H', W'], or [N, O/(r*r), H'*r, W'*r] when the store shuffles.
    public let outputShape: [Int]
    let outputSize: (Int, Int)
    let groups: Int
    let outChannels: Int
    let packed: [Float]
    let epilogue: FusedEpilogue
    let shuffle: Int
    let band: DirectBand
    /// Which of input and output may hold their channels in blocks of 16,
    /// with one group: the output with at least 16 output channels (a
    /// tile's lanes) when nothing moves it (a shuffle), the input then or
    /// at stride 1 (see `DirectBand.blocked`). A residual must be blocked
    /// as the output is: it is read where the output is stored.
    public let blocks: (input: Bool, output: Bool)
    public let readsBlocksAlone: Bool
    public let lanes: (reading: Bool, writing: Bool)
    /// A sketch: the form and layout facts alone, no weights (see `PreparedKernel.isSketch`).
    public let isSketch: Bool

    /// weight: [O, C/groups, kH, kW]; `scale` multiplies output channel o's weights.
    /// `bandRows` fixes the output rows per band (see `ConvolutionChain`).
    /// `blocked` says which of input and output hold their channels in
    /// blocks (`ChannelBlocks`); only where `blocks` allows.
    public init(input: [Int], weight: Tensor, geometry g: Convolution.Geometry, scale: [Float]? = nil,
                epilogue: FusedEpilogue, shuffle: Int = 1, bandRows: Int? = nil, blocked: (input: Bool, output: Bool) = (false, false),
                sketch: Bool = false) {
        isSketch = sketch
        let (n, h, w) = (input[0], input[2], input[3])
        let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let ho = (h + g.padBegin.0 + g.padEnd.0 - g.dilation.0 * (kh - 1) - 1) / g.stride.0 + 1
        let wo = (w + g.padBegin.1 + g.padEnd.1 - g.dilation.1 * (kw - 1) - 1) / g.stride.1 + 1
        let og = o / g.groups, k = cg * kh * kw
        inputShape = input
        outputShape = shuffle == 1 ? [n, o, ho, wo] : [n, o / (shuffle * shuffle), ho * shuffle, wo * shuffle]
        outputSize = (ho, wo)
        groups = g.groups
        outChannels = o
        self.shuffle = shuffle
        self.epilogue = epilogue
        var taps: [DirectBand.Tap] = []
        for ic in 0..<cg {
            for ky in 0..<kh {
                for kx in 0..<kw { taps.append(DirectBand.Tap(channel: ic, dy: ky * g.dilation.0, dx: kx * g.dilation.1)) }
            }
        }
        readsBlocksAlone = g.stride == (1, 1) || DirectBand.lanes(m: og, columns: wo)
        let blockable = ChannelBlocks.fit(outputChannels: og, groups: g.groups)
        blocks = (blockable || g.groups == 1 && g.stride == (1, 1), blockable && shuffle == 1)
        lanes = (blockable && (g.stride != (1, 1) || DirectBand.lanes(m: og, columns: wo)), blocks.output)
        precondition((!blocked.input || blocks.input) && (!blocked.output || blocks.output), "no channel blocks here")
        let size = blocked.output ? ChannelBlocks.size : 1
        let band = DirectBand(outputRows: ho, columns: wo, channels: cg, stride: g.stride, top: -g.padBegin.0, left: -g.padBegin.1,
                              taps: taps, m: og, fixedRows: bandRows, blocked: blocked, images: n) { r, ox in (r * wo + ox) * size }
        self.band = band
        packed = sketch ? [] : weight.data.withUnsafeBufferPointer { ws in
            (0..<g.groups).flatMap { group in
                PackedGEMM.pack(ws.baseAddress! + group * og * k, m: og, k: k,
                                scale: scale.map { Array($0[(group * og)..<((group + 1) * og)]) }, rows: band.blockRows)
            }
        }
    }

    /// How the band is read: row by row, across rows when they are narrow,
    /// or 6 pixels at a time with output channels in the lanes.
    public var form: String {
        (band.stride == (1, 1) ? "direct" : "direct s\(band.stride.0)x\(band.stride.1)")
            + (band.lanes ? " channels in lanes" : band.flattened ? " flattened" : "")
            + (band.blocked.input ? ", from blocks of 16" : "") + (band.blocked.output ? ", to blocks of 16" : "")
    }

    /// Floats of scratch each worker needs.
    public var scratchFloats: Int { band.floats }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let og = outChannels / groups
        let (ho, wo) = outputSize
        let pixels = ho * wo, r = shuffle
        let bands = (ho + band.rows - 1) / band.rows
        let (planes, size) = ChannelBlocks.planes(outChannels, blocked: band.blocked.output)
        let blocks = (og + band.blockRows - 1) / band.blockRows
        // Too few bands to keep every thread busy: split the rows of C too.
        let split = PackedGEMM.Split(jobs: inputShape[0] * groups * bands, blocks: blocks, threads: pool.threads)
        let tile = epilogue.tile(residuals: residuals)
        let shuffled = r == 1 ? nil : PackedGEMM.PixelShuffle(factor: r, channels: outChannels, height: ho, width: wo)
        pool.reserveScratch(scratchFloats)
        packed.withUnsafeBufferPointer { packedWeights in
            pool.parallelFor(split.items) { item, worker in
                let (job, rowBlocks) = split.item(item)
                guard !rowBlocks.isEmpty else { return }
                let b = job / (self.groups * bands), group = (job / bands) % self.groups, oy0 = (job % bands) * self.band.rows
                self.compute(x, image: b, group: group, firstRow: oy0, rowBlocks: rowBlocks, packed: packedWeights.baseAddress!,
                             buffer: pool.scratch(worker), tile: tile, output: output,
                             origin: (b * planes + group * og) * pixels * size + oy0 * wo * size, rowStride: pixels * size,
                             shuffle: shuffled)
            }
        }
    }

    /// The band of output rows from `firstRow` of image `b` and group
    /// `group`, row blocks `rowBlocks`: copies its input into `buffer` and
    /// stores its outputs at `origin` in `output`, `rowStride` apart per
    /// output channel.
    func compute(_ x: UnsafePointer<Float>, image b: Int, group: Int, firstRow oy0: Int, rowBlocks: Range<Int>,
                 packed a: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>, tile: TileEpilogue,
                 output: UnsafeMutablePointer<Float>, origin: Int, rowStride: Int, shuffle: PackedGEMM.PixelShuffle?) {
        let (c, h, w) = (inputShape[1], inputShape[2], inputShape[3])
        let cg = c / groups, og = outChannels / groups, blocks = (og + band.blockRows - 1) / band.blockRows
        let rows = min(band.rows, outputSize.0 - oy0)
        let (planes, size) = ChannelBlocks.planes(c, blocked: band.blocked.input), first = b * planes + group * cg
        band.copy(y0: oy0, rows: rows, h: h, w: w, plane: { x + (first + $0) * h * w * size }, into: buffer)
        band.multiply(rows: rows, buffer: buffer, rowBlocks: rowBlocks, packed: a + group * blocks * band.taps.count * band.blockRows,
                      epilogue: tile.rows(from: group * og), output: output, origin: origin, rowStride: rowStride, shuffle: shuffle)
    }
}
