/// Convolutions, transposed convolutions and linear layers on the packed
/// GEMM, with their epilogue fused. Each is tested against its reference twin in `Convolution` and
/// `Linear` on random shapes (Tests/StrataTests/FastKernelTests.swift).
public enum FastLayers {
    /// An epilogue in terms of arrays, for callers.
    public struct Fused: @unchecked Sendable {
        public enum Step: @unchecked Sendable {
            case relu
            case leakyRelu(Float)
            case prelu([Float])
            case multiply(Float)
            /// The residual, in the unshuffled output's layout.
            case add(Tensor)
            case function((Float) -> Float)
        }

        public var scale: [Float]?
        public var shift: [Float]?
        public var steps: [Step]
        /// Pixel-shuffle factor of the store; 1 stores as computed.
        public var shuffle: Int

        public init(scale: [Float]? = nil, shift: [Float]? = nil, steps: [Step] = [], shuffle: Int = 1) {
            self.scale = scale
            self.shift = shift
            self.steps = steps
            self.shuffle = shuffle
        }
    }

    /// x: [N, C, H, W], weight: [O, C/groups, kH, kW] -> [N, O, H', W'],
    /// or [N, O/(r*r), H'*r, W'*r] when the store shuffles.
    @inline(never)
    public static func convolution(_ x: Tensor, weight w: Tensor, _ g: Convolution.Geometry, epilogue: Fused,
                                   pool: ThreadPool) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let ho = (h + g.padBegin.0 + g.padEnd.0 - g.dilation.0 * (kh - 1) - 1) / g.stride.0 + 1
        let wo = (wd + g.padBegin.1 + g.padEnd.1 - g.dilation.1 * (kw - 1) - 1) / g.stride.1 + 1
        let og = o / g.groups, k = cg * kh * kw, pixels = ho * wo
        let r = epilogue.shuffle
        var y = Tensor(zeros: r == 1 ? [n, o, ho, wo] : [n, o / (r * r), ho * r, wo * r])
        let panels = (pixels + PackedGEMM.panelColumns - 1) / PackedGEMM.panelColumns
        let stride = PackedGEMM.panelColumns
        x.data.withUnsafeBufferPointer { xs in
            w.data.withUnsafeBufferPointer { ws in
                y.data.withUnsafeMutableBufferPointer { ys in
                    with(epilogue) { e in
                        guard let xb = xs.baseAddress, let wb = ws.baseAddress, let yb = ys.baseAddress else { return }
                        pool.parallelFor(n * g.groups * panels) { job in
                            let b = job / (g.groups * panels), group = (job / panels) % g.groups, panel = job % panels
                            let p0 = panel * stride, count = min(stride, pixels - p0)
                            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: k * stride)
                            defer { buffer.deallocate() }
                            // The micro-kernel reads whole 16-column blocks: clear the columns past a short panel.
                            if count < stride { (buffer + count / 16 * 16 * k).initialize(repeating: 0, count: (stride - count / 16 * 16) * k) }
                            // im2col for this panel only: row (c, ky, kx), column = output pixel.
                            var top = [Int](repeating: 0, count: count), left = [Int](repeating: 0, count: count)
                            for j in 0..<count {
                                top[j] = ((p0 + j) / wo) * g.stride.0 - g.padBegin.0
                                left[j] = ((p0 + j) % wo) * g.stride.1 - g.padBegin.1
                            }
                            for ic in 0..<cg {
                                let plane = xb + (b * c + group * cg + ic) * h * wd
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        let kk = (ic * kh + ky) * kw + kx
                                        let dy = ky * g.dilation.0, dx = kx * g.dilation.1
                                        for j in 0..<count {
                                            let iy = top[j] + dy, ix = left[j] + dx
                                            buffer[PackedGEMM.offset(k: kk, column: j, depth: k)] =
                                                iy >= 0 && iy < h && ix >= 0 && ix < wd ? plane[iy * wd + ix] : 0
                                        }
                                    }
                                }
                            }
                            let rowBase = group * og
                            PackedGEMM.multiply(m: og, k: k, columns: count, weights: wb + rowBase * k, panel: buffer, stride: stride,
                                                epilogue: e.rows(from: rowBase), output: yb, contiguous: r == 1,
                                                place: { row, column in (b * o + rowBase + row) * pixels + p0 + column }) { row, column in
                                let oc = rowBase + row, p = p0 + column
                                if r == 1 { return (b * o + oc) * pixels + p }
                                let cc = oc / (r * r), i = (oc / r) % r, jj = oc % r
                                return ((b * (o / (r * r)) + cc) * ho * r + (p / wo) * r + i) * wo * r + (p % wo) * r + jj
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// x: [..., F], weight: [O, F] -> [..., O].
    @inline(never)
    public static func linear(_ x: Tensor, weight w: Tensor, epilogue: Fused, pool: ThreadPool) -> Tensor {
        let (o, f) = (w.shape[0], w.shape[1])
        let rows = x.count / f
        var y = Tensor(zeros: Array(x.shape.dropLast()) + [o])
        let stride = PackedGEMM.panelColumns
        let panels = (rows + stride - 1) / stride
        // Split the outputs too, so that a batch of one still uses every thread.
        let blocks = max(1, min(pool.threads, o / PackedGEMM.rows))
        let perBlock = ((o + blocks - 1) / blocks + PackedGEMM.rows - 1) / PackedGEMM.rows * PackedGEMM.rows
        x.data.withUnsafeBufferPointer { xs in
            w.data.withUnsafeBufferPointer { ws in
                y.data.withUnsafeMutableBufferPointer { ys in
                    with(epilogue) { e in
                        guard let xb = xs.baseAddress, let wb = ws.baseAddress, let yb = ys.baseAddress else { return }
                        pool.parallelFor(panels * blocks) { job in
                            let panel = job / blocks, block = job % blocks
                            let r0 = panel * stride, count = min(stride, rows - r0)
                            let o0 = block * perBlock, height = min(perBlock, o - o0)
                            guard height > 0 else { return }
                            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: f * stride)
                            defer { buffer.deallocate() }
                            if count < stride { (buffer + count / 16 * 16 * f).initialize(repeating: 0, count: (stride - count / 16 * 16) * f) }
                            for j in 0..<count {
                                let src = xb + (r0 + j) * f
                                for kk in 0..<f { buffer[PackedGEMM.offset(k: kk, column: j, depth: f)] = src[kk] }
                            }
                            let index = { (row: Int, column: Int) in (r0 + column) * o + o0 + row }
                            PackedGEMM.multiply(m: height, k: f, columns: count, weights: wb + o0 * f, panel: buffer, stride: stride,
                                                epilogue: e.rows(from: o0), output: yb, place: index, store: index)
                        }
                    }
                }
            }
        }
        return y
    }

    /// The epilogue with raw pointers valid for the duration of `body`.
    private static func with(_ f: Fused, _ body: (PackedGEMM.Epilogue) -> Void) {
        var owned: [UnsafeMutableBufferPointer<Float>] = []
        func copy(_ a: [Float]) -> UnsafePointer<Float> {
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(a.count, 1))
            _ = p.initialize(from: a)
            owned.append(p)
            return UnsafePointer(p.baseAddress ?? UnsafeMutablePointer<Float>.allocate(capacity: 1))
        }
        defer { owned.forEach { $0.deallocate() } }
        let steps: [PackedGEMM.Epilogue.Step] = f.steps.map { s in
            switch s {
            case .relu: return .relu
            case .leakyRelu(let slope): return .leakyRelu(slope)
            case .prelu(let slopes): return .prelu(copy(slopes))
            case .multiply(let k): return .multiply(k)
            case .add(let t): return .add(copy(t.data))
            case .function(let g): return .function(g)
            }
        }
        body(PackedGEMM.Epilogue(scale: f.scale.map(copy), shift: f.shift.map(copy), steps: steps))
    }
}

extension FastLayers {
    /// x: [N, C, H, W], weight: [C, O/groups, kH, kW], bias: [O] -> [N, O, H', W'].
    /// Without a col2im buffer: for each kernel tap, one GEMM of the weights'
    /// [O/groups x C/groups] slice with the input, its results added straight
    /// into the output pixels the tap reaches. Within a tap, distinct input
    /// pixels reach distinct output pixels, so the jobs of a tap never
    /// collide; the taps run one after another.
    @inline(never)
    public static func transposed(_ x: Tensor, weight w: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
                                  outputPadding: (Int, Int), dilation: (Int, Int), groups: Int, pool: ThreadPool) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (og, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
        let o = og * groups, cg = c / groups, pixels = h * wd
        let ho = (h - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
        let wo = (wd - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + outputPadding.1 + 1
        let size = n * o * ho * wo
        let panels = (pixels + PackedGEMM.panelColumns - 1) / PackedGEMM.panelColumns
        let jobs = n * groups * panels
        // One spare element per job takes the products that land outside the output.
        var out = [Float](repeating: 0, count: size + jobs)
        // weight: [C, O/groups, kH, kW] -> per tap and group, [O/groups x C/groups] row-major.
        var taps = [Float](repeating: 0, count: kh * kw * groups * og * cg)
        for ic in 0..<c {
            for j in 0..<og {
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let g = ic / cg
                        taps[(((ky * kw + kx) * groups + g) * og + j) * cg + ic % cg] = w.data[((ic * og + j) * kh + ky) * kw + kx]
                    }
                }
            }
        }
        let stride16 = PackedGEMM.panelColumns
        x.data.withUnsafeBufferPointer { xs in
            taps.withUnsafeBufferPointer { ts in
                out.withUnsafeMutableBufferPointer { os in
                    guard let xb = xs.baseAddress, let tb = ts.baseAddress, let ob = os.baseAddress else { return }
                    let accumulate = PackedGEMM.Epilogue(scale: nil, shift: nil, steps: [.add(UnsafePointer(ob))])
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            pool.parallelFor(jobs) { job in
                                let b = job / (groups * panels), group = (job / panels) % groups, panel = job % panels
                                let p0 = panel * stride16, count = min(stride16, pixels - p0)
                                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: cg * stride16)
                                defer { buffer.deallocate() }
                                if count < stride16 {
                                    (buffer + count / 16 * 16 * cg).initialize(repeating: 0, count: (stride16 - count / 16 * 16) * cg)
                                }
                                for ic in 0..<cg {
                                    let plane = xb + (b * c + group * cg + ic) * pixels + p0
                                    for j in 0..<count { buffer[PackedGEMM.offset(k: ic, column: j, depth: cg)] = plane[j] }
                                }
                                let trash = size + job
                                let index = { (row: Int, column: Int) -> Int in
                                    let p = p0 + column
                                    let oy = (p / wd) * stride.0 - padding.0 + ky * dilation.0
                                    let ox = (p % wd) * stride.1 - padding.1 + kx * dilation.1
                                    guard oy >= 0 && oy < ho && ox >= 0 && ox < wo else { return trash }
                                    return ((b * o + group * og + row) * ho + oy) * wo + ox
                                }
                                PackedGEMM.multiply(m: og, k: cg, columns: count, weights: tb + ((ky * kw + kx) * groups + group) * og * cg,
                                                    panel: buffer, stride: stride16, epilogue: accumulate, output: ob,
                                                    place: index, store: index)
                            }
                        }
                    }
                }
            }
        }
        var y = Tensor(shape: [n, o, ho, wo], data: Array(out.prefix(size)))
        if let bias {
            let plane = ho * wo
            for i in 0..<size { y.data[i] += bias.data[(i / plane) % o] }
        }
        return y
    }
}
