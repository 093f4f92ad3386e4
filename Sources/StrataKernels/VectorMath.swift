/// Transcendental functions on 16 lanes at once, for the fast activations.
/// Accurate to a few float ulps (tested against Foundation's Double
/// versions in FastKernelTests); the reference kernels keep using libm.
public enum VectorMath {
    public typealias V = SIMD16<Float>

    /// e^x: x = n ln 2 + r with |r| <= ln 2 / 2, a degree-6 polynomial for
    /// e^r, and 2^n built in the exponent bits. Inputs are clamped to the
    /// range where the result is a normal float.
    @inline(__always)
    public static func exp(_ x: V) -> V {
        let x = x.clamped(lowerBound: V(repeating: -87.3), upperBound: V(repeating: 88.7))
        let n = (x * 1.442_695_04).rounded(.toNearestOrEven)
        // ln 2 in two parts, so that n * ln2Hi is exact.
        var r = x
        r.addProduct(n, V(repeating: -0.693_145_75))
        r.addProduct(n, V(repeating: -1.428_606_8e-6))
        var p = V(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // n + 1.5 * 2^23 holds n in its low mantissa bits: an integer
        // without a float-to-int conversion, which Swift's SIMD does lane by lane.
        let shifted = unsafeBitCast(n + 12_582_912, to: SIMD16<Int32>.self) &- 0x4B40_0000
        return p * unsafeBitCast((shifted &+ 127) &<< 23, to: V.self)
    }

    /// tanh x = sign(x) (1 - e) / (1 + e) with e = e^(-2|x|), which never overflows.
    @inline(__always)
    public static func tanh(_ x: V) -> V {
        let e = exp(-2 * abs(x))
        let t = (1 - e) / (1 + e)
        return t.replacing(with: -t, where: x .< 0)
    }

    @inline(__always)
    public static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    @inline(__always)
    static func abs(_ x: V) -> V { x.replacing(with: -x, where: x .< 0) }
}

extension VectorMath {
    /// erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7).
    @inline(__always)
    public static func erf(_ x: V) -> V {
        let a = abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p = V(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp(-a * a)
        return y.replacing(with: -y, where: x .< 0)
    }
}

/// A pointwise function applied 16 values at a time: the activations a
/// convolution's epilogue or a standalone activation node computes.
public enum PointwiseFunction: Sendable, Equatable {
    case relu
    case leakyRelu(Float)
    case sigmoid
    case tanh
    case silu
    case elu(Float)
    case gelu(tanhApproximation: Bool)

    /// The op's name in the spec language.
    public var name: String {
        switch self {
        case .relu: return "relu"
        case .leakyRelu: return "leaky_relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .silu: return "silu"
        case .elu: return "elu"
        case .gelu: return "gelu"
        }
    }

    @inline(__always)
    public func apply(_ v: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .leakyRelu(let slope): return v.replacing(with: v * slope, where: v .< 0)
        case .sigmoid: return VectorMath.sigmoid(v)
        case .tanh: return VectorMath.tanh(v)
        case .silu: return v * VectorMath.sigmoid(v)
        case .elu(let alpha): return v.replacing(with: alpha * (VectorMath.exp(v) - 1), where: v .< 0)
        case .gelu(true):
            let inner = 0.797_884_56 * (v + 0.044_715 * v * v * v)
            return 0.5 * v * (1 + VectorMath.tanh(inner))
        case .gelu(false): return 0.5 * v * (1 + VectorMath.erf(v * 0.707_106_78))
        }
    }

    /// Applies the function to `count` values in place (or from `x` to `y`).
    public func apply(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: apply(v), as: SIMD16<Float>.self)
            i += 16
        }
        if i < count {
            var v = SIMD16<Float>()
            for j in 0..<(count - i) { v[j] = x[i + j] }
            v = apply(v)
            for j in 0..<(count - i) { y[i + j] = v[j] }
        }
    }
}
