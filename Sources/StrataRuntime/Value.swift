import StrataKernels

/// A value flowing through a network: float activations, or token ids.
public enum Value: Sendable {
    case float(Tensor)
    case ids(IntTensor)

    public var shape: [Int] {
        switch self {
        case .float(let t): return t.shape
        case .ids(let t): return t.shape
        }
    }

    /// The float tensor; ids are converted (exactly, below 2^24).
    public var tensor: Tensor {
        switch self {
        case .float(let t): return t
        case .ids(let t): return Tensor(shape: t.shape, data: t.data.map(Float.init))
        }
    }
}
