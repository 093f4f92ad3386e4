import CKernelSupport
import Foundation

/// The fast path of convolutions and linear layers: C = A * B in 6 x 16
/// register tiles, 12 accumulators of 8 lanes, two loads of B and one
/// broadcast of A filling AVX2's 16 vector registers, the epilogue applied
/// to each tile before it is stored. Either A is the weights, packed once
/// at plan time into blocks of 6 rows, and B the input (a band of a direct
/// convolution, never an im2col matrix), or A is the input, 6 pixels or
/// rows read where they lie, and B the weights packed in blocks of 16
/// (output channels along the lanes). Products accumulate in Float with
/// fused multiply-adds. The loops with the common epilogues run whole in
/// CKernelSupport's C (TileLoops.c), in AVX-512's width where the processor
/// has it (`avx512`; there the tile's depth loop too, two groups of 16
/// columns at a time where there are two, `Pair`) and in AVX2's elsewhere.
public enum PackedGEMM {
    public static let rows = 6
    public static let columns = 16

    /// Weights [m x k], row-major, as blocks of 6 rows stored k-major (the
    /// 6 values of one k are neighbours), rows past m zero; or blocks of 16,
    /// for tiles with the weights' rows along their columns. Row i is
    /// multiplied by `scale[i]` on the way: a folded batch norm.
    public static func pack(_ a: UnsafePointer<Float>, m: Int, k: Int, scale: [Float]? = nil, rows: Int = rows) -> [Float] {
        var packed = [Float](repeating: 0, count: packedCount(m: m, k: k, rows: rows))
        packed.withUnsafeMutableBufferPointer { pack(a, m: m, k: k, scale: scale, rows: rows, into: $0.baseAddress!) }
        return packed
    }

    /// `pack` into `packed`, `packedCount` floats that are zero.
    public static func pack(_ a: UnsafePointer<Float>, m: Int, k: Int, scale: [Float]? = nil, rows: Int = rows,
                            into packed: UnsafeMutablePointer<Float>) {
        for block in 0..<(m + rows - 1) / rows {
            let range = rows == Self.rows ? rowsOf(block: block, m: m) : block * rows..<min(m, (block + 1) * rows)
            for i in range {
                let s = scale?[i] ?? 1
                let base = block * k * rows + i - range.lowerBound
                for kk in 0..<k { packed[base + kk * rows] = a[i * k + kk] * s }
            }
        }
    }

    /// Floats of `pack`'s result.
    public static func packedCount(m: Int, k: Int, rows: Int = rows) -> Int { (m + rows - 1) / rows * k * rows }

    /// The rows of C in row block `block` of `m`: blocks of 6, except that
    /// when the last would hold one or two rows (13 or 49; 32, 128 or 512)
    /// the last two hold four and three, or four each. A tile of four rows
    /// or fewer computes four (see `tile`), so the last seven rows compute
    /// eight, not ten, and eight compute eight; the block count is
    /// unchanged. Up to nine rows stay in blocks of 6, the three-row tile's passes.
    @inline(__always)
    public static func rowsOf(block: Int, m: Int) -> Range<Int> {
        let blocks = (m + rows - 1) / rows
        guard (m % rows == 1 || m % rows == 2) && m > 9 && block >= blocks - 2 else {
            return block * rows..<min(m, (block + 1) * rows)
        }
        let start = (blocks - 2) * rows
        return block == blocks - 2 ? start..<start + 4 : start + 4..<m
    }

    /// One row of C (the first of row block 0) over up to 64 neighbouring
    /// columns, for a layer with a single output channel, where a 6-row tile
    /// would compute five rows for nothing: 8 accumulators, B's 64 values
    /// for depth kk at `source(kk)` (on AVX-512 `strata_avx512_row`).
    @inline(__always)
    public static func singleRow(k: Int, packed a: UnsafePointer<Float>, column: Int, width: Int, epilogue: TileEpilogue,
                                 target: Target, source: some Walk) {
        var sums: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) = (SIMD16(), SIMD16(), SIMD16(), SIMD16())
        withUnsafeMutableBytes(of: &sums) { raw in
            let out = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            if avx512 { return strata_avx512_row(k, a, source.c, out) }
            var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
            var c4 = SIMD8<Float>(), c5 = SIMD8<Float>(), c6 = SIMD8<Float>(), c7 = SIMD8<Float>()
            for kk in 0..<k {
                let b = source(kk)
                let s = SIMD8<Float>(repeating: a[kk * rows])
                c0.addProduct(s, b.loadUnaligned(as: SIMD8<Float>.self))
                c1.addProduct(s, b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                c2.addProduct(s, b.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                c3.addProduct(s, b.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                c4.addProduct(s, b.loadUnaligned(fromByteOffset: 128, as: SIMD8<Float>.self))
                c5.addProduct(s, b.loadUnaligned(fromByteOffset: 160, as: SIMD8<Float>.self))
                c6.addProduct(s, b.loadUnaligned(fromByteOffset: 192, as: SIMD8<Float>.self))
                c7.addProduct(s, b.loadUnaligned(fromByteOffset: 224, as: SIMD8<Float>.self))
            }
            func save(_ c: SIMD8<Float>, _ i: Int) { raw.storeBytes(of: c, toByteOffset: 32 * i, as: SIMD8<Float>.self) }
            save(c0, 0); save(c1, 1); save(c2, 2); save(c3, 3); save(c4, 4); save(c5, 5); save(c6, 6); save(c7, 7)
        }
        withUnsafeBytes(of: &sums) { raw in
            let v = raw.baseAddress!.assumingMemoryBound(to: SIMD16<Float>.self)
            for g in 0..<4 where width > 16 * g {
                epilogue.store(v[g].lowHalf, v[g].highHalf, row: 0, column: column + 16 * g, width: min(columns, width - 16 * g), target)
            }
        }
    }

    /// One to three rows of C (the first three of a packed block at `a`, or
    /// its last three from a + 3) over up to 32 neighbouring columns, for
    /// a layer with two or three output channels (an RGB image's last
    /// layer) or seven to nine, where 6-row tiles would compute 6 or 12
    /// rows (see `DirectBand.inThrees`): 12 accumulators, B's 32 values
    /// from `source` + `offsets[kk]` bytes. Sums are carried between slices
    /// of depth as `tile` carries them. Out of line: inlined into
    /// `DirectBand.multiply` with the other tiles, its vector loads and the
    /// epilogue's min and max were left as calls.
    @inline(never)
    static func threeRows(k: Int, m: Int, depth: Range<Int>, carry: UnsafeMutablePointer<Float>, packed a: UnsafePointer<Float>,
                          column: Int, width: Int, epilogue: TileEpilogue, target: Target, source: UnsafeMutablePointer<Float>,
                          offsets: UnsafePointer<Int>) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c02 = SIMD8<Float>(), c03 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c12 = SIMD8<Float>(), c13 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c22 = SIMD8<Float>(), c23 = SIMD8<Float>()
        if depth.lowerBound > 0 {
            let sums = UnsafeRawPointer(carry)
            func load(_ i: Int) -> SIMD8<Float> { sums.loadUnaligned(fromByteOffset: 32 * i, as: SIMD8<Float>.self) }
            (c00, c01, c02, c03, c10, c11) = (load(0), load(1), load(2), load(3), load(4), load(5))
            (c12, c13, c20, c21, c22, c23) = (load(6), load(7), load(8), load(9), load(10), load(11))
        }
        for kk in depth {
            // The three weights held and one vector of B at a time: 16 registers (four of B spilled an accumulator).
            let b = UnsafeRawPointer(source) + offsets[kk], w = a + kk &* rows
            let s0 = SIMD8<Float>(repeating: w[0]), s1 = SIMD8<Float>(repeating: w[1]), s2 = SIMD8<Float>(repeating: w[2])
            var v = b.loadUnaligned(as: SIMD8<Float>.self)
            c00.addProduct(s0, v); c10.addProduct(s1, v); c20.addProduct(s2, v)
            v = b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            c01.addProduct(s0, v); c11.addProduct(s1, v); c21.addProduct(s2, v)
            v = b.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
            c02.addProduct(s0, v); c12.addProduct(s1, v); c22.addProduct(s2, v)
            v = b.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
            c03.addProduct(s0, v); c13.addProduct(s1, v); c23.addProduct(s2, v)
        }
        if depth.upperBound < k {
            let sums = UnsafeMutableRawPointer(carry)
            func save(_ c: SIMD8<Float>, _ i: Int) { sums.storeBytes(of: c, toByteOffset: 32 * i, as: SIMD8<Float>.self) }
            save(c00, 0); save(c01, 1); save(c02, 2); save(c03, 3); save(c10, 4); save(c11, 5)
            save(c12, 6); save(c13, 7); save(c20, 8); save(c21, 9); save(c22, 10); save(c23, 11)
            return
        }
        let (first, second) = (min(columns, width), width - columns)
        epilogue.store(c00, c01, row: 0, column: column, width: first, target)
        if second > 0 { epilogue.store(c02, c03, row: 0, column: column + columns, width: second, target) }
        guard m > 1 else { return }
        epilogue.store(c10, c11, row: 1, column: column, width: first, target)
        if second > 0 { epilogue.store(c12, c13, row: 1, column: column + columns, width: second, target) }
        guard m > 2 else { return }
        epilogue.store(c20, c21, row: 2, column: column, width: first, target)
        if second > 0 { epilogue.store(c22, c23, row: 2, column: column + columns, width: second, target) }
    }

    /// Work items for a pool: `jobs` pieces of the columns, each cut into
    /// ranges of row blocks when there are too few to keep every thread busy.
    public struct Split {
        public let items: Int
        let parts: Int, perPart: Int, blocks: Int

        public init(jobs: Int, blocks: Int, threads: Int) {
            // Each part copies its job's band again: as few parts as give every thread the same number of items.
            var parts = 1
            while jobs < 2 * threads && (jobs * parts) % threads != 0 && parts < blocks { parts += 1 }
            self.parts = parts
            perPart = (blocks + parts - 1) / parts
            self.blocks = blocks
            items = jobs * parts
        }

        /// The job of item i and the row blocks it computes (possibly none).
        public func item(_ i: Int) -> (job: Int, rowBlocks: Range<Int>) {
            let part = i % parts
            return (i / parts, min(blocks, part * perPart)..<min(blocks, (part + 1) * perPart))
        }
    }

    /// Where C[row, column] goes. Results are computed at `origin + row *
    /// rowStride + column * columnStride`, with `rowOffsets[row]` in place
    /// of `row * rowStride` when the rows are scattered pixels (a tile with
    /// output channels along its columns), or `columnOffsets[column]` in
    /// place of `column * columnStride` when the columns are (a transposed
    /// convolution's phase); a residual is read there. They are stored
    /// there too, or where `shuffle` moves them. A row or column whose
    /// offset is negative (`DirectBand.skip`) is not stored. Plain values
    /// only: a tile copies its target, and a closure here would be retained
    /// and released per tile.
    public struct Target {
        public var output: UnsafeMutablePointer<Float>
        public var origin: Int
        public var rowStride: Int
        public var columnStride: Int
        public var rowOffsets: UnsafePointer<Int>?
        public var columnOffsets: UnsafePointer<Int>?
        public var shuffle: PixelShuffle?

        public init(output: UnsafeMutablePointer<Float>, origin: Int, rowStride: Int, columnStride: Int = 1,
                    rowOffsets: UnsafePointer<Int>? = nil, columnOffsets: UnsafePointer<Int>? = nil, shuffle: PixelShuffle? = nil) {
            self.output = output
            self.origin = origin
            self.rowStride = rowStride
            self.columnStride = columnStride
            self.rowOffsets = rowOffsets
            self.columnOffsets = columnOffsets
            self.shuffle = shuffle
        }
    }

    /// A pixel shuffle by `factor` r done by the store: where position
    /// (b * channels + oc) * height * width + p of the unshuffled output
    /// [N, channels, height, width] lands in [N, channels / r², height * r, width * r].
    public struct PixelShuffle: Sendable {
        public let factor: Int, channels: Int, height: Int, width: Int

        public init(factor: Int, channels: Int, height: Int, width: Int) {
            (self.factor, self.channels, self.height, self.width) = (factor, channels, height, width)
        }

        @inline(__always)
        func callAsFunction(_ position: Int) -> Int {
            let r = factor, pixels = height * width
            let p = position % pixels, oc = (position / pixels) % channels, b = position / (pixels * channels)
            let cc = oc / (r * r), i = (oc / r) % r, j = oc % r
            return ((b * (channels / (r * r)) + cc) * height * r + (p / width) * r + i) * width * r + (p % width) * r + j
        }
    }

    /// Floats of partial sums one tile carries between slices of its depth.
    public static let carried = rows * columns

    /// Byte offsets of a tile's 6 values of A for one depth from where they
    /// start: neighbours in packed weights, anywhere in a band for pixels.
    public typealias Spread = (Int, Int, Int, Int, Int, Int)
    public static let packedSpread: Spread = (0, 4, 8, 12, 16, 20)

    /// Where a tile finds an operand's values for depth kk. Two types, not
    /// one with an optional table: the tile is specialized for each pair, so
    /// its loop tests neither (with a run-time choice it branched twice per
    /// depth, 3 of its 29 instructions). Plain values, not closures: two
    /// closures made the tile an out-of-line call per depth.
    public protocol Walk {
        func callAsFunction(_ kk: Int) -> UnsafeRawPointer
        /// The same walk for the AVX-512 loop.
        var c: strata_walk { get }
        /// The walk `bytes` further on at every depth.
        func shifted(_ bytes: Int) -> Self
    }

    /// At `base` plus kk * `step` bytes: packed weights, rows of a matrix.
    public struct Stride: Walk {
        public var base: UnsafeRawPointer, step: Int

        public init(_ base: UnsafeRawPointer, step: Int) { (self.base, self.step) = (base, step) }

        @inline(__always)
        public func callAsFunction(_ kk: Int) -> UnsafeRawPointer { base + kk &* step }

        public var c: strata_walk { strata_walk(base: base.assumingMemoryBound(to: CChar.self), step: step, offsets: nil) }

        public func shifted(_ bytes: Int) -> Stride { Stride(base + bytes, step: step) }
    }

    /// At `base` plus `offsets[kk]` bytes: the taps of a band.
    public struct Table: Walk {
        public var base: UnsafeRawPointer, offsets: UnsafePointer<Int>

        public init(_ base: UnsafeRawPointer, offsets: UnsafePointer<Int>) { (self.base, self.offsets) = (base, offsets) }

        @inline(__always)
        public func callAsFunction(_ kk: Int) -> UnsafeRawPointer { base + offsets[kk] }

        public var c: strata_walk { strata_walk(base: base.assumingMemoryBound(to: CChar.self), step: 0, offsets: offsets) }

        public func shifted(_ bytes: Int) -> Table { Table(base + bytes, offsets: offsets) }
    }

    /// Whether tiles run their depth loop on AVX-512 (`strata_avx512_tile`):
    /// where the processor has it, unless STRATA_NO_AVX512 is set (to time
    /// or test the AVX2 loop on such a machine).
    public static let avx512 = strata_avx512_available() != 0 && ProcessInfo.processInfo.environment["STRATA_NO_AVX512"] == nil

    /// `avx512` as the C loops built in both widths take it (`strata_gemm`).
    static let wide: Int32 = avx512 ? 1 : 0

    /// Groups of 16 columns a tile computes at once: two on AVX-512 (see `Pair`).
    public static let groups = avx512 ? 2 : 1

    /// Six rows of 16 sums, as a tile stores them.
    typealias Sums = (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)

    /// 16 more columns a tile computes with its own: B's values `offset`
    /// bytes on from the tile's, C's at `column` of `target`. On AVX-512
    /// the two share each load of A (two groups of sums fill its registers
    /// as one does AVX2's); elsewhere they are two tiles. With a carry, the
    /// second group's sums are carried `carried` floats after the first's.
    public struct Pair {
        public var offset: Int, column: Int, width: Int, target: Target

        public init(offset: Int, column: Int, width: Int, target: Target) {
            (self.offset, self.column, self.width, self.target) = (offset, column, width, target)
        }
    }

    /// One 6 x 16 tile of C: rows `rows` (at most 6), columns
    /// `column..<column + width`; for depth kk, A's 6 values at `spread`
    /// from `rowsAt(kk)` and B's 16 at `columnsAt(kk)`. Over a slice
    /// `depth` of 0..<k, the sums start from `carry` unless the slice is the
    /// first, and are left there unless it is the last; only the last
    /// applies the epilogue and stores.
    @inline(__always)
    public static func tile(rows: Range<Int>, k: Int, depth: Range<Int>? = nil, carry: UnsafeMutablePointer<Float>? = nil,
                            column: Int, width: Int, epilogue: TileEpilogue, target: Target,
                            rowsAt: some Walk, spread: Spread = packedSpread, columnsAt: some Walk, pair: Pair? = nil) {
        let depth = depth ?? 0..<k
        // The AVX-512 loop reads 16 columns of each group (a pair's second may be narrower: bands and packed
        // blocks have room past their last column).
        if avx512 && width > 8 {
            return wide(rows: rows, k: k, depth: depth, carry: carry, column: column, width: width, epilogue: epilogue,
                        target: target, rowsAt: rowsAt, spread: spread, columnsAt: columnsAt, pair: pair)
        }
        // One call site, so that the AVX2 tile is inlined (with two it stayed a call per tile: ResNet-20 5% slower).
        for group in 0..<(pair == nil ? 1 : 2) {
            let second = group == 1 ? pair : nil
            narrow(rows: rows, k: k, depth: depth, carry: second == nil ? carry : carry.map { $0 + carried },
                   column: second?.column ?? column, width: second?.width ?? width, epilogue: epilogue, target: second?.target ?? target,
                   rowsAt: rowsAt, spread: spread, columnsAt: columnsAt.shifted(second?.offset ?? 0))
        }
    }

    /// C = A B with no epilogue, for Winograd's products: A's `m` rows at
    /// `a`, `lda` floats apart, k values each; B's `n` columns packed in
    /// blocks of 16 as a linear layer's weights; C's rows `ldc` floats
    /// apart, with room for whole blocks of 16 (all 16 may be stored). In
    /// C, one call per block (on AVX-512 per two, `strata_gemm`): with
    /// a depth of 64, a call and a pass through the epilogue per tile cost a
    /// sixth of EDSR's time on AVX-512, and ResNet-20 6% on AVX2.
    public static func product(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, n: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int) {
        let blocks = (n + columns - 1) / columns
        for block in Swift.stride(from: 0, to: blocks, by: groups) {
            let next = groups == 2 && block + 1 < blocks ? 4 * k * columns : 0
            strata_gemm(wide, m, k, a, lda, b + block * k * columns, next, c + block * columns, ldc)
        }
    }

    /// `tile` on AVX-512 (`strata_avx512_tile`), with its pair if any.
    @inline(__always)
    static func wide(rows: Range<Int>, k: Int, depth: Range<Int>, carry: UnsafeMutablePointer<Float>?, column: Int, width: Int,
                     epilogue: TileEpilogue, target: Target, rowsAt: some Walk, spread: Spread, columnsAt: some Walk, pair: Pair?) {
        let (row, height) = (rows.lowerBound, rows.count), count = pair == nil ? carried : 2 * carried
        var sums: (Sums, Sums) = ((SIMD16(), SIMD16(), SIMD16(), SIMD16(), SIMD16(), SIMD16()),
                                  (SIMD16(), SIMD16(), SIMD16(), SIMD16(), SIMD16(), SIMD16()))
        let done = withUnsafeMutableBytes(of: &sums) { raw in
            // The carry is there only for a depth in slices.
            let local = raw.baseAddress!.assumingMemoryBound(to: Float.self), carry = depth.count < k ? carry : nil
            let into = carry ?? local
            if carry != nil && depth.lowerBound == 0 { into.update(repeating: 0, count: count) }
            withUnsafeBytes(of: spread) { s in
                strata_avx512_tile(height > 4 ? 6 : 4, depth.lowerBound, depth.upperBound, rowsAt.c,
                                   s.baseAddress!.assumingMemoryBound(to: Int.self), columnsAt.c, pair?.offset ?? 0, into)
            }
            guard let carry else { return true }
            if depth.upperBound < k { return false }
            local.update(from: carry, count: count)
            return true
        }
        guard done else { return }
        finish(&sums.0, height: height, row: row, column: column, width: width, epilogue: epilogue, target: target)
        if let pair { finish(&sums.1, height: height, row: row, column: pair.column, width: pair.width, epilogue: epilogue, target: pair.target) }
    }

    /// `tile` on AVX2: 6 x 16 in 12 accumulators of 8 lanes.
    @inline(__always)
    static func narrow(rows: Range<Int>, k: Int, depth: Range<Int>, carry: UnsafeMutablePointer<Float>?, column: Int, width: Int,
                       epilogue: TileEpilogue, target: Target, rowsAt: some Walk, spread: Spread, columnsAt: some Walk) {
        let (row, height) = (rows.lowerBound, rows.count)
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        if let carry, depth.lowerBound > 0 {
            let sums = UnsafeRawPointer(carry)
            func load(_ i: Int) -> SIMD8<Float> { sums.loadUnaligned(fromByteOffset: 32 * i, as: SIMD8<Float>.self) }
            (c00, c01, c10, c11, c20, c21) = (load(0), load(1), load(2), load(3), load(4), load(5))
            (c30, c31, c40, c41, c50, c51) = (load(6), load(7), load(8), load(9), load(10), load(11))
        }
        /// Depth kk; rows 4 and 5 only when `tall`, columns 8 to 15 only when `wide`, constants in each of the loops below.
        @inline(__always) func accumulate(_ kk: Int, tall: Bool, wide: Bool) {
            let b = columnsAt(kk), x = rowsAt(kk)
            let lo = b.loadUnaligned(as: SIMD8<Float>.self)
            let hi = wide ? b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) : SIMD8<Float>()
            var s = SIMD8<Float>(repeating: x.loadUnaligned(fromByteOffset: spread.0, as: Float.self))
            c00.addProduct(s, lo); if wide { c01.addProduct(s, hi) }
            s = SIMD8<Float>(repeating: x.loadUnaligned(fromByteOffset: spread.1, as: Float.self))
            c10.addProduct(s, lo); if wide { c11.addProduct(s, hi) }
            s = SIMD8<Float>(repeating: x.loadUnaligned(fromByteOffset: spread.2, as: Float.self))
            c20.addProduct(s, lo); if wide { c21.addProduct(s, hi) }
            s = SIMD8<Float>(repeating: x.loadUnaligned(fromByteOffset: spread.3, as: Float.self))
            c30.addProduct(s, lo); if wide { c31.addProduct(s, hi) }
            guard tall else { return }
            s = SIMD8<Float>(repeating: x.loadUnaligned(fromByteOffset: spread.4, as: Float.self))
            c40.addProduct(s, lo); if wide { c41.addProduct(s, hi) }
            s = SIMD8<Float>(repeating: x.loadUnaligned(fromByteOffset: spread.5, as: Float.self))
            c50.addProduct(s, lo); if wide { c51.addProduct(s, hi) }
        }
        // A block of up to four rows (the last of 16 or 64 output channels: 6 + 6 + 4; see `rowsOf`) computes four, not six:
        // eight sums still keep both FMA pipes busy. Eight columns or fewer (a linear layer's last 4 of 20 outputs)
        // compute eight: half the multiplies, as many loads of A.
        switch (height > 4, width > 8) {
        case (true, true): for kk in depth { accumulate(kk, tall: true, wide: true) }
        case (false, true): for kk in depth { accumulate(kk, tall: false, wide: true) }
        case (true, false): for kk in depth { accumulate(kk, tall: true, wide: false) }
        case (false, false): for kk in depth { accumulate(kk, tall: false, wide: false) }
        }
        if let carry, depth.upperBound < k {
            let sums = UnsafeMutableRawPointer(carry)
            func save(_ c: SIMD8<Float>, _ i: Int) { sums.storeBytes(of: c, toByteOffset: 32 * i, as: SIMD8<Float>.self) }
            save(c00, 0); save(c01, 1); save(c10, 2); save(c11, 3); save(c20, 4); save(c21, 5)
            save(c30, 6); save(c31, 7); save(c40, 8); save(c41, 9); save(c50, 10); save(c51, 11)
            return
        }
        if epilogue.storesRows(target, width: width) {
            var sums: Sums = (SIMD16(lowHalf: c00, highHalf: c01), SIMD16(lowHalf: c10, highHalf: c11), SIMD16(lowHalf: c20, highHalf: c21),
                              SIMD16(lowHalf: c30, highHalf: c31), SIMD16(lowHalf: c40, highHalf: c41), SIMD16(lowHalf: c50, highHalf: c51))
            return finish(&sums, height: height, row: row, column: column, width: width, epilogue: epilogue, target: target)
        }
        // Row by row from the registers (through memory, the AVX2 path was 4-8% slower).
        epilogue.store(c00, c01, row: row, column: column, width: width, target)
        if height > 1 { epilogue.store(c10, c11, row: row + 1, column: column, width: width, target) }
        if height > 2 { epilogue.store(c20, c21, row: row + 2, column: column, width: width, target) }
        if height > 3 { epilogue.store(c30, c31, row: row + 3, column: column, width: width, target) }
        if height > 4 { epilogue.store(c40, c41, row: row + 4, column: column, width: width, target) }
        if height > 5 { epilogue.store(c50, c51, row: row + 5, column: column, width: width, target) }
    }

    /// A tile's last step: its `height` rows of sums through the epilogue to the target.
    @inline(__always)
    static func finish(_ sums: inout Sums, height: Int, row: Int, column: Int, width: Int, epilogue: TileEpilogue, target: Target) {
        withUnsafeMutableBytes(of: &sums) { raw in
            let v = raw.baseAddress!.assumingMemoryBound(to: SIMD16<Float>.self)
            if epilogue.storesRows(target, width: width) {
                return epilogue.storeRows(v, count: height, row: row, column: column, target)
            }
            for i in 0..<height { epilogue.store(v[i].lowHalf, v[i].highHalf, row: row + i, column: column, width: width, target) }
        }
    }
}

/// What happens to an accumulated value on its way to memory: each step
/// in order, then the store. A row of C is an output channel, so per-row
/// values (bias, folded batch norm, prelu slopes) are per channel.
public struct TileEpilogue: @unchecked Sendable {
    public enum Step: @unchecked Sendable {
        case function(PointwiseFunction)
        case channelScale(UnsafePointer<Float>)
        case channelShift(UnsafePointer<Float>)
        /// One slope per row (output channel).
        case prelu(UnsafePointer<Float>)
        case multiply(Float)
        /// Adds the value at the same computed position of another tensor: a residual.
        case add(UnsafePointer<Float>)
    }

    public var steps: [Step]
    /// Output channels run along the columns of C instead of its rows (the
    /// weights are B: a matrix-vector product, a linear layer, a
    /// convolution with channels in lanes): per-channel values are then
    /// read 16 at a time, from the tile's first column on.
    public var alongColumns: Bool
    /// The row of C that tile row 0 is, for per-row values (moved, not copied, per job).
    var firstRow = 0

    /// The steps when they are `Common`'s.
    let common: Common?

    public init(steps: [Step] = [], alongColumns: Bool = false) {
        self.steps = steps
        self.alongColumns = alongColumns
        common = Common(steps)
    }

    /// How most convolutions end: a per-channel shift (a bias, a folded
    /// batch norm), then maybe a residual, then maybe a function.
    struct Common {
        let shift: UnsafePointer<Float>, residual: UnsafePointer<Float>?, function: PointwiseFunction?

        init?(_ steps: [Step]) {
            guard case .channelShift(let shift)? = steps.first else { return nil }
            var rest = steps.dropFirst()
            if case .add(let other)? = rest.first { (residual, rest) = (other, rest.dropFirst()) } else { residual = nil }
            if case .function(let f)? = rest.first { (function, rest) = (f, rest.dropFirst()) } else { function = nil }
            guard rest.isEmpty else { return nil }
            self.shift = shift
        }

        /// The function for the C loops' epilogues (`apply` in TileLoops.inc), if they have it.
        var cFunction: strata_function? {
            switch function {
            case nil: return strata_function(kind: Int32(STRATA_NONE), slope: 0)
            case .relu?: return strata_function(kind: Int32(STRATA_RELU), slope: 0)
            case .tanh?: return strata_function(kind: Int32(STRATA_TANH), slope: 0)
            case .leakyRelu(let slope)?: return strata_function(kind: Int32(STRATA_LEAKY_RELU), slope: slope)
            default: return nil
            }
        }

        /// Without a residual, whether relu follows the shift; nil with a residual or another function.
        var reluWithoutResidual: Bool? {
            guard residual == nil else { return nil }
            switch function {
            case nil: return false
            case .relu?: return true
            default: return nil
            }
        }
    }

    /// The tensor a residual step adds, if any.
    var residual: UnsafePointer<Float>? {
        for case .add(let other) in steps { return other }
        return nil
    }

    /// The epilogue of the block of rows starting at `row`: per-row values start there.
    public func rows(from row: Int) -> TileEpilogue {
        var e = self
        e.firstRow += row
        return e
    }

    /// Applies the epilogue to 16 values of one row (fewer are used when
    /// `width` < 16); value j sits at computed position `position(j)`.
    @inline(__always)
    public func apply(_ value: SIMD16<Float>, row: Int, column: Int = 0, width: Int, contiguousAt base: Int?,
                      position: (Int) -> Int) -> SIMD16<Float> {
        var v = value
        apply(&v, count: 1, row: row, column: column, width: width, contiguousAt: base, rowStride: 0, position: position)
        return v
    }

    /// Applies the epilogue to `count` rows of 16 values from `row` on,
    /// each step decided once for them all. Rows i > 0 are full and side by
    /// side, `rowStride` apart from the first: value j of row i sits at
    /// `base + i * rowStride + j` (a residual is read there).
    @inline(__always)
    func apply(_ v: UnsafeMutablePointer<SIMD16<Float>>, count: Int, row: Int, column: Int, width: Int, contiguousAt base: Int?,
               rowStride: Int, position: (Int) -> Int) {
        // The per-channel values of row i, or of these 16 columns (FusedEpilogue pads its arrays for that).
        func channel(_ values: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
            alongColumns ? UnsafeRawPointer(values + firstRow + column).loadUnaligned(as: SIMD16<Float>.self)
                : SIMD16(repeating: values[firstRow + row + i])
        }
        for step in steps {
            switch step {
            case .function(let f): for i in 0..<count { v[i] = f.apply(v[i]) }
            case .channelScale(let s): for i in 0..<count { v[i] *= channel(s, i) }
            case .channelShift(let s): for i in 0..<count { v[i] += channel(s, i) }
            case .prelu(let slopes):
                for i in 0..<count { v[i] = pointwiseMax(v[i], SIMD16<Float>()) + channel(slopes, i) * pointwiseMin(v[i], SIMD16<Float>()) }
            case .multiply(let f): for i in 0..<count { v[i] *= f }
            case .add(let other):
                if let base, width == 16 {
                    for i in 0..<count { v[i] += UnsafeRawPointer(other + base + i * rowStride).loadUnaligned(as: SIMD16<Float>.self) }
                } else {
                    // Gathered through memory: inserting lanes one by one compiles to a slow shuffle each.
                    var gathered = SIMD16<Float>()
                    withUnsafeMutableBytes(of: &gathered) { raw in
                        let g = raw.baseAddress!.assumingMemoryBound(to: Float.self)
                        for j in 0..<width {
                            let p = position(j)
                            if p >= 0 { g[j] = other[p] }
                        }
                    }
                    v[0] += gathered
                }
            }
        }
    }

    /// Whether a tile's rows at `target` are stored whole by `storeRows`:
    /// 16 columns side by side, nowhere else moved; rows of scattered
    /// pixels too (channels in blocks of 16) when the epilogue is `Common`.
    @inline(__always)
    func storesRows(_ t: PackedGEMM.Target, width: Int) -> Bool {
        width == 16 && t.columnOffsets == nil && t.columnStride == 1 && t.shuffle == nil
            && (t.rowOffsets == nil || alongColumns && common != nil)
    }

    /// Stores `count` full rows of a tile from `row` and `column` (see
    /// `storesRows`): one call per tile, each step of the epilogue decided
    /// once (a call per row was a fifth of SRCNN, whose layers have 64 or 81 taps).
    @inline(never)
    func storeRows(_ v: UnsafeMutablePointer<SIMD16<Float>>, count: Int, row: Int, column: Int, _ t: PackedGEMM.Target) {
        if let offsets = t.rowOffsets, let common {
            // Each row a pixel's 16 channels, its residual's where it is stored: a call per row cost the VAE
            // encoder's first layer (16 taps) a fifth of its time.
            let shift = UnsafeRawPointer(common.shift + firstRow + column).loadUnaligned(as: SIMD16<Float>.self)
            for i in 0..<count {
                let at = t.origin + offsets[row + i] + column
                var y = v[i] + shift
                if let other = common.residual { y += UnsafeRawPointer(other + at).loadUnaligned(as: SIMD16<Float>.self) }
                switch common.function {
                case nil: break
                case .relu?: y = VectorMath.relu(y)
                case let f?: y = f.apply(y)
                }
                UnsafeMutableRawPointer(t.output + at).storeBytes(of: y, as: SIMD16<Float>.self)
            }
            return
        }
        let base = t.origin + row * t.rowStride + column
        // The common epilogues with relu, tanh or no function are loops of their own, the value kept in
        // registers: the loop over steps, each a loop over the rows in memory, cost a 16-channel 3x3
        // layer 4% of its time.
        if let common, !alongColumns {
            let shift = common.shift + firstRow + row
            /// Each row i through `body(value, position, i)`, stored.
            @inline(__always) func rows(_ body: (SIMD16<Float>, Int, Int) -> SIMD16<Float>) {
                for i in 0..<count {
                    let at = base &+ i &* t.rowStride
                    UnsafeMutableRawPointer(t.output + at).storeBytes(of: body(v[i], at, i), as: SIMD16<Float>.self)
                }
            }
            // Inlined by hand: left to the optimizer, `shifted` stayed a call per row.
            @inline(__always) func shifted(_ y: SIMD16<Float>, _ i: Int) -> SIMD16<Float> { y + SIMD16(repeating: shift[i]) }
            @inline(__always) func added(_ y: SIMD16<Float>, _ at: Int, _ i: Int, _ other: UnsafePointer<Float>) -> SIMD16<Float> {
                shifted(y, i) + UnsafeRawPointer(other + at).loadUnaligned(as: SIMD16<Float>.self)
            }
            switch (common.residual, common.function) {
            case (nil, nil): return rows { y, _, i in shifted(y, i) }
            case (nil, .relu?): return rows { y, _, i in VectorMath.relu(shifted(y, i)) }
            case (nil, .tanh?): return rows { y, _, i in VectorMath.tanh(shifted(y, i)) }
            case (let other?, nil): return rows { y, at, i in added(y, at, i, other) }
            case (let other?, .relu?): return rows { y, at, i in VectorMath.relu(added(y, at, i, other)) }
            default: break
            }
        }
        apply(v, count: count, row: row, column: column, width: 16, contiguousAt: base, rowStride: t.rowStride) { base + $0 }
        for i in 0..<count { UnsafeMutableRawPointer(t.output + base + i * t.rowStride).storeBytes(of: v[i], as: SIMD16<Float>.self) }
    }

    /// Out of line: inlined into the tiles specialized per walk type, its
    /// vector stores, min, max and activation were left as calls.
    @inline(never)
    func store(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, row: Int, column: Int, width: Int, _ t: PackedGEMM.Target) {
        if let rowOffsets = t.rowOffsets {
            // One pixel's output channels, a plane apart.
            let base = t.origin + rowOffsets[row] + column * t.columnStride, stride = t.columnStride
            var v = SIMD16<Float>(lowHalf: lo, highHalf: hi)
            if alongColumns, let common, let relu = common.reluWithoutResidual {
                // Without the loop over steps: a tenth of the VAE encoder's first layer (16 taps).
                v += UnsafeRawPointer(common.shift + firstRow + column).loadUnaligned(as: SIMD16<Float>.self)
                if relu { v = VectorMath.relu(v) }
            } else {
                v = apply(v, row: row, column: column, width: width, contiguousAt: nil) { base + $0 * stride }
            }
            if width == 16 && t.shuffle == nil {
                let p = t.output + base
                // Channels in blocks of 16 (`ChannelBlocks`): side by side.
                if stride == 1 { return UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }
                // Lanes taken by constant index go straight from the register to memory (through the stack: twice the instructions).
                for j in 0..<16 { p[j &* stride] = v[j] }
                return
            }
            withUnsafeBytes(of: v) { raw in
                let values = raw.baseAddress!.assumingMemoryBound(to: Float.self), output = t.output
                if let shuffle = t.shuffle {
                    for j in 0..<width { output[shuffle(base &+ j &* stride)] = values[j] }
                } else {
                    var p = output + base
                    for j in 0..<width {
                        p.pointee = values[j]
                        p += stride
                    }
                }
            }
            return
        }
        let rowStart = t.origin + row * t.rowStride
        let contiguous = t.columnOffsets == nil && t.columnStride == 1 && width == 16
        // A local function, not a closure value: a closure picked by a branch is boxed on the heap per call.
        func position(_ j: Int) -> Int {
            if let offsets = t.columnOffsets { return rowStart + offsets[column + j] }
            return rowStart + (column + j) * t.columnStride
        }
        let v = apply(SIMD16<Float>(lowHalf: lo, highHalf: hi), row: row, column: column, width: width,
                      contiguousAt: contiguous ? position(0) : nil, position: position)
        if contiguous && t.shuffle == nil {
            UnsafeMutableRawPointer(t.output + position(0)).storeBytes(of: v, as: SIMD16<Float>.self)
            return
        }
        if let offsets = t.columnOffsets, t.shuffle == nil, width == 16 {
            // A transposed layer's phase, its columns every other output column: lanes stored from the register.
            for j in 0..<16 {
                let p = rowStart + offsets[column + j]
                if p >= 0 { t.output[p] = v[j] }
            }
            return
        }
        withUnsafeBytes(of: v) { raw in
            let values = raw.baseAddress!.assumingMemoryBound(to: Float.self)
            if contiguous, let shuffle = t.shuffle, position(0) % shuffle.width + 15 < shuffle.width {
                // One position for the 16: they stay in one output row, `factor` apart.
                let base = t.output + shuffle(position(0))
                for j in 0..<16 { base[j * shuffle.factor] = values[j] }
                return
            }
            if t.columnOffsets == nil && t.columnStride == 1 && t.shuffle == nil && width >= 8 {
                // A row's last, narrower strip (28 = 16 + 12): 8 at once, then the rest.
                let base = t.output + position(0)
                UnsafeMutableRawPointer(base).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self)
                for j in 8..<width { base[j] = values[j] }
                return
            }
            for j in 0..<width {
                let p = position(j)
                guard p >= 0 else { continue }
                t.output[t.shuffle.map { $0(p) } ?? p] = values[j]
            }
        }
    }
}
