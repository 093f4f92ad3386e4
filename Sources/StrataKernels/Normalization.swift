import Foundation

/// Reference normalizations with PyTorch's inference semantics: batch norm
/// uses its running statistics; instance, group and layer norm use the
/// biased variance of the sample itself.
public enum Normalization {
    /// x: [N, C, ...]; every parameter [C]; nil weight and bias mean 1 and 0.
    public static func batch(_ x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, eps: Double) -> Tensor {
        let c = x.shape[1], inner = x.count / (x.shape[0] * c)
        var y = x
        for i in 0..<x.count {
            let ch = (i / inner) % c
            let scale = Double(weight?.data[ch] ?? 1) / (Double(variance.data[ch]) + eps).squareRoot()
            y.data[i] = Float((Double(x.data[i]) - Double(mean.data[ch])) * scale + Double(bias?.data[ch] ?? 0))
        }
        return y
    }

    /// x: [N, C, ...] normalized over each group of C/groups channels and the
    /// spatial axes together; weight and bias per channel. Instance norm is
    /// the case groups = C.
    public static func group(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Double) -> Tensor {
        let n = x.shape[0], c = x.shape[1], inner = x.count / (n * c)
        let span = (c / groups) * inner
        var y = x
        for block in 0..<(n * groups) {
            let start = block * span
            let (mean, variance) = moments(x.data[start..<(start + span)])
            let inv = 1 / (variance + eps).squareRoot()
            for i in start..<(start + span) {
                let ch = (i / inner) % c
                y.data[i] = Float((Double(x.data[i]) - mean) * inv * Double(weight?.data[ch] ?? 1) + Double(bias?.data[ch] ?? 0))
            }
        }
        return y
    }

    /// x: [..., F] normalized over the last axis; weight and bias [F].
    public static func layer(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Double) -> Tensor {
        let f = x.shape[x.rank - 1]
        var y = x
        for row in 0..<(x.count / f) {
            let start = row * f
            let (mean, variance) = moments(x.data[start..<(start + f)])
            let inv = 1 / (variance + eps).squareRoot()
            for k in 0..<f {
                y.data[start + k] = Float((Double(x.data[start + k]) - mean) * inv * Double(weight?.data[k] ?? 1) + Double(bias?.data[k] ?? 0))
            }
        }
        return y
    }

    /// Mean and biased variance, in two passes for accuracy.
    static func moments(_ values: ArraySlice<Float>) -> (Double, Double) {
        let count = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / count
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / count
        return (mean, variance)
    }
}
