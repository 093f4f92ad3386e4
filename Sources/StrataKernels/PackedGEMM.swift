/// The fast path of convolutions and linear layers: C = A * B for
/// A = weights [M x K] (row-major, as stored), B = the layer's input
/// rearranged into panels [K x P] a few dozen columns at a time (never a
/// whole im2col matrix), with the epilogue applied to each 4 x 16 register
/// tile before it is stored. Products accumulate in Float, in SIMD8 lanes.
public enum PackedGEMM {
    public static let rows = 4
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
    }

    /// Computes rows `0..<m` of C for the `p` columns of one panel.
    /// `pack(k, column, count, panel)` fills panel[k*stride + j] for j in 0..<count;
    /// `place(row, column)` gives the position of C[row, column] in the
    /// layer's output as computed (where a residual is read), `store` where
    /// it is written (different when the store shuffles).
    @inline(__always)
    public static func multiply(m: Int, k: Int, columns p: Int, weights a: UnsafePointer<Float>,
                                panel: UnsafeMutablePointer<Float>, stride: Int, epilogue: Epilogue,
                                output: UnsafeMutablePointer<Float>, place: (Int, Int) -> Int, store: (Int, Int) -> Int) {
        var row = 0
        while row < m {
            let height = min(rows, m - row)
            var column = 0
            while column < p {
                var acc = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                           SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                let a0 = a + row * k
                let a1 = a0 + (height > 1 ? k : 0), a2 = a0 + (height > 2 ? 2 * k : 0), a3 = a0 + (height > 3 ? 3 * k : 0)
                var b = UnsafeRawPointer(panel + column)
                for kk in 0..<k {
                    let lo = b.loadUnaligned(as: SIMD8<Float>.self)
                    let hi = b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    let w0 = a0[kk], w1 = a1[kk], w2 = a2[kk], w3 = a3[kk]
                    acc.0 += w0 * lo; acc.1 += w0 * hi
                    acc.2 += w1 * lo; acc.3 += w1 * hi
                    acc.4 += w2 * lo; acc.5 += w2 * hi
                    acc.6 += w3 * lo; acc.7 += w3 * hi
                    b += stride * 4
                }
                let width = min(columns, p - column)
                let tile = [(acc.0, acc.1), (acc.2, acc.3), (acc.4, acc.5), (acc.6, acc.7)]
                for r in 0..<height {
                    finish(tile[r].0, tile[r].1, row: row + r, column: column, width: width, epilogue: epilogue, output: output,
                           place: place, store: store)
                }
                column += columns
            }
            row += rows
        }
    }

    @inline(__always)
    static func finish(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, row: Int, column: Int, width: Int, epilogue: Epilogue,
                       output: UnsafeMutablePointer<Float>, place: (Int, Int) -> Int, store: (Int, Int) -> Int) {
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
                for j in 0..<width { v[j] += other[place(row, column + j)] }
            case .function(let f):
                for j in 0..<width { v[j] = f(v[j]) }
            }
        }
        for j in 0..<width { output[store(row, column + j)] = v[j] }
    }
}
