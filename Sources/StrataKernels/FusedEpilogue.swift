/// The epilogue of a prepared kernel: per-channel shifts and slopes copied
/// once into memory that lives as long as the kernel, and the residual
/// supplied per call.
public final class FusedEpilogue: @unchecked Sendable {
    public enum Step: Sendable, Equatable {
        case function(PointwiseFunction)
        /// One value per output channel.
        case channelScale([Float])
        case channelShift([Float])
        case prelu([Float])
        case multiply(Float)
        /// Adds residual number i of those given to `tile(residuals:)`.
        case residual(Int)
    }

    public let steps: [Step]
    /// The per-channel values of the steps that have them, in order.
    private let owned: [UnsafeMutableBufferPointer<Float>]

    public init(steps: [Step] = []) {
        // Padded with 16 zeros: a tile whose channels run along its columns reads 16 from its first.
        func owned(_ a: [Float]) -> UnsafeMutableBufferPointer<Float> {
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: a.count + 16)
            _ = p.initialize(from: a + [Float](repeating: 0, count: 16))
            return p
        }
        self.steps = steps
        self.owned = steps.compactMap { s in
            switch s {
            case .channelScale(let v), .channelShift(let v), .prelu(let v): return owned(v)
            default: return nil
            }
        }
    }

    deinit {
        owned.forEach { $0.deallocate() }
    }

    /// The epilogue for one call; residuals are laid out as the kernel computes its output.
    public func tile(residuals: [UnsafePointer<Float>], alongColumns: Bool = false) -> TileEpilogue {
        var next = owned.makeIterator()
        func values() -> UnsafePointer<Float> { UnsafePointer(next.next()!.baseAddress!) }
        return TileEpilogue(steps: steps.compactMap { s in
            switch s {
            case .function(let f): return .function(f)
            case .channelScale: return .channelScale(values())
            case .channelShift: return .channelShift(values())
            case .prelu: return .prelu(values())
            case .multiply(let f): return .multiply(f)
            case .residual(let i): return .add(residuals[i])
            }
        }, alongColumns: alongColumns)
    }
}

/// A kernel prepared for fixed shapes at plan time and run on pointers
/// into the plan's arena.
public protocol PreparedKernel: AnyObject, Sendable {
    /// Floats of scratch each worker needs.
    var scratchFloats: Int { get }
    /// Whether each output element depends only on the input element at
    /// its own position (after whatever the kernel read first), so that the
    /// output may overwrite the input.
    var elementwise: Bool { get }
    func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, pool: ThreadPool)
    /// Whether the kernel was prepared as a sketch: its form and what it
    /// says of channel blocks, without its weights, which it cannot run
    /// without. A plan decides where values hold their channels from
    /// sketches, then prepares each kernel once, for that layout (the
    /// weight transforms are most of the time to plan).
    var isSketch: Bool { get }
}

extension ConvolutionKernel: PreparedKernel {}
extension TransposedKernel: PreparedKernel {}
extension LinearKernel: PreparedKernel {}
extension PreparedKernel {
    public var elementwise: Bool { false }
    public var isSketch: Bool { false }
}

extension PointwiseKernel: PreparedKernel {
    public var scratchFloats: Int { 0 }
    public var elementwise: Bool { true }
}
