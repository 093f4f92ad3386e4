import CPrefetch

/// The direct form of a convolution (and of each phase of a transposed
/// one): a job copies a band of input rows, zero-padded, into its worker's
/// scratch, and the micro-kernel reads the 16 inputs of tap (c, dy, dx) for
/// 16 neighbouring outputs straight from there; each input is copied about
/// once instead of once per tap, as an im2col would.
///
/// Strided layers fit the same scheme: each channel's rows and columns are
/// split by their remainder modulo the stride (sy x sx planes), so the
/// inputs that neighbouring outputs read are neighbours in one plane.
/// Output (r, ox) of a band is band column j = r * width + ox; when rows are
/// narrow (an 8x8 map gives half-empty 16-column tiles) the tiles run
/// across rows ("flattened") and the few columns that fall past a row's end
/// are computed but never stored.
struct DirectBand {
    /// A tap: input channel, and the padded row and column it reads relative
    /// to output (0, 0) of the band, in input pixels.
    struct Tap {
        var channel: Int, dy: Int, dx: Int
    }

    /// Output rows per band, and valid columns per output row.
    let rows: Int
    let columns: Int
    /// Padded input rows one output row reads.
    let reach: Int
    let stride: (Int, Int)
    let channels: Int
    /// Rows and columns of each plane.
    let planeRows: Int
    let width: Int
    /// The input row and column of band position (0, 0); negative in the padding.
    let top: Int
    let left: Int
    let flattened: Bool
    /// Each tap's byte offset from the output column's position in the band.
    let taps: [Int]
    /// Where band column j is stored, relative to the band's first output; `skip` past a row's end.
    let outputs: [Int]
    /// How many columns from j on are stored side by side (up to 64): a
    /// tile within such a run is stored with vector stores.
    let runs: [Int]
    /// Depth per slice: a strip of 16 columns reads its inputs for one
    /// slice (about 16 KB) from L1 while every row block of the weights
    /// streams past, and carries its partial sums to the next slice. A
    /// whole 3x3 layer of 64 channels would be twice L1.
    let slice: Int
    /// Rows of C.
    let m: Int

    static let skip = Int.min / 4

    /// `outputRows` x `columns` outputs per image for `m` output channels;
    /// `place(r, ox)` is where output (r, ox) goes relative to output
    /// (0, 0). Bands hold about 256 KB of input. Taps come channel by channel.
    init(outputRows: Int, columns: Int, channels: Int, stride: (Int, Int), top: Int, left: Int, taps tapList: [Tap],
         m: Int, place: (Int, Int) -> Int) {
        let singleRow = m == 1
        let reachY = (tapList.map(\.dy).max() ?? 0) + 1, reachX = (tapList.map(\.dx).max() ?? 0) + 1
        let (sy, sx) = stride
        let width = ((columns - 1) * sx + reachX + sx - 1) / sx
        // Share of computed columns that are stored, per row or across rows.
        let tile = Double(singleRow ? 64 : PackedGEMM.columns)
        let perRow = Double(columns) / ((Double(columns) / tile).rounded(.up) * tile)
        flattened = Double(columns) / Double(width) > perRow + 0.05
        let fit = max(1, (65_536 / (channels * width * sx) - reachY) / sy + 1)
        // Row by row, an image splits into at least four bands so that a batch of one spreads over threads
        // (it splits by output channels too); flattened, a band needs many rows to fill its tiles.
        let rows = max(1, min(fit, flattened ? outputRows : (outputRows + 3) / 4))
        let planeRows = ((rows - 1) * sy + reachY + sy - 1) / sy
        self.rows = rows
        self.columns = columns
        reach = reachY
        self.stride = stride
        self.channels = channels
        self.planeRows = planeRows
        self.width = width
        self.top = top
        self.left = left
        taps = tapList.map { t in
            4 * ((((t.channel * sy + t.dy % sy) * sx + t.dx % sx) * planeRows + t.dy / sy) * width + t.dx / sx)
        }
        let outputs = (0..<(rows * width)).map { j in j % width < columns ? place(j / width, j % width) : Self.skip }
        var runs = [Int](repeating: 0, count: outputs.count + 1)
        for j in outputs.indices.reversed() where outputs[j] != Self.skip {
            runs[j] = j + 1 < outputs.count && outputs[j + 1] == outputs[j] + 1 ? min(64, runs[j + 1] + 1) : 1
        }
        self.outputs = outputs
        self.runs = runs
        self.m = m
        let perChannel = max(1, tapList.count / channels)
        // A single row of C has no row blocks to share a strip with.
        slice = singleRow || tapList.count <= 256 ? max(1, tapList.count) : max(1, 192 / perChannel) * perChannel
    }

    /// Floats of the band's input, with room for tiles that read past its end.
    var bandFloats: Int { channels * stride.0 * stride.1 * planeRows * width + width + 64 }
    /// Floats of scratch a band needs: its input, then the partial sums of a strip's tiles.
    var floats: Int { bandFloats + (slice < taps.count ? (m + PackedGEMM.rows - 1) / PackedGEMM.rows * PackedGEMM.carried : 0) }

    /// Copies the input rows of the band whose first output row is `y0`
    /// (`rows` of them) from `plane(c)`, an h x w channel, into `buffer`.
    func copy(y0: Int, rows: Int, h: Int, w: Int, plane: (Int) -> UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>) {
        let (sy, sx) = stride
        let planeSize = planeRows * width
        // Band column t of phase p reads input column left + t * sx + p; with sx == 1, lo..<hi are inside the row.
        let lo = min(width, max(0, -left)), hi = max(lo, min(width, w - left))
        for c in 0..<channels {
            let source = plane(c)
            for q in 0..<((rows - 1) * sy + reach) {
                let iy = y0 * sy + top + q
                let (phase, index) = sy == 1 ? (0, q) : (q % sy, q / sy)
                let first = buffer + (c * sy + phase) * sx * planeSize + index * width
                guard iy >= 0 && iy < h else {
                    for p in 0..<sx { (first + p * planeSize).update(repeating: 0, count: width) }
                    continue
                }
                let row = source + iy * w
                if sx == 1 {
                    first.update(repeating: 0, count: lo)
                    (first + lo).update(from: row + left + lo, count: hi - lo)
                    (first + hi).update(repeating: 0, count: width - hi)
                    continue
                }
                for p in 0..<sx {
                    let dst = first + p * planeSize
                    for t in 0..<width {
                        let ix = left + t * sx + p
                        dst[t] = ix >= 0 && ix < w ? row[ix] : 0
                    }
                }
            }
        }
        (buffer + channels * sy * sx * planeRows * width).update(repeating: 0, count: width + 64)
    }

    /// C = A x band for the band's `rows` output rows: row blocks
    /// `rowBlocks` of the packed weights `a` (m rows, depth = taps), tiles
    /// stored through `epilogue` at `origin` + the band column's output
    /// offset, or moved by `shuffle`.
    func multiply(rows: Int, buffer: UnsafeMutablePointer<Float>, rowBlocks: Range<Int>, packed a: UnsafePointer<Float>,
                  epilogue: TileEpilogue, output: UnsafeMutablePointer<Float>, origin: Int, rowStride: Int,
                  shuffle: PackedGEMM.PixelShuffle? = nil) {
        let k = taps.count
        let step = m == 1 ? 64 : PackedGEMM.columns
        let carry = buffer + bandFloats
        let residual = epilogue.residual
        taps.withUnsafeBufferPointer { tapBuffer in
            outputs.withUnsafeBufferPointer { places in
                let tap = tapBuffer.baseAddress!
                let scattered = PackedGEMM.Target(output: output, origin: origin, rowStride: rowStride,
                                                  columnOffsets: places.baseAddress!, shuffle: shuffle)
                // Built once, moved per strip.
                var run = PackedGEMM.Target(output: output, origin: origin, rowStride: rowStride, shuffle: shuffle)
                // Flattened, the band's rows are one line of columns.
                let (lines, length, pitch) = flattened ? (1, rows * width, 0) : (rows, columns, width)
                for line in 0..<lines {
                    for ox in Swift.stride(from: 0, to: length, by: step) {
                        let j = line * pitch + ox, count = min(step, length - ox)
                        let start = UnsafeRawPointer(buffer + j)
                        let contiguous = runs[j] >= count
                        run.origin = origin + places[j]
                        let target = contiguous ? run : scattered, column = contiguous ? 0 : j
                        if m > 1 && places[j] >= 0 {
                            // Lines the strip's tiles store to and add from, one per output channel, fetched
                            // while it computes: too many streams for the hardware prefetcher to follow.
                            let from = rowBlocks.lowerBound * PackedGEMM.rows, to = min(m, rowBlocks.upperBound * PackedGEMM.rows)
                            for row in from..<to {
                                let position = origin + row * rowStride + places[j]
                                strata_prefetch_write(output + (shuffle.map { $0(position) } ?? position))
                                if let residual { strata_prefetch_read(residual + position) }
                            }
                        }
                        if m == 1 {
                            PackedGEMM.singleRow(k: k, packed: a, column: column, width: count, epilogue: epilogue, target: target) {
                                start + tap[$0]
                            }
                            continue
                        }
                        // Each slice of a strip of columns is read from L1 by every row block in turn.
                        // At least once: a phase without taps still stores its epilogue (a bias).
                        for depth in Swift.stride(from: 0, to: max(k, 1), by: slice) {
                            for block in rowBlocks {
                                PackedGEMM.tile(block: block, m: m, k: k, depth: depth..<min(k, depth + slice),
                                                carry: carry + (block - rowBlocks.lowerBound) * PackedGEMM.carried,
                                                packed: a, column: column, width: count, epilogue: epilogue,
                                                target: target) { start + tap[$0] }
                            }
                        }
                    }
                }
            }
        }
    }
}
