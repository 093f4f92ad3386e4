/// A 2-D convolution prepared for one input shape: weights packed (a batch
/// norm's scale folded into them), epilogue fixed, work split into jobs.
/// With unit horizontal stride and output rows of 12 or more pixels it runs
/// direct: each job copies a band of input rows, zero-padded, into the
/// worker's scratch, and the micro-kernel reads its 16 columns for tap
/// (c, ky, kx) straight from there (16 neighbouring outputs read 16
/// neighbouring inputs), so each input element is copied about once
/// instead of kh * kw times. Otherwise each job gathers one panel of
/// output pixels (an im2col of a few hundred columns). Tested against
/// `Convolution.forward` in FastKernelTests.
public final class ConvolutionKernel: @unchecked Sendable {
    public let inputShape: [Int]
    /// [N, O, H', W'], or [N, O/(r*r), H'*r, W'*r] when the store shuffles.
    public let outputShape: [Int]
    let geometry: Convolution.Geometry
    let kernel: (Int, Int)
    let outputSize: (Int, Int)
    let outChannels: Int
    let depth: Int
    let packed: [Float]
    let epilogue: FusedEpilogue
    let shuffle: Int
    let panel: Int
    /// Direct form: output rows per band, input rows per band, padded row
    /// length, and the byte offset of each tap in a band; nil for im2col.
    let band: (rows: Int, inputRows: Int, width: Int, offsets: [Int])?

    /// weight: [O, C/groups, kH, kW]; `scale` multiplies output channel o's weights.
    public init(input: [Int], weight: Tensor, geometry g: Convolution.Geometry, scale: [Float]? = nil,
                epilogue: FusedEpilogue, shuffle: Int = 1) {
        let (n, h, w) = (input[0], input[2], input[3])
        let (o, cg, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let ho = (h + g.padBegin.0 + g.padEnd.0 - g.dilation.0 * (kh - 1) - 1) / g.stride.0 + 1
        let wo = (w + g.padBegin.1 + g.padEnd.1 - g.dilation.1 * (kw - 1) - 1) / g.stride.1 + 1
        let og = o / g.groups, k = cg * kh * kw
        inputShape = input
        outputShape = shuffle == 1 ? [n, o, ho, wo] : [n, o / (shuffle * shuffle), ho * shuffle, wo * shuffle]
        geometry = g
        kernel = (kh, kw)
        outputSize = (ho, wo)
        outChannels = o
        depth = k
        self.shuffle = shuffle
        panel = PackedGEMM.panelColumns(depth: k)
        self.epilogue = epilogue
        if g.stride.1 == 1 && wo >= 12 {
            let width = w + g.padBegin.1 + g.padEnd.1
            let reach = (kh - 1) * g.dilation.0 + 1
            // Bands of at most 256 KB, and at least four per image so that a batch of one splits.
            let fit = max(1, (65_536 / (cg * width) - reach) / g.stride.0 + 1)
            let rows = max(1, min(fit, (ho + 3) / 4))
            let inputRows = (rows - 1) * g.stride.0 + reach
            var offsets: [Int] = []
            for ic in 0..<cg {
                for ky in 0..<kh {
                    for kx in 0..<kw { offsets.append(4 * ((ic * inputRows + ky * g.dilation.0) * width + kx * g.dilation.1)) }
                }
            }
            band = (rows, inputRows, width, offsets)
        } else {
            band = nil
        }
        packed = weight.data.withUnsafeBufferPointer { ws in
            (0..<g.groups).flatMap { group in
                PackedGEMM.pack(ws.baseAddress! + group * og * k, m: og, k: k,
                                scale: scale.map { Array($0[(group * og)..<((group + 1) * og)]) })
            }
        }
    }

    /// How B reaches the micro-kernel: `direct` from padded input rows, or `im2col` panels.
    public var form: String { band == nil ? "im2col" : "direct" }

    /// Floats of scratch each worker needs.
    public var scratchFloats: Int {
        if let band { return inputShape[1] / geometry.groups * band.inputRows * band.width + 64 }
        return depth * panel
    }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>] = [], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let groups = geometry.groups, cg = c / groups, og = outChannels / groups, k = depth
        let (ho, wo) = outputSize
        let pixels = ho * wo, r = shuffle
        let panels = (pixels + panel - 1) / panel
        let blocks = (og + PackedGEMM.rows - 1) / PackedGEMM.rows
        let jobs = n * groups * panels
        // Too few panels to keep every thread busy: split the rows too.
        let split = PackedGEMM.Split(jobs: jobs, blocks: blocks, threads: pool.threads)
        let tile = epilogue.tile(residuals: residuals)
        let shuffled: ((Int) -> Int)? = r == 1 ? nil : { position in
            // position = (b * O + oc) * pixels + p in the unshuffled output.
            let p = position % pixels, oc = (position / pixels) % self.outChannels, b = position / (pixels * self.outChannels)
            let cc = oc / (r * r), i = (oc / r) % r, j = oc % r
            return ((b * (self.outChannels / (r * r)) + cc) * ho * r + (p / wo) * r + i) * wo * r + (p % wo) * r + j
        }
        pool.reserveScratch(scratchFloats)
        if let band {
            direct(x, band: band, tile: tile, output: output, pool: pool, shuffled: shuffled)
            return
        }
        packed.withUnsafeBufferPointer { packedWeights in
            let a = packedWeights.baseAddress!
            pool.parallelFor(split.items) { item, worker in
                let (rest, rowBlocks) = split.item(item)
                let b = rest / (groups * panels), group = (rest / panels) % groups, p0 = (rest % panels) * self.panel
                let count = min(self.panel, pixels - p0)
                guard !rowBlocks.isEmpty else { return }
                let buffer = pool.scratch(worker)
                self.gather(x + (b * c + group * cg) * h * w, channels: cg, p0: p0, count: count, into: buffer)
                let rowBase = group * og
                PackedGEMM.multiply(rowBlocks: rowBlocks, m: og, k: k, packed: a + group * blocks * k * PackedGEMM.rows,
                                    panel: buffer, columns: count, epilogue: tile.rows(from: rowBase),
                                    target: PackedGEMM.Target(output: output, origin: (b * self.outChannels + rowBase) * pixels + p0,
                                                              rowStride: pixels, map: shuffled))
            }
        }
    }

    /// im2col of output pixels p0..<p0+count into the panel layout; columns
    /// past `count` in the last 16-column block are zero.
    @inline(__always)
    func gather(_ x: UnsafePointer<Float>, channels cg: Int, p0: Int, count: Int, into buffer: UnsafeMutablePointer<Float>) {
        let (h, w) = (inputShape[2], inputShape[3])
        let (kh, kw) = kernel, (_, wo) = outputSize, k = depth
        let (sy, sx) = geometry.stride, (dy, dx) = geometry.dilation, (py, px) = geometry.padBegin
        let columns = PackedGEMM.columns
        let padded = (count + columns - 1) / columns * columns
        if padded > count {
            let last = buffer + (count / columns) * k * columns
            for kk in 0..<k { for j in (count % columns)..<columns { last[kk * columns + j] = 0 } }
        }
        // A 1x1 convolution with unit stride and no padding reads the input as the panel.
        let direct = kh == 1 && kw == 1 && sy == 1 && sx == 1 && py == 0 && px == 0
        for ic in 0..<cg {
            let plane = x + ic * h * w
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let kk = (ic * kh + ky) * kw + kx
                    let row = buffer + kk * columns
                    if direct {
                        var j = 0
                        while j + columns <= count {
                            let v = UnsafeRawPointer(plane + p0 + j).loadUnaligned(as: SIMD16<Float>.self)
                            UnsafeMutableRawPointer(row + (j >> 4) * k * columns).storeBytes(of: v, as: SIMD16<Float>.self)
                            j += columns
                        }
                        while j < count { row[(j >> 4) * k * columns + (j & 15)] = plane[p0 + j]; j += 1 }
                        continue
                    }
                    // Output pixels row by row: each output row reads one input row, or padding.
                    var p = p0
                    while p < p0 + count {
                        let oy = p / wo, ox0 = p % wo
                        let end = min(p0 + count, (oy + 1) * wo)
                        let iy = oy * sy - py + ky * dy
                        let j0 = p - p0
                        let n = end - p
                        if iy < 0 || iy >= h {
                            PackedGEMM.fill(row, from: j0, count: n, depth: k) { _ in 0 }
                        } else {
                            let src = plane + iy * w
                            let shift = kx * dx - px
                            if sx == 1 {
                                // Inputs ox0 + shift ..< ox0 + shift + n, of which lo..<hi are inside the row.
                                let lo = min(n, max(0, -(ox0 + shift))), hi = max(lo, min(n, w - (ox0 + shift)))
                                PackedGEMM.fill(row, from: j0, count: lo, depth: k) { _ in 0 }
                                let start = src + ox0 + shift
                                PackedGEMM.fill(row, from: j0 + lo, count: hi - lo, depth: k) { start[lo + $0] }
                                PackedGEMM.fill(row, from: j0 + hi, count: n - hi, depth: k) { _ in 0 }
                            } else {
                                PackedGEMM.fill(row, from: j0, count: n, depth: k) { t in
                                    let ix = (ox0 + t) * sx + shift
                                    return ix >= 0 && ix < w ? src[ix] : 0
                                }
                            }
                        }
                        p = end
                    }
                }
            }
        }
    }

    private func direct(_ x: UnsafePointer<Float>, band: (rows: Int, inputRows: Int, width: Int, offsets: [Int]), tile: TileEpilogue,
                        output: UnsafeMutablePointer<Float>, pool: ThreadPool, shuffled: ((Int) -> Int)?) {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let groups = geometry.groups, cg = c / groups, og = outChannels / groups, k = depth
        let (ho, wo) = outputSize
        let (sy, py, px) = (geometry.stride.0, geometry.padBegin.0, geometry.padBegin.1)
        let pixels = ho * wo
        let bands = (ho + band.rows - 1) / band.rows
        let blocks = (og + PackedGEMM.rows - 1) / PackedGEMM.rows
        let jobs = n * groups * bands
        let split = PackedGEMM.Split(jobs: jobs, blocks: blocks, threads: pool.threads)
        let width = band.width
        packed.withUnsafeBufferPointer { packedWeights in
            band.offsets.withUnsafeBufferPointer { offsets in
                let a = packedWeights.baseAddress!, tap = offsets.baseAddress!
                pool.parallelFor(split.items) { item, worker in
                    let (rest, rowBlocks) = split.item(item)
                    let b = rest / (groups * bands), group = (rest / bands) % groups, oy0 = (rest % bands) * band.rows
                    let rows = min(band.rows, ho - oy0)
                    guard !rowBlocks.isEmpty else { return }
                    let buffer = pool.scratch(worker)
                    // The band: input rows oy0 * sy - py ..., padded left and right with zeros.
                    let inputRows = (rows - 1) * sy + band.inputRows - (band.rows - 1) * sy
                    for ic in 0..<cg {
                        let plane = x + (b * c + group * cg + ic) * h * w
                        for r in 0..<inputRows {
                            let dst = buffer + (ic * band.inputRows + r) * width
                            let iy = oy0 * sy - py + r
                            if iy < 0 || iy >= h {
                                dst.update(repeating: 0, count: width)
                            } else {
                                dst.update(repeating: 0, count: px)
                                (dst + px).update(from: plane + iy * w, count: w)
                                (dst + px + w).update(repeating: 0, count: width - px - w)
                            }
                        }
                    }
                    // Tiles past the last row read up to 63 floats beyond the band.
                    (buffer + cg * band.inputRows * width).update(repeating: 0, count: 64)
                    let rowBase = group * og
                    let target = PackedGEMM.Target(output: output, origin: (b * self.outChannels + rowBase) * pixels,
                                                   rowStride: pixels, map: shuffled)
                    let epilogue = tile.rows(from: rowBase)
                    let weights = a + group * blocks * k * PackedGEMM.rows
                    if og == 1 {
                        for r in 0..<rows {
                            var ox0 = 0
                            while ox0 < wo {
                                let start = UnsafeRawPointer(buffer + r * sy * width + ox0)
                                PackedGEMM.singleRow(k: k, packed: weights, column: (oy0 + r) * wo + ox0, width: min(64, wo - ox0),
                                                     epilogue: epilogue, target: target) { kk in start + tap[kk] }
                                ox0 += 64
                            }
                        }
                        return
                    }
                    for block in rowBlocks {
                        for r in 0..<rows {
                            var ox0 = 0
                            while ox0 < wo {
                                let start = UnsafeRawPointer(buffer + r * sy * width + ox0)
                                PackedGEMM.tile(block: block, m: og, k: k, packed: weights, column: (oy0 + r) * wo + ox0,
                                                width: min(PackedGEMM.columns, wo - ox0), epilogue: epilogue, target: target) { kk in
                                    start + tap[kk]
                                }
                                ox0 += PackedGEMM.columns
                            }
                        }
                    }
                }
            }
        }
    }
}
