/// The fast path of convolutions and linear layers: C = A * B for
/// A = weights [M x K] (row-major, as stored), B = the layer's input
/// rearranged into panels [K x P] a few dozen columns at a time (never a
/// whole im2col matrix), with the epilogue applied to each 6 x 16 register
/// tile before it is stored: 12 accumulators of 8 lanes, two panel loads and
/// one broadcast fill AVX2's 16 vector registers. Products accumulate in
/// Float with fused multiply-adds.
public enum PackedGEMM {
    public static let rows = 6
    public static let columns = 16
    /// Columns packed at once: the panel stays in cache while every row block uses it.
    public static let panelColumns = 128

    /// What happens to an accumulated value on its way to memory, in order:
    /// y = acc * scale[m] + shift[m], then each step, then the store.
    public struct Epilogue: @unchecked Sendable {
        public enum Step: @unchecked Sendable {
            case relu
            case leakyRelu(Float)
            /// One slope per row (output channel).
            case prelu(UnsafePointer<Float>)
            case multiply(Float)
            /// Adds the value at the same output position of another tensor.
            case add(UnsafePointer<Float>)
            /// Any other pointwise function, lane by lane.
            case function((Float) -> Float)
        }

        public var scale: UnsafePointer<Float>?
        public var shift: UnsafePointer<Float>?
        public var steps: [Step]

        public init(scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?, steps: [Step]) {
            self.scale = scale
            self.shift = shift
            self.steps = steps
        }

        /// The epilogue for a block of rows starting at `row`: per-row
        /// values (scale, shift, prelu slopes) start there.
        public func rows(from row: Int) -> Epilogue {
            Epilogue(scale: scale.map { $0 + row }, shift: shift.map { $0 + row }, steps: steps.map { s in
                if case .prelu(let slopes) = s { return .prelu(slopes + row) }
                return s
            })
        }
    }

    /// Where element (k, column) of a panel lives: panels are stored as
    /// blocks of 16 columns, each k x 16 contiguous, so the micro-kernel
    /// streams memory in order.
    @inline(__always)
    public static func offset(k kk: Int, column j: Int, depth k: Int) -> Int {
        (j >> 4) * k * columns + kk * columns + (j & 15)
    }

    /// Computes rows `0..<m` of C for the `p` columns of one panel laid out
    /// as `offset` says.
    /// `place(row, column)` gives the position of C[row, column] in the
    /// layer's output as computed (where a residual is read), `store` where
    /// it is written (different when the store shuffles).
    @inline(__always)
    public static func multiply(m: Int, k: Int, columns p: Int, weights a: UnsafePointer<Float>,
                                panel: UnsafeMutablePointer<Float>, stride: Int, epilogue: Epilogue,
                                output: UnsafeMutablePointer<Float>, contiguous: Bool = false,
                                place: (Int, Int) -> Int, store: (Int, Int) -> Int) {
        var row = 0
        while row < m {
            let height = min(rows, m - row)
            // Rows past the end repeat the last real row; their results are not stored.
            let last = height - 1
            let w0 = a + row * k, w1 = a + (row + min(1, last)) * k, w2 = a + (row + min(2, last)) * k
            let w3 = a + (row + min(3, last)) * k, w4 = a + (row + min(4, last)) * k, w5 = a + (row + min(5, last)) * k
            var column = 0
            while column < p {
                var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
                var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
                var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
                var b = UnsafeRawPointer(panel + column * k)
                for kk in 0..<k {
                    let lo = b.loadUnaligned(as: SIMD8<Float>.self)
                    let hi = b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    var x = SIMD8<Float>(repeating: w0[kk])
                    c00.addProduct(x, lo); c01.addProduct(x, hi)
                    x = SIMD8<Float>(repeating: w1[kk])
                    c10.addProduct(x, lo); c11.addProduct(x, hi)
                    x = SIMD8<Float>(repeating: w2[kk])
                    c20.addProduct(x, lo); c21.addProduct(x, hi)
                    x = SIMD8<Float>(repeating: w3[kk])
                    c30.addProduct(x, lo); c31.addProduct(x, hi)
                    x = SIMD8<Float>(repeating: w4[kk])
                    c40.addProduct(x, lo); c41.addProduct(x, hi)
                    x = SIMD8<Float>(repeating: w5[kk])
                    c50.addProduct(x, lo); c51.addProduct(x, hi)
                    b += columns * 4
                }
                let width = min(columns, p - column)
                func emit(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, _ r: Int) {
                    guard r < height else { return }
                    finish(lo, hi, row: row + r, column: column, width: width, epilogue: epilogue, output: output,
                           contiguous: contiguous, place: place, store: store)
                }
                emit(c00, c01, 0)
                emit(c10, c11, 1)
                emit(c20, c21, 2)
                emit(c30, c31, 3)
                emit(c40, c41, 4)
                emit(c50, c51, 5)
                column += columns
            }
            row += rows
        }
    }

    @inline(__always)
    static func finish(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, row: Int, column: Int, width: Int, epilogue: Epilogue,
                       output: UnsafeMutablePointer<Float>, contiguous: Bool, place: (Int, Int) -> Int,
                       store: (Int, Int) -> Int) {
        // A full tile row of an unshuffled store is 16 neighbouring outputs: one vector.
        let vector = contiguous && width == columns
        let base = vector ? store(row, column) : 0
        var v = SIMD16<Float>(lowHalf: lo, highHalf: hi)
        if let s = epilogue.scale { v *= s[row] }
        if let t = epilogue.shift { v += t[row] }
        for step in epilogue.steps {
            switch step {
            case .relu: v.replace(with: 0, where: v .< 0)
            case .leakyRelu(let slope): v.replace(with: v * slope, where: v .< 0)
            case .prelu(let slopes): v.replace(with: v * slopes[row], where: v .< 0)
            case .multiply(let f): v *= f
            case .add(let other):
                if vector {
                    v += UnsafeRawPointer(other + base).loadUnaligned(as: SIMD16<Float>.self)
                } else {
                    for j in 0..<width { v[j] += other[place(row, column + j)] }
                }
            case .function(let f):
                for j in 0..<width { v[j] = f(v[j]) }
            }
        }
        if vector {
            UnsafeMutableRawPointer(output + base).storeBytes(of: v, as: SIMD16<Float>.self)
        } else {
            for j in 0..<width { output[store(row, column + j)] = v[j] }
        }
    }
}
