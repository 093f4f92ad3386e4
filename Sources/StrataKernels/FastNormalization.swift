/// Instance and group norm prepared for one input shape [N, C, ...]: each
/// (sample, group) block's mean and biased variance, then one pointwise
/// pass per sample in which each channel is scaled and shifted by its own
/// a = γ / σ and b = β - mean a, the epilogue (an activation, a residual
/// add) applied before the store. Output may be the input. Tested against
/// `Normalization.group` in FastKernelTests.
public final class GroupNormKernel: @unchecked Sendable {
    public let shape: [Int]
    let groups: Int
    let weight: [Float]?, bias: [Float]?
    let eps: Double
    let epilogue: FusedEpilogue
    /// a and b of every (sample, channel), written per call.
    let scales: UnsafeMutablePointer<Float>, shifts: UnsafeMutablePointer<Float>

    /// weight and bias: [C], or nil for 1 and 0. Instance norm is groups = C.
    public init(input: [Int], groups: Int, weight: [Float]?, bias: [Float]?, eps: Double, epilogue: FusedEpilogue) {
        shape = input
        (self.groups, self.weight, self.bias, self.eps, self.epilogue) = (groups, weight, bias, eps, epilogue)
        scales = .allocate(capacity: input[0] * input[1])
        shifts = .allocate(capacity: input[0] * input[1])
    }

    deinit {
        scales.deallocate()
        shifts.deallocate()
    }

    public var scratchFloats: Int { 0 }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (n, c) = (shape[0], shape[1]), inner = shape.dropFirst(2).reduce(1, *)
        let perGroup = c / groups, span = perGroup * inner
        pool.parallelFor(n * groups) { block, _ in
            let start = x + block * span
            let mean = Self.sum(start, count: span, minus: 0, squared: false) / Double(span)
            let variance = Self.sum(start, count: span, minus: Float(mean), squared: true) / Double(span)
            let inverse = 1 / (variance + self.eps).squareRoot()
            for plane in (block * perGroup)..<((block + 1) * perGroup) {
                let a = inverse * Double(self.weight?[plane % c] ?? 1)
                self.scales[plane] = Float(a)
                self.shifts[plane] = Float(Double(self.bias?[plane % c] ?? 0) - mean * a)
            }
        }
        // Per sample, so that the epilogue's own per-channel values (a prelu's slopes) index by channel.
        for b in 0..<n {
            let offset = b * c * inner
            var tile = epilogue.tile(residuals: residuals.map { $0 + offset })
            tile.steps.insert(contentsOf: [.channelScale(scales + b * c), .channelShift(shifts + b * c)], at: 0)
            PointwiseKernel.pass(x + offset, output: output + offset, planes: c, channels: c, inner: inner, tile: tile, pool: pool)
        }
    }

    /// Σ (x - minus) or Σ (x - minus)² over `count` values: 16 Float lanes,
    /// added into a Double every 4096 values so that a large map keeps its precision.
    static func sum(_ x: UnsafePointer<Float>, count: Int, minus center: Float, squared: Bool) -> Double {
        var total = 0.0, i = 0
        while i < count {
            let end = min(count, i + 4096)
            var lanes = SIMD16<Float>(), rest: Float = 0
            while i + 16 <= end {
                let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - center
                lanes += squared ? d * d : d
                i += 16
            }
            while i < end {
                let d = x[i] - center
                rest += squared ? d * d : d
                i += 1
            }
            total += Double(lanes.sum()) + Double(rest)
        }
        return total
    }
}

extension GroupNormKernel: PreparedKernel {
    public var elementwise: Bool { true }
}
