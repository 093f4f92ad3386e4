/// Reference ops that move elements: permute, concat, pad, upsample,
/// pixel shuffle.
public enum Layout {
    /// Output axis i is input axis axes[i].
    public static func permute(_ x: Tensor, axes: [Int]) -> Tensor {
        let shape = axes.map { x.shape[$0] }
        let inStrides = x.strides
        var y = Tensor(zeros: shape)
        let outStrides = y.strides
        for i in 0..<y.count {
            var rest = i, source = 0
            for (d, s) in outStrides.enumerated() {
                source += (rest / s) * inStrides[axes[d]]
                rest %= s
            }
            y.data[i] = x.data[source]
        }
        return y
    }

    public static func concat(_ xs: [Tensor], axis: Int) -> Tensor {
        var shape = xs[0].shape
        shape[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
        let outer = shape[..<axis].reduce(1, *)
        var data: [Float] = []
        data.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for x in xs {
                let chunk = x.count / outer
                data += x.data[(o * chunk)..<((o + 1) * chunk)]
            }
        }
        return Tensor(shape: shape, data: data)
    }

    public enum PadMode: String, Sendable {
        case zeros, reflect, replicate

        /// The input index that padded index `i` (possibly outside 0..<size) reads; nil for a zero.
        func source(_ i: Int, _ size: Int) -> Int? {
            switch self {
            case .zeros: return i >= 0 && i < size ? i : nil
            case .replicate: return Swift.min(Swift.max(i, 0), size - 1)
            case .reflect: return i < 0 ? -i : (i >= size ? 2 * (size - 1) - i : i)
            }
        }
    }

    /// x: [N, C, H, W] padded by [top, bottom, left, right].
    public static func pad(_ x: Tensor, top: Int, bottom: Int, left: Int, right: Int, mode: PadMode) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = h + top + bottom, wo = w + left + right
        var y = Tensor(zeros: [n, c, ho, wo])
        for plane in 0..<(n * c) {
            for oy in 0..<ho {
                guard let iy = mode.source(oy - top, h) else { continue }
                for ox in 0..<wo {
                    guard let ix = mode.source(ox - left, w) else { continue }
                    y.data[(plane * ho + oy) * wo + ox] = x.data[(plane * h + iy) * w + ix]
                }
            }
        }
        return y
    }

    /// Along one axis of an upsampling by `s` from `size` to `out`: the two
    /// source indices output index `o` blends and the weight of the second
    /// (nearest: one index, weight 0), by PyTorch's source-pixel rules.
    static func sample(_ o: Int, _ size: Int, _ out: Int, _ s: Int, bilinear: Bool, alignCorners: Bool) -> (Int, Int, Double) {
        guard bilinear else { return (o / s, o / s, 0) }
        var src: Double
        if alignCorners {
            src = out > 1 ? Double(o) * Double(size - 1) / Double(out - 1) : 0
        } else {
            src = Swift.max((Double(o) + 0.5) / Double(s) - 0.5, 0)
        }
        let i0 = Swift.min(Int(src), size - 1)
        let i1 = Swift.min(i0 + 1, size - 1)
        return (i0, i1, src - Double(i0))
    }

    /// x: [N, C, H, W] -> [N, C, H*sh, W*sw], nearest or bilinear, with
    /// PyTorch's source-pixel rules for both `align_corners` settings.
    public static func upsample(_ x: Tensor, scale: (Int, Int), bilinear: Bool, alignCorners: Bool) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = h * scale.0, wo = w * scale.1
        var y = Tensor(zeros: [n, c, ho, wo])
        for plane in 0..<(n * c) {
            for oy in 0..<ho {
                let (y0, y1, ly) = sample(oy, h, ho, scale.0, bilinear: bilinear, alignCorners: alignCorners)
                for ox in 0..<wo {
                    let (x0, x1, lx) = sample(ox, w, wo, scale.1, bilinear: bilinear, alignCorners: alignCorners)
                    func at(_ iy: Int, _ ix: Int) -> Double { Double(x.data[(plane * h + iy) * w + ix]) }
                    let top = at(y0, x0) * (1 - lx) + at(y0, x1) * lx
                    let bottom = at(y1, x0) * (1 - lx) + at(y1, x1) * lx
                    y.data[(plane * ho + oy) * wo + ox] = Float(top * (1 - ly) + bottom * ly)
                }
            }
        }
        return y
    }

    /// x: [N, C*r*r, H, W] -> [N, C, H*r, W*r]: output (c, h*r + i, w*r + j)
    /// comes from input channel c*r*r + i*r + j, as torch.nn.PixelShuffle.
    public static func pixelShuffle(_ x: Tensor, factor r: Int) -> Tensor {
        let (n, cr, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let c = cr / (r * r)
        var y = Tensor(zeros: [n, c, h * r, w * r])
        for b in 0..<n {
            for ch in 0..<c {
                for i in 0..<r {
                    for j in 0..<r {
                        let ic = ch * r * r + i * r + j
                        for iy in 0..<h {
                            for ix in 0..<w {
                                y.data[((b * c + ch) * h * r + iy * r + i) * w * r + ix * r + j] = x.data[((b * cr + ic) * h + iy) * w + ix]
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}
