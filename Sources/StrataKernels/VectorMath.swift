import CKernelSupport
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
        // Only bit operations, min, max and arithmetic: Swift's SIMD
        // rounding, clamping and masked selects compile to lane-by-lane loops.
        let x = pointwiseMax(pointwiseMin(x, V(repeating: 88.7)), V(repeating: -87.3))
        // t = x log2(e) + 1.5 * 2^23 rounds to an integer n and holds n in its low mantissa bits.
        let t = x * 1.442_695_04 + 12_582_912
        let n = t - 12_582_912
        var r = x
        r.addProduct(n, V(repeating: -0.693_145_75))
        r.addProduct(n, V(repeating: -1.428_606_8e-6))
        let p = fma(fma(fma(fma(fma(fma(V(repeating: 1.0 / 720), r, 1.0 / 120), r, 1.0 / 24), r, 1.0 / 6), r, 0.5), r, 1), r, 1)
        let shifted = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        return p * unsafeBitCast((shifted &+ 127) &<< 23, to: V.self)
    }

    /// tanh x = x P(x^2) / Q(x^2) for |x| <= 9, where tanh is within a
    /// float's precision of its limit beyond: degree 4 over degree 4, all
    /// coefficients positive (no cancellation), fitted by scripts/fit-tanh.py
    /// and kept in CKernelSupport.h for the AVX-512 epilogues too (absolute error 2e-8; 3.3e-7 evaluated in floats). Half the operations of (1 - e) / (1 + e)
    /// with e = e^(-2|x|): that form took a tenth of a 3x3 layer's time.
    @inline(__always)
    public static func tanh(_ x: V) -> V {
        let c = pointwiseMax(pointwiseMin(x, V(repeating: 9)), V(repeating: -9)), t = c * c
        let p = fma(fma(fma(fma(V(repeating: STRATA_TANH_P4), t, STRATA_TANH_P3), t, STRATA_TANH_P2), t, STRATA_TANH_P1), t,
                    STRATA_TANH_P0)
        let q = fma(fma(fma(fma(V(repeating: STRATA_TANH_Q4), t, STRATA_TANH_Q3), t, STRATA_TANH_Q2), t, STRATA_TANH_Q1), t, 1)
        return c * p / q
    }

    /// a b + c, fused.
    @inline(__always)
    static func fma(_ a: V, _ b: V, _ c: Float) -> V {
        var r = V(repeating: c)
        r.addProduct(a, b)
        return r
    }

    @inline(__always)
    public static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    /// The larger of a and b in each lane, exactly one of them: the sign of
    /// a - b picks (the difference of two floats is zero only when they
    /// are equal), by integer bit operations as in `relu`. The standard
    /// library's pointwiseMax compiled to a loop over lanes through the
    /// stack, even inlined (LeNet's pooling 15 times slower).
    @inline(__always)
    public static func max(_ a: V, _ b: V) -> V {
        let takeB = unsafeBitCast(a - b, to: SIMD16<Int32>.self) &>> 31
        return unsafeBitCast(unsafeBitCast(a, to: SIMD16<Int32>.self) & ~takeB | unsafeBitCast(b, to: SIMD16<Int32>.self) & takeB,
                             to: V.self)
    }

    /// `max` on 8 lanes.
    @inline(__always)
    public static func max(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        max(V(lowHalf: a, highHalf: b), V(lowHalf: b, highHalf: a)).lowHalf
    }

    /// max(x, 0) by clearing the lanes whose sign bit is set. Only integer
    /// bit operations: the standard library's pointwiseMax is not always
    /// inlined, and its out-of-line copy goes lane by lane (it made the VAE
    /// encoder three times slower when a store path grew past the inliner's budget).
    @inline(__always)
    public static func relu(_ x: V) -> V {
        let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
        return unsafeBitCast(bits & ~(bits &>> 31), to: V.self)
    }

    @inline(__always)
    static func abs(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: V.self)
    }

    /// |y| with the sign of x.
    @inline(__always)
    static func withSign(of x: V, _ y: V) -> V {
        let sign = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x8000_0000
        return unsafeBitCast(unsafeBitCast(abs(y), to: SIMD16<UInt32>.self) | sign, to: V.self)
    }
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
        return withSign(of: x, 1 - p * t * exp(-a * a))
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
        case .relu: return VectorMath.relu(v)
        case .leakyRelu(let slope): return pointwiseMax(v, SIMD16<Float>()) + slope * pointwiseMin(v, SIMD16<Float>())
        case .sigmoid: return VectorMath.sigmoid(v)
        case .tanh: return VectorMath.tanh(v)
        case .silu: return v * VectorMath.sigmoid(v)
        case .elu(let alpha):
            return pointwiseMax(v, SIMD16<Float>()) + alpha * (VectorMath.exp(pointwiseMin(v, SIMD16<Float>())) - 1)
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
