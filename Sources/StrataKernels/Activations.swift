import Foundation

/// Reference pointwise activations, and softmax along an axis.
public enum Activation: Sendable {
    case relu
    case sigmoid
    case tanh
    case silu
    case elu(alpha: Double)
    case gelu(tanhApproximation: Bool)
    case leakyRelu(slope: Double)

    public func apply(_ x: Double) -> Double {
        switch self {
        case .relu: return x > 0 ? x : 0
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .silu: return x / (1 + Foundation.exp(-x))
        case .elu(let alpha): return x > 0 ? x : alpha * (Foundation.exp(x) - 1)
        case .gelu(false): return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .gelu(true): return 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .leakyRelu(let slope): return x > 0 ? x : slope * x
        }
    }

    public func forward(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map { Float(apply(Double($0))) })
    }

    /// x: [N, C, ...] with one slope per channel (weight [C]) or one for all (weight [1]).
    public static func prelu(_ x: Tensor, weight: Tensor) -> Tensor {
        let shared = weight.count == 1
        let c = x.rank >= 2 ? x.shape[1] : 1
        let inner = x.rank >= 2 ? x.count / (x.shape[0] * c) : x.count
        var y = x
        for i in 0..<x.count where x.data[i] < 0 {
            y.data[i] = x.data[i] * weight.data[shared ? 0 : (i / inner) % c]
        }
        return y
    }

    /// Softmax (or its logarithm) along `axis`, shifted by the maximum for stability.
    public static func softmax(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
        let size = x.shape[axis]
        let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.count / (size * inner)
        var y = x
        for o in 0..<outer {
            for i in 0..<inner {
                let index = { (k: Int) in (o * size + k) * inner + i }
                let m = (0..<size).map { Double(x.data[index($0)]) }.max() ?? 0
                let sum = (0..<size).reduce(0.0) { $0 + Foundation.exp(Double(x.data[index($1)]) - m) }
                for k in 0..<size {
                    let shifted = Double(x.data[index(k)]) - m
                    y.data[index(k)] = Float(log ? shifted - Foundation.log(sum) : Foundation.exp(shifted) / sum)
                }
            }
        }
        return y
    }
}
