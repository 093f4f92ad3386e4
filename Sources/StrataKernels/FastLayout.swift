/// Padding prepared for one input shape [N, C, H, W], a plane per job:
/// each output row is its source row copied whole, then its few edge
/// values (zeros, mirrored or repeated). Tested against `Layout.pad` in
/// FastKernelTests.
public final class PadKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let top: Int, left: Int
    let mode: Layout.PadMode
    /// The source column of each padded column left and right of the copy; nil for a zero.
    let leftSources: [Int?], rightSources: [Int?]

    public init(input: [Int], top: Int, bottom: Int, left: Int, right: Int, mode: Layout.PadMode) {
        let (h, w) = (input[2], input[3])
        inputShape = input
        outputShape = [input[0], input[1], h + top + bottom, w + left + right]
        (self.top, self.left, self.mode) = (top, left, mode)
        leftSources = (0..<left).map { mode.source($0 - left, w) }
        rightSources = (0..<right).map { mode.source(w + $0, w) }
    }

    public var scratchFloats: Int { 0 }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (h, w) = (inputShape[2], inputShape[3]), (ho, wo) = (outputShape[2], outputShape[3])
        pool.parallelFor(inputShape[0] * inputShape[1]) { plane, _ in
            for oy in 0..<ho {
                let row = output + (plane * ho + oy) * wo
                guard let iy = self.mode.source(oy - self.top, h) else {
                    row.update(repeating: 0, count: wo)
                    continue
                }
                let source = x + (plane * h + iy) * w
                (row + self.left).update(from: source, count: w)
                for (j, s) in self.leftSources.enumerated() { row[j] = s.map { source[$0] } ?? 0 }
                for (j, s) in self.rightSources.enumerated() { row[self.left + w + j] = s.map { source[$0] } ?? 0 }
            }
        }
    }
}

/// Nearest or bilinear upsampling prepared for one input shape [N, C, H,
/// W], a plane per job, with each output row's and column's source indices
/// and weights computed once (`Layout.sample`); nearest copies an output
/// row for each repeat of its source row. Tested against `Layout.upsample`
/// in FastKernelTests.
public final class UpsampleKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let bilinear: Bool
    /// Per output row and per output column: the two sources and the second's weight.
    let rows: [(Int, Int, Float)], columns: [(Int, Int, Float)]

    public init(input: [Int], scale: (Int, Int), bilinear: Bool, alignCorners: Bool) {
        let (h, w) = (input[2], input[3]), (ho, wo) = (h * scale.0, w * scale.1)
        inputShape = input
        outputShape = [input[0], input[1], ho, wo]
        self.bilinear = bilinear
        func table(_ size: Int, _ out: Int, _ s: Int) -> [(Int, Int, Float)] {
            (0..<out).map { o in
                let (a, b, f) = Layout.sample(o, size, out, s, bilinear: bilinear, alignCorners: alignCorners)
                return (a, b, Float(f))
            }
        }
        rows = table(h, ho, scale.0)
        columns = table(w, wo, scale.1)
    }

    public var scratchFloats: Int { 0 }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (h, w) = (inputShape[2], inputShape[3]), (ho, wo) = (outputShape[2], outputShape[3])
        pool.parallelFor(inputShape[0] * inputShape[1]) { plane, _ in
            self.columns.withUnsafeBufferPointer { columns in
                for oy in 0..<ho {
                    let row = output + (plane * ho + oy) * wo, (y0, y1, fy) = self.rows[oy]
                    let upper = x + (plane * h + y0) * w
                    guard self.bilinear else {
                        // A repeat of the row above's source row is a copy of the row above.
                        if oy > 0 && self.rows[oy - 1].0 == y0 {
                            row.update(from: row - wo, count: wo)
                        } else {
                            for ox in 0..<wo { row[ox] = upper[columns[ox].0] }
                        }
                        continue
                    }
                    let lower = x + (plane * h + y1) * w
                    for ox in 0..<wo {
                        let (x0, x1, fx) = columns[ox]
                        let top = upper[x0] + (upper[x1] - upper[x0]) * fx, bottom = lower[x0] + (lower[x1] - lower[x0]) * fx
                        row[ox] = top + (bottom - top) * fy
                    }
                }
            }
        }
    }
}

extension PadKernel: PreparedKernel {}
extension UpsampleKernel: PreparedKernel {}
