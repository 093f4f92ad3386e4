import CKernelSupport

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
    /// Floats from one plane to the next: an odd number of cache lines, so
    /// that the lines a strip reads from each channel fall in different L1
    /// sets (planes a multiple of 4 KB apart, as 4 rows of 256 are, would
    /// all compete for the 8 ways of one set).
    let planeSize: Int
    /// The input row and column of band position (0, 0); negative in the padding.
    let top: Int
    let left: Int
    let flattened: Bool
    /// Each tap's byte offset from the output column's position in the band.
    let taps: [Int]
    /// Which row and column remainders modulo the stride some tap reads:
    /// planes of the others are not copied (a 1x1 layer of stride 2 reads one plane of four).
    let rowPhases: [Bool], columnPhases: [Bool]
    /// Where band column j is stored, relative to the band's first output; `skip` past a row's end.
    let outputs: [Int]
    /// How many columns from j on are stored side by side (up to 64): a
    /// tile within such a run is stored with vector stores.
    let runs: [Int]
    /// Depth per slice: a strip of 16 columns reads its inputs for one
    /// slice (about 16 KB) from L1 while every row block of the weights
    /// streams past, and carries its partial sums to the next slice. A
    /// whole 3x3 layer of 64 channels would be twice L1. (The lanes tile
    /// slices only beyond 1024 taps; see `init`.)
    let slice: Int
    /// Rows of C.
    let m: Int
    /// The first row of each row block of C, then m (`PackedGEMM.rowsOf`).
    let blockStarts: [Int]
    /// Whether tiles hold 16 output channels along their columns and 6
    /// pixels along their rows (the weights as B, packed in blocks of 16),
    /// instead of 6 channels x 16 neighbouring pixels. On narrow maps
    /// (7x7, 8x8) a 16-pixel strip wastes columns or crosses rows; 6 pixels
    /// taken anywhere from `pixels` waste none, at the price of scalar stores.
    let lanes: Bool
    /// Where the inputs of each stored output start in the band, in floats
    /// (its band column, or its place among channel blocks), in order, and
    /// where the output goes (lanes only).
    let pixels: [Int], pixelPlaces: [Int]
    /// Whether the input, and the output, hold their channels in blocks
    /// of 16 (`ChannelBlocks`). A blocked output puts the channels in
    /// lanes, on maps of any width: a tile's rows are stored as vectors. So
    /// does a blocked input at a stride: its band is its padded rows, block
    /// by block, copied as whole pixels and not split by the stride (the
    /// lanes tile reads each pixel's value on its own, so neighbouring
    /// outputs need not read neighbouring inputs). At stride 1, a blocked
    /// input on the plain tile is copied out of its blocks into the band's
    /// channel rows, 16 pixels at a time (`ChannelBlocks.transpose`).
    let blocked: (input: Bool, output: Bool)
    /// Whether the band holds the input's blocks as they are (for the lanes tile).
    let keepsBlocks: Bool
    /// Padded input rows and columns of a band that keeps blocks.
    private let paddedRows: Int, paddedWidth: Int

    static let skip = Int.min / 4

    /// Whether `m` output channels of rows `columns` wide go in the lanes.
    /// Measured: lanes win on every map narrower than a tile (7x7 to 14x14,
    /// up to 2.4x on a 1-channel first layer), and lose on wider ones
    /// (1.2-1.8x on 32x32, 144-288 taps) to their scalar stores. Deep layers
    /// too: row blocks compute at most one spare row (see
    /// `PackedGEMM.rowsOf`), never more than lanes (ESPCN's 64 -> 32 3x3 at
    /// 224x224 is 4% faster in them).
    static func lanes(m: Int, columns: Int) -> Bool { m >= PackedGEMM.columns && columns < PackedGEMM.columns }

    /// `outputRows` x `columns` outputs per image for `m` output channels;
    /// `place(r, ox)` is where output (r, ox) goes relative to output
    /// (0, 0). Bands hold about 256 KB of input. Taps come channel by channel.
    /// `extent` is the least extent of input, rows and columns, one output
    /// reads: phases that share one band copy ask for the widest of theirs.
    /// `fixedRows` sets the band's rows (two chained layers share their bands).
    init(outputRows: Int, columns: Int, channels: Int, stride: (Int, Int), top: Int, left: Int, taps tapList: [Tap],
         m: Int, extent: (Int, Int) = (1, 1), fixedRows: Int? = nil, blocked: (input: Bool, output: Bool) = (false, false),
         images: Int, place: (Int, Int) -> Int) {
        let reachY = max(extent.0, (tapList.map(\.dy).max() ?? 0) + 1), reachX = max(extent.1, (tapList.map(\.dx).max() ?? 0) + 1)
        let (sy, sx) = stride
        let width = ((columns - 1) * sx + reachX + sx - 1) / sx
        // Share of computed columns that are stored, per row or across rows.
        let tile = Double(Self.step(m: m, taps: tapList.count))
        let perRow = Double(columns) / ((Double(columns) / tile).rounded(.up) * tile)
        flattened = Double(columns) / Double(width) > perRow + 0.05
        let fit = max(1, (65_536 / (channels * width * sx) - reachY) / sy + 1)
        // Blocks are read and written by the lanes tile alone (a pixel's 16 channels are one of its rows).
        let lanes = Self.lanes(m: m, columns: columns) || blocked.output || blocked.input && stride != (1, 1)
        // Row by row, an image splits into at least four bands so that a small batch spreads over threads (it
        // splits by output channels too); flattened, a band needs many rows to fill its tiles. On the plain
        // tile a batch of four or more keeps a small image (64 KB of input) whole: each band copies the rows
        // its edges share (LeNet's first layer copied 11 rows for 7: 0.165 ms at batch 32 against 0.155
        // whole). A larger one stays split: the DCGAN generator's last layer, 238 KB whole, took 5.5-6.4 ms
        // against 4.4-4.5 in bands of 68 KB at batch 32.
        let fewImages = images < 4
        let small = channels * width * sx * ((outputRows - 1) * sy + reachY) <= 16_384
        let whole = flattened || !fewImages && !lanes && small
        let rows = fixedRows ?? max(1, min(fit, whole ? outputRows : (outputRows + 3) / 4))
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
        let lines = (planeRows * width + 15) / 16
        let planeSize = (lines % 2 == 0 ? lines + 1 : lines) * 16
        self.planeSize = planeSize
        rowPhases = (0..<sy).map { q in tapList.contains { $0.dy % sy == q } }
        columnPhases = (0..<sx).map { q in tapList.contains { $0.dx % sx == q } }
        let outputs = (0..<(rows * width)).map { j in j % width < columns ? place(j / width, j % width) : Self.skip }
        var runs = [Int](repeating: 0, count: outputs.count + 1)
        for j in outputs.indices.reversed() where outputs[j] != Self.skip {
            runs[j] = j + 1 < outputs.count && outputs[j + 1] == outputs[j] + 1 ? min(64, runs[j + 1] + 1) : 1
        }
        self.outputs = outputs
        self.runs = runs
        self.m = m
        blockStarts = (0..<(m + PackedGEMM.rows - 1) / PackedGEMM.rows).map { PackedGEMM.rowsOf(block: $0, m: m).lowerBound } + [m]
        self.lanes = lanes
        self.blocked = blocked
        keepsBlocks = blocked.input && lanes
        let (paddedRows, paddedWidth) = ((rows - 1) * sy + reachY, (columns - 1) * sx + reachX)
        (self.paddedRows, self.paddedWidth) = (paddedRows, paddedWidth)
        let stored = lanes ? outputs.indices.filter { outputs[$0] != Self.skip } : []
        pixelPlaces = stored.map { outputs[$0] }
        if keepsBlocks {
            let size = ChannelBlocks.size
            pixels = stored.map { j in ((j / width) * sy * paddedWidth + (j % width) * sx) * size }
            taps = tapList.map { t in
                4 * (((t.channel / size * paddedRows + t.dy) * paddedWidth + t.dx) * size + t.channel % size)
            }
        } else {
            pixels = stored
            taps = tapList.map { t in
                4 * (((t.channel * sy + t.dy % sy) * sx + t.dx % sx) * planeSize + (t.dy / sy) * width + t.dx / sx)
            }
        }
        let perChannel = max(1, tapList.count / channels)
        // A single row of C has no row blocks to share a strip with. The lanes tile reads up to 1024 taps
        // unsliced: its sums carried between slices and its calls per slice cost more than reading a block's
        // weights from L2 (ResNet-20's 288- and 576-tap layers and the VAE encoder's 512-tap layer 1-2% faster).
        // A batch under four reads each block's weights once, from memory: up to 4096 taps it streams them
        // unsliced, fetched ahead (the DCGAN discriminator's 256 -> 512 layer at batch 1 1.14 -> 0.90 ms; at
        // batch 32, which reads them again per image, slices kept in L1 stay 4% faster).
        let streams = fewImages && tapList.count <= 4096
        slice = m == 1 || tapList.count <= 256 || lanes && (tapList.count <= 1024 || streams) ? max(1, tapList.count)
            : max(1, 192 / perChannel) * perChannel
    }

    /// Floats of the band's input, with room for tiles that read past its end.
    var bandFloats: Int { planesFloats + width + 64 }
    /// Floats of the band's planes, where the room past its end starts.
    private var planesFloats: Int {
        keepsBlocks ? ChannelBlocks.floats(channels: channels, pixels: paddedRows * paddedWidth)
            : channels * stride.0 * stride.1 * planeSize
    }

    /// Zeros the room past the band's planes that tiles read into (computed, never stored).
    func clearPastEnd(_ buffer: UnsafeMutablePointer<Float>) {
        (buffer + planesFloats).update(repeating: 0, count: width + 64)
    }
    /// Floats of scratch a band needs: its input, then the partial sums of
    /// a strip's tiles (of a row block's strips when the weights go first).
    var floats: Int {
        let blocks = (m + PackedGEMM.rows - 1) / PackedGEMM.rows, s = strips(rows: rows)
        let tiles = lanes ? (pixels.count + PackedGEMM.rows - 1) / PackedGEMM.rows : max(blocks, s.lines * s.perLine)
        return bandFloats + (slice < taps.count ? tiles * PackedGEMM.groups * PackedGEMM.carried : 0) + lineFloats
    }

    /// Copies the input rows of the band whose first output row is `y0`
    /// (`rows` of them) from `plane(c)`, an h x w channel, into `buffer`.
    func copy(y0: Int, rows: Int, h: Int, w: Int, plane: (Int) -> UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>) {
        if keepsBlocks { return copyBlocks(y0: y0, rows: rows, h: h, w: w, block: plane, into: buffer) }
        let (sy, sx) = stride
        if sy == 1 && sx == 1 { return copyRows(y0: y0, rows: rows, h: h, w: w, plane: plane, into: buffer) }
        precondition(!blocked.input, "a blocked input at a stride is read by the lanes tile")
        if inPhases { return copyInPhases(y0: y0, rows: rows, h: h, w: w, plane: plane, into: buffer) }
        // Per band row a few floats are copied: divisions and calls to memset per row cost more than the copy.
        withUnsafeTemporaryAllocation(of: (Int, Int).self, capacity: sx) { spans in
            // Plane column t of column phase p reads input column left + p + t * sx; inside the row for t in from..<to.
            for p in 0..<sx {
                let x0 = left + p, from = min(width, max(0, (-x0 + sx - 1) / sx))
                spans[p] = (from, max(from, min(width, (w - x0 + sx - 1) / sx)))
            }
            for c in 0..<channels {
                let source = plane(c)
                var (phase, index) = (0, 0)
                for q in 0..<((rows - 1) * sy + reach) {
                    defer {
                        phase += 1
                        if phase == sy { (phase, index) = (0, index + 1) }
                    }
                    guard rowPhases[phase] else { continue }
                    let iy = y0 * sy + top + q
                    let first = buffer + (c * sy + phase) * sx * planeSize + index * width
                    for p in 0..<sx where columnPhases[p] {
                        let dst = first + p * planeSize, (from, to) = iy >= 0 && iy < h ? spans[p] : (0, 0)
                        Self.pad(dst, from: from, to: to, width: width)
                        guard from < to else { continue }
                        let row = source + iy * w + left + p
                        if sx == 1 {
                            (dst + from).update(from: row + from, count: to - from)
                        } else {
                            for t in from..<to { dst[t] = row[t * sx] }
                        }
                    }
                }
            }
        }
        clearPastEnd(buffer)
    }

    /// Whether the band copy splits rows into two column phases through
    /// `line` rows: stride 2 across, rows of 8 or more.
    private var inPhases: Bool { stride.1 == 2 && width >= 8 }
    /// Input rows one band copies.
    private var inputRows: Int { (rows - 1) * stride.0 + reach }
    /// Floats of scratch for one channel's padded input rows, before they are split.
    private var lineFloats: Int { inPhases ? inputRows * 2 * width : 0 }

    /// `copy` at column stride 2: a channel's rows are padded into the
    /// `lineFloats` at the end of the band's scratch, then split 16 floats
    /// at a time into the column phases (the last 16 of a row overlap the
    /// others). Per float, loops and divisions cost more than the copy (the
    /// VAE encoder spent 15% of its time there). All rows are written
    /// before any is read: a load that spans stores still in flight waits
    /// for them.
    private func copyInPhases(y0: Int, rows: Int, h: Int, w: Int, plane: (Int) -> UnsafePointer<Float>,
                              into buffer: UnsafeMutablePointer<Float>) {
        let sy = stride.0, count = (rows - 1) * sy + reach, span = 2 * width, line = buffer + floats - lineFloats
        let from = min(span, max(0, -left)), to = max(from, min(span, w - left))
        // A 1x1 layer reads the even phases only.
        let (evenRead, oddRead) = (columnPhases[0], columnPhases[1]), everyRow = !rowPhases.contains(false)
        for c in 0..<channels {
            let source = plane(c) + left
            for q in 0..<count where everyRow || rowPhases[q % sy] {
                let iy = y0 * sy + top + q
                Self.fill(line + q * span, from: iy >= 0 && iy < h ? source + iy * w : nil, columns: from..<to, width: span)
            }
            for q in 0..<count where rowPhases[q % sy] {
                let even = buffer + (c * sy + q % sy) * 2 * planeSize + (q / sy) * width, odd = even + planeSize
                func part(_ t: Int) {
                    let v = UnsafeRawPointer(line + q * span + 2 * t).loadUnaligned(as: SIMD16<Float>.self)
                    if evenRead { UnsafeMutableRawPointer(even + t).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self) }
                    if oddRead { UnsafeMutableRawPointer(odd + t).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self) }
                }
                for t in Swift.stride(from: 0, to: width - 8, by: 8) { part(t) }
                part(width - 8)
            }
        }
        clearPastEnd(buffer)
    }

    /// `copy` at stride 1, where each band row is an input row, padded:
    /// rows of 16 to 64 floats, copied inline (a call to memmove per row,
    /// and the general copy's bookkeeping, cost more than the copy).
    private func copyRows(y0: Int, rows: Int, h: Int, w: Int, plane: (Int) -> UnsafePointer<Float>,
                          into buffer: UnsafeMutablePointer<Float>) {
        if blocked.input {
            Self.copyRows(y0 + top, count: rows - 1 + reach, left: left, width: width, planeSize: planeSize, channels: channels,
                          h: h, w: w, blocks: plane, into: buffer)
        } else {
            Self.copyRows(y0 + top, count: rows - 1 + reach, left: left, width: width, planeSize: planeSize, channels: channels,
                          h: h, w: w, plane: plane, into: buffer)
        }
        clearPastEnd(buffer)
    }

    /// Input rows `first`..< (`count` of them) of `channels` h x w planes
    /// (`plane(c)`), each padded into a band row of `width` floats whose
    /// column 0 is input column `left`; a channel's rows `planeSize` floats
    /// on from the previous one's. Rows outside the input are zeros.
    static func copyRows(_ first: Int, count: Int, left: Int, width: Int, planeSize: Int, channels: Int, h: Int, w: Int,
                         plane: (Int) -> UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>) {
        let from = min(width, max(0, -left)), to = max(from, min(width, w - left))
        for c in 0..<channels {
            let source = plane(c) + left
            for q in 0..<count {
                let iy = first + q
                fill(buffer + c * planeSize + q * width, from: iy >= 0 && iy < h ? source + iy * w : nil, columns: from..<to, width: width)
            }
        }
    }

    /// `copyRows` of a blocked input, `blocks(i)` its block i of 16
    /// channels: each block's rows are transposed into its channels' band
    /// rows 16 pixels at a time (a row's last 16 overlap the others). A
    /// row of fewer pixels is transposed as 16 all the same, the rest
    /// zeros, where they fall on the next row (copied after it) or on the
    /// plane's room past its rows; float by float if they do not fit.
    static func copyRows(_ first: Int, count: Int, left: Int, width: Int, planeSize: Int, channels: Int, h: Int, w: Int,
                         blocks: (Int) -> UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>) {
        let size = ChannelBlocks.size
        let from = min(width, max(0, -left)), to = max(from, min(width, w - left))
        let spills = (count - 1) * width + from + size <= planeSize
        for i in 0..<ChannelBlocks.blocks(channels) {
            let lanes = min(size, channels - i * size), source = blocks(i) + left * size
            for q in 0..<count {
                let iy = first + q, row = buffer + i * size * planeSize + q * width
                guard iy >= 0 && iy < h else {
                    for c in 0..<lanes { (row + c * planeSize).update(repeating: 0, count: width) }
                    continue
                }
                for c in 0..<lanes { pad(row + c * planeSize, from: from, to: to, width: width) }
                let pixels = source + iy * w * size
                guard to - from >= size else {
                    if spills {
                        ChannelBlocks.transpose(pixels + from * size, pixels: to - from, into: row + from, stride: planeSize, count: lanes)
                    } else {
                        for c in 0..<lanes { for x in from..<to { row[c * planeSize + x] = pixels[x * size + c] } }
                    }
                    continue
                }
                var x = from
                while x < to {
                    x = min(x, to - size)
                    ChannelBlocks.transpose(pixels + x * size, into: row + x, stride: planeSize, count: lanes)
                    x += size
                }
            }
        }
    }

    /// `copy` of a blocked input, `block(i)` its block i of 16 channels:
    /// each padded row is the row's pixels copied whole (16 floats each),
    /// with a pixel of zeros for each padding column.
    private func copyBlocks(y0: Int, rows: Int, h: Int, w: Int, block: (Int) -> UnsafePointer<Float>,
                            into buffer: UnsafeMutablePointer<Float>) {
        let size = ChannelBlocks.size, count = (rows - 1) * stride.0 + reach
        let from = min(paddedWidth, max(0, -left)), to = max(from, min(paddedWidth, w - left))
        func zero(_ p: UnsafeMutablePointer<Float>, pixels: Range<Int>) {
            for x in pixels { UnsafeMutableRawPointer(p + x * size).storeBytes(of: SIMD16<Float>(), as: SIMD16<Float>.self) }
        }
        for i in 0..<ChannelBlocks.blocks(channels) {
            let source = block(i) + left * size
            for q in 0..<count {
                let iy = y0 * stride.0 + top + q, row = buffer + (i * paddedRows + q) * paddedWidth * size
                guard iy >= 0 && iy < h else {
                    zero(row, pixels: 0..<paddedWidth)
                    continue
                }
                zero(row, pixels: 0..<from)
                Self.move(source + (iy * w + from) * size, to: row + from * size, count: (to - from) * size)
                zero(row, pixels: to..<paddedWidth)
            }
        }
        clearPastEnd(buffer)
    }

    /// A padded band row of `width` floats: input columns `columns` of the
    /// row at `source` where they lie, zeros around them; zeros throughout
    /// for a row outside the input (nil).
    @inline(__always)
    static func fill(_ row: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>?, columns: Range<Int>, width: Int) {
        guard let source else { return row.update(repeating: 0, count: width) }
        pad(row, from: columns.lowerBound, to: columns.upperBound, width: width)
        move(source + columns.lowerBound, to: row + columns.lowerBound, count: columns.count)
    }

    /// Copies `count` floats, 8 at a time (the last 8 overlap the others).
    @inline(__always)
    static func move(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
        guard count >= 8 else { return target.update(from: source, count: count) }
        let s = UnsafeRawPointer(source), t = UnsafeMutableRawPointer(target)
        var i = 0
        while i < count - 8 {
            t.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        let end = 4 * (count - 8)
        t.storeBytes(of: s.loadUnaligned(fromByteOffset: end, as: SIMD8<Float>.self), toByteOffset: end, as: SIMD8<Float>.self)
    }

    /// Zeros the columns of a band row outside from..<to, before they are
    /// copied: padding is a float or two, stored as a vector at each end.
    @inline(__always)
    static func pad(_ row: UnsafeMutablePointer<Float>, from: Int, to: Int, width: Int) {
        guard width >= 8 && from <= 8 && width - to <= 8 else {
            row.update(repeating: 0, count: from)
            return (row + to).update(repeating: 0, count: width - to)
        }
        UnsafeMutableRawPointer(row).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(row + width - 8).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
    }

    /// Rows of the weights per packed block.
    var blockRows: Int { lanes ? PackedGEMM.columns : PackedGEMM.rows }

    /// The first tap of each slice of depth; at least one slice, since a
    /// phase without taps still stores its epilogue (a bias).
    var slices: StrideTo<Int> { Swift.stride(from: 0, to: max(taps.count, 1), by: slice) }

    /// Whether C's rows are computed three at a time on the three-row tile:
    /// two or three of them, or seven to nine with 256 taps or more, where
    /// 6-row blocks would compute 12 (ESPCN's 32 -> 9 layer before its
    /// pixel shuffle: 20% faster). With fewer taps the calls cost more than
    /// the rows saved (an 8 -> 8 3x3 layer 20% slower).
    /// On AVX-512 the 6-row tile's two column groups run at twice the rate, which pays for its spare rows.
    static func inThrees(m: Int, taps: Int) -> Bool {
        !PackedGEMM.avx512 && (m == 2 || m == 3 || (7...9).contains(m) && taps >= 256)
    }
    var inThrees: Bool { Self.inThrees(m: m, taps: taps.count) }

    /// Columns per strip: a tile's, or the one-row tile's for a single row
    /// of C, or the three-row tile's.
    static func step(m: Int, taps: Int) -> Int { m == 1 ? 64 : inThrees(m: m, taps: taps) ? 32 : PackedGEMM.columns }
    var step: Int { Self.step(m: m, taps: taps.count) }

    /// Strips of columns a band of `rows` output rows is computed in: of
    /// 16 columns (64 for a single row of C, 32 on the three-row tile), along each output row, or
    /// along the whole band when flattened.
    func strips(rows: Int) -> (lines: Int, length: Int, pitch: Int, perLine: Int) {
        let (lines, length, pitch) = flattened ? (1, rows * width, 0) : (rows, columns, width)
        return (lines, length, pitch, (length + step - 1) / step)
    }

    /// Whether the job's weights outweigh the band: then each row block's
    /// slice of weights stays in L1 while every strip reads it (a deep
    /// layer on a small map: its megabytes of weights are read once, not
    /// once per strip), and the partial sums are carried per strip.
    func weightsFirst(rowBlocks: Int) -> Bool { rowBlocks * taps.count * PackedGEMM.rows > bandFloats }

    /// C = A x band for the band's `rows` output rows: row blocks
    /// `rowBlocks` of the packed weights `a` (m rows, depth = taps, blocks
    /// of `blockRows`), tiles stored through `epilogue` at `origin` + the
    /// band column's output offset (`rowStride` apart per output channel),
    /// or moved by `shuffle`.
    func multiply(rows: Int, buffer: UnsafeMutablePointer<Float>, rowBlocks: Range<Int>, packed a: UnsafePointer<Float>,
                  epilogue: TileEpilogue, output: UnsafeMutablePointer<Float>, origin: Int, rowStride: Int,
                  shuffle: PackedGEMM.PixelShuffle? = nil) {
        let carry = buffer + bandFloats
        if lanes {
            return multiplyLanes(count: rows * columns, buffer: buffer, carry: carry, rowBlocks: rowBlocks, packed: a,
                                 epilogue: epilogue, target: PackedGEMM.Target(output: output, origin: origin, rowStride: 0,
                                                                               columnStride: rowStride, shuffle: shuffle))
        }
        let k = taps.count
        let residual = epilogue.residual
        let (lines, length, pitch, perLine) = strips(rows: rows)
        let count = lines * perLine
        taps.withUnsafeBufferPointer { tapBuffer in
            outputs.withUnsafeBufferPointer { places in
                let tap = tapBuffer.baseAddress!
                let scattered = PackedGEMM.Target(output: output, origin: origin, rowStride: rowStride,
                                                  columnOffsets: places.baseAddress!, shuffle: shuffle)
                typealias Strip = (j: Int, width: Int, target: PackedGEMM.Target, column: Int)
                /// Strip s: its first band column, width, where it is stored, and its first column there.
                func strip(_ s: Int) -> Strip {
                    let ox = (s % perLine) * step, j = (s / perLine) * pitch + ox, width = min(step, length - ox)
                    guard runs[j] >= width else { return (j, width, scattered, j) }
                    let run = PackedGEMM.Target(output: output, origin: origin + places[j], rowStride: rowStride, shuffle: shuffle)
                    return (j, width, run, 0)
                }
                /// Strips s and, where a tile takes two (`PackedGEMM.groups`), s + 1 if there is one.
                func strips(_ s: Int) -> (Strip, Strip?) {
                    (strip(s), PackedGEMM.groups == 2 && s + 1 < count ? strip(s + 1) : nil)
                }
                /// The slice of depth from `first` of row block `block` over a strip (and the next), its sums carried at `sums`.
                func tile(_ block: Int, _ first: Int, _ strips: (Strip, Strip?), carry sums: UnsafeMutablePointer<Float>) {
                    let (strip, next) = strips
                    PackedGEMM.tile(rows: PackedGEMM.rowsOf(block: block, m: m), k: k, depth: first..<min(k, first + slice), carry: sums,
                                    column: strip.column, width: strip.width, epilogue: epilogue, target: strip.target,
                                    rowsAt: PackedGEMM.Stride(a + block * k * PackedGEMM.rows, step: PackedGEMM.rows * 4),
                                    columnsAt: PackedGEMM.Table(buffer + strip.j, offsets: tap),
                                    pair: next.map { PackedGEMM.Pair(offset: 4 * ($0.j - strip.j), column: $0.column, width: $0.width,
                                                                     target: $0.target) })
                }
                if m == 1 {
                    for s in 0..<count {
                        let (j, width, target, column) = strip(s)
                        PackedGEMM.singleRow(k: k, packed: a, column: column, width: width, epilogue: epilogue, target: target,
                                             source: PackedGEMM.Table(buffer + j, offsets: tap))
                    }
                    return
                }
                if inThrees {
                    for s in 0..<count {
                        let (j, width, target, column) = strip(s)
                        for block in rowBlocks {
                            let range = PackedGEMM.rowsOf(block: block, m: m)
                            for row in Swift.stride(from: range.lowerBound, to: range.upperBound, by: 3) {
                                var rows = target
                                rows.origin += row * rowStride
                                // A slice's inputs stay in L1 while its taps pass over them (a 9x9 layer's whole strip would not fit).
                                for first in slices {
                                    PackedGEMM.threeRows(k: k, m: min(3, m - row), depth: first..<min(k, first + slice), carry: carry,
                                                         packed: a + block * k * PackedGEMM.rows + row - range.lowerBound, column: column,
                                                         width: width, epilogue: epilogue.rows(from: row), target: rows,
                                                         source: buffer + j, offsets: tap)
                                }
                            }
                        }
                    }
                    return
                }
                let groups = PackedGEMM.groups, whole = whole(epilogue, shuffle: shuffle)
                // Weights first keeps a block's weights in L1 while every strip passes; the whole loop reads
                // all blocks per strip, as good while they fit in L1 (SRCNN's 9x9 layer, 21 KB: SRCNN 12% faster).
                if weightsFirst(rowBlocks: rowBlocks.count) && (whole == nil || rowBlocks.count * k * PackedGEMM.rows > 8192) {
                    for block in rowBlocks {
                        for first in slices {
                            for s in Swift.stride(from: 0, to: count, by: groups) {
                                tile(block, first, strips(s), carry: carry + s * PackedGEMM.carried)
                            }
                        }
                    }
                    return
                }
                let firstRow = PackedGEMM.rowsOf(block: rowBlocks.lowerBound, m: m).lowerBound
                let lastRow = PackedGEMM.rowsOf(block: rowBlocks.upperBound - 1, m: m).upperBound
                /// Fetches the lines a strip's tiles store to and add from, one per output channel, while
                /// it computes: too many streams for the hardware prefetcher to follow.
                func prefetch(_ strip: Strip) {
                    guard places[strip.j] >= 0 else { return }
                    for row in firstRow..<lastRow {
                        let position = origin + row * rowStride + places[strip.j]
                        strata_prefetch_write(output + (shuffle.map { $0(position) } ?? position))
                        if let residual { strata_prefetch_read(residual + position) }
                    }
                }
                /// Each slice of a strip of columns (and the next) is read from L1 by every row block in turn.
                func compute(_ current: (Strip, Strip?)) {
                    prefetch(current.0)
                    if let next = current.1 { prefetch(next) }
                    for first in slices {
                        for block in rowBlocks {
                            tile(block, first, current, carry: carry + (block - rowBlocks.lowerBound) * groups * PackedGEMM.carried)
                        }
                    }
                }
                guard let function = whole else {
                    for s in Swift.stride(from: 0, to: count, by: groups) { compute(strips(s)) }
                    return
                }
                // The strips whose outputs are runs of a row: the tiles of every row block and their epilogue in
                // one call (a call per tile cost a fifth of SRCNN's 81-tap layer, a call per strip a quarter of
                // LeNet's first layer); the others on the Swift tile.
                let common = epilogue.common!
                withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { left in
                    let rest = blockStarts.withUnsafeBufferPointer { starts in
                        runs.withUnsafeBufferPointer { runs in
                            strata_plain(PackedGEMM.wide, rowBlocks.count, starts.baseAddress! + rowBlocks.lowerBound, k,
                                         a + rowBlocks.lowerBound * k * PackedGEMM.rows,
                                         UnsafeRawPointer(buffer).assumingMemoryBound(to: CChar.self), tap, lines, pitch, length,
                                         places.baseAddress!, runs.baseAddress!, output + origin, rowStride,
                                         common.shift + epilogue.firstRow, common.residual.map { $0 + origin }, function,
                                         left.baseAddress!)
                        }
                    }
                    for s in left.prefix(rest) { compute((strip(s), nil)) }
                }
            }
        }
    }

    /// Whether a tile runs whole in C (`strata_lanes`, `strata_plain`), and
    /// if so the function that ends its epilogue:
    /// the common epilogue (a shift, maybe a residual, then relu, tanh or
    /// nothing), an unsliced depth, no shuffle; on the lanes tile, whole
    /// blocks of output channels.
    private func whole(_ epilogue: TileEpilogue, shuffle: PackedGEMM.PixelShuffle?) -> strata_function? {
        guard slice >= taps.count, shuffle == nil, !lanes || m % PackedGEMM.columns == 0,
              let common = epilogue.common else { return nil }
        return common.cFunction
    }

    /// The first `count` stored outputs, in blocks of 6 pixels (see
    /// `PackedGEMM.rowsOf`), times row blocks `rowBlocks` of 16 output channels.
    private func multiplyLanes(count: Int, buffer: UnsafeMutablePointer<Float>, carry: UnsafeMutablePointer<Float>,
                               rowBlocks: Range<Int>, packed a: UnsafePointer<Float>, epilogue: TileEpilogue,
                               target: PackedGEMM.Target) {
        let (origin, blockStride) = (target.origin, target.columnStride)
        let k = taps.count, width = PackedGEMM.columns
        var along = epilogue
        along.alongColumns = true
        taps.withUnsafeBufferPointer { tap in
            pixels.withUnsafeBufferPointer { pix in
                pixelPlaces.withUnsafeBufferPointer { places in
                    if let function = whole(epilogue, shuffle: target.shuffle) {
                        // Whole blocks in and out, the common epilogue, no slices: the tile, its loop over
                        // pixels and its epilogue in one call per block, or pair of blocks on AVX-512 (a call
                        // and a store per tile were a third of a 16-channel layer's time there).
                        // Block b's channels lie `blockStride` floats on from the first's in blocks, planes apart otherwise.
                        let common = epilogue.common!, (channelStride, groupStride) = blocked.output ? (1, blockStride)
                            : (blockStride, width * blockStride)
                        let groups = PackedGEMM.groups
                        for block in Swift.stride(from: rowBlocks.lowerBound, to: rowBlocks.upperBound, by: groups) {
                            let at = origin + block * groupStride, next = groups == 2 && block + 1 < rowBlocks.upperBound ? 4 * k * width : 0
                            strata_lanes(PackedGEMM.wide, count, pix.baseAddress!, UnsafeRawPointer(buffer).assumingMemoryBound(to: CChar.self),
                                         tap.baseAddress!, k, a + block * k * width, next, target.output + at, places.baseAddress!,
                                         channelStride, groupStride, common.shift + epilogue.firstRow + block * width,
                                         common.residual.map { $0 + at }, function)
                        }
                        return
                    }
                    var target = target
                    target.rowOffsets = places.baseAddress!
                    if blocked.output { target.columnStride = 1 }
                    // A block's slice of weights stays in L1 while every tile reads it, and the
                    // lines a block stores to stay there from one tile to the next.
                    /// Where block b's tiles store: blocked, its 16 channels lie `blockStride` floats on from the
                    /// first's (and its tiles' columns start at 16 b).
                    func blockTarget(_ b: Int) -> PackedGEMM.Target {
                        var t = target
                        if blocked.output { t.origin = origin + b * (blockStride - width) }
                        return t
                    }
                    let groups = PackedGEMM.groups
                    for block in Swift.stride(from: rowBlocks.lowerBound, to: rowBlocks.upperBound, by: groups) {
                        let pair = groups == 2 && block + 1 < rowBlocks.upperBound
                            ? PackedGEMM.Pair(offset: 4 * k * width, column: (block + 1) * width, width: min(width, m - (block + 1) * width),
                                              target: blockTarget(block + 1)) : nil
                        for first in slices {
                            for pixelBlock in 0..<(count + PackedGEMM.rows - 1) / PackedGEMM.rows {
                                let rows = PackedGEMM.rowsOf(block: pixelBlock, m: count), t = rows.lowerBound, j = pix[t]
                                // Rows past the block repeat its first; they are not stored.
                                func spread(_ i: Int) -> Int { t + i < rows.upperBound ? 4 * (pix[t + i] - j) : 0 }
                                PackedGEMM.tile(rows: rows, k: k, depth: first..<min(k, first + slice),
                                                carry: carry + pixelBlock * groups * PackedGEMM.carried, column: block * width,
                                                width: min(width, m - block * width), epilogue: along, target: blockTarget(block),
                                                rowsAt: PackedGEMM.Table(buffer + j, offsets: tap.baseAddress!),
                                                spread: (0, spread(1), spread(2), spread(3), spread(4), spread(5)),
                                                columnsAt: PackedGEMM.Stride(a + block * k * width, step: 4 * width), pair: pair)
                            }
                        }
                    }
                }
            }
        }
    }
}
