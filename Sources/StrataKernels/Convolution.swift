/// Reference 2-D convolution and transposed convolution, with PyTorch's
/// semantics (cross-correlation; weights OIHW and IOHW). 1-D convolutions run
/// as 2-D ones with a height of 1. Sums accumulate in Double, so these are
/// the oracles the fast kernels are tested against.
public enum Convolution {
    /// Spatial settings per axis (height, width).
    public struct Geometry: Sendable {
        public var stride: (Int, Int)
        public var padBegin: (Int, Int)
        public var padEnd: (Int, Int)
        public var dilation: (Int, Int)
        public var groups: Int

        public init(stride: (Int, Int), padBegin: (Int, Int), padEnd: (Int, Int), dilation: (Int, Int), groups: Int) {
            self.stride = stride
            self.padBegin = padBegin
            self.padEnd = padEnd
            self.dilation = dilation
            self.groups = groups
        }
    }

    /// x: [N, C, H, W], weight: [O, C/groups, kH, kW], bias: [O] -> [N, O, H', W']
    /// with H' = (H + padBegin + padEnd - dilation*(kH - 1) - 1)/stride + 1.
    public static func forward(_ x: Tensor, weight w: Tensor, bias: Tensor?, _ g: Geometry) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let ho = (h + g.padBegin.0 + g.padEnd.0 - g.dilation.0 * (kh - 1) - 1) / g.stride.0 + 1
        let wo = (wd + g.padBegin.1 + g.padEnd.1 - g.dilation.1 * (kw - 1) - 1) / g.stride.1 + 1
        let og = o / g.groups
        var y = Tensor(zeros: [n, o, ho, wo])
        // Through buffer pointers: with the arrays' checks this ran at 0.1 G multiply-adds a second, and composing
        // layers at plan time (`KernelSelector.affineChain`) runs it on a batch as wide as a layer's input.
        x.data.withUnsafeBufferPointer { x in
        w.data.withUnsafeBufferPointer { w in
        y.data.withUnsafeMutableBufferPointer { y in
            for b in 0..<n {
                for oc in 0..<o {
                    let group = oc / og
                    for oy in 0..<ho {
                        for ox in 0..<wo {
                            var acc = Double(bias?.data[oc] ?? 0)
                            for ic in 0..<cg {
                                let plane = x.baseAddress! + (b * c + group * cg + ic) * h * wd, kernel = w.baseAddress! + (oc * cg + ic) * kh * kw
                                for ky in 0..<kh {
                                    let iy = oy * g.stride.0 - g.padBegin.0 + ky * g.dilation.0
                                    guard iy >= 0 && iy < h else { continue }
                                    for kx in 0..<kw {
                                        let ix = ox * g.stride.1 - g.padBegin.1 + kx * g.dilation.1
                                        guard ix >= 0 && ix < wd else { continue }
                                        acc += Double(plane[iy * wd + ix]) * Double(kernel[ky * kw + kx])
                                    }
                                }
                            }
                            y[((b * o + oc) * ho + oy) * wo + ox] = Float(acc)
                        }
                    }
                }
            }
        }
        }
        }
        return y
    }

    /// x: [N, C, H, W], weight: [C, O/groups, kH, kW], bias: [O] -> [N, O, H', W']
    /// with H' = (H - 1)*stride - 2*padding + dilation*(kH - 1) + outputPadding + 1.
    /// Every input pixel scatters its kernel-sized patch into the output.
    public static func transposed(_ x: Tensor, weight w: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
                                  outputPadding: (Int, Int), dilation: (Int, Int), groups: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (og, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
        let o = og * groups, cg = c / groups
        let ho = (h - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
        let wo = (wd - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + outputPadding.1 + 1
        var acc = [Double](repeating: 0, count: n * o * ho * wo)
        x.data.withUnsafeBufferPointer { x in
        w.data.withUnsafeBufferPointer { w in
        acc.withUnsafeMutableBufferPointer { acc in
            for b in 0..<n {
                for ic in 0..<c {
                    let group = ic / cg
                    for iy in 0..<h {
                        for ix in 0..<wd {
                            let v = Double(x[((b * c + ic) * h + iy) * wd + ix])
                            for j in 0..<og {
                                let out = acc.baseAddress! + (b * o + group * og + j) * ho * wo, kernel = w.baseAddress! + (ic * og + j) * kh * kw
                                for ky in 0..<kh {
                                    let oy = iy * stride.0 - padding.0 + ky * dilation.0
                                    guard oy >= 0 && oy < ho else { continue }
                                    for kx in 0..<kw {
                                        let ox = ix * stride.1 - padding.1 + kx * dilation.1
                                        guard ox >= 0 && ox < wo else { continue }
                                        out[oy * wo + ox] += v * Double(kernel[ky * kw + kx])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        }
        var y = Tensor(zeros: [n, o, ho, wo])
        let plane = ho * wo
        for i in 0..<acc.count {
            y.data[i] = Float(acc[i] + Double(bias?.data[(i / plane) % o] ?? 0))
        }
        return y
    }
}
