/// Max and average pooling prepared for one input shape, a plane per job,
/// with the window rules of `Pooling` (padding never wins a max; averages
/// divide by the padded or the real window) but Float sums. Global pooling
/// is the window that covers the whole plane. Tested against `Pooling` in
/// FastKernelTests.
public final class PoolingKernel: @unchecked Sendable {
    public let inputShape: [Int]
    public let outputShape: [Int]
    let window: Pooling.Window
    let average: Bool
    let countIncludePad: Bool
    /// Every window inside the plane: no padding, none cut by the edge.
    let inside: Bool
    /// Global pooling of an input whose channels are in blocks of 16 (`ChannelBlocks`).
    let blocked: Bool

    /// input: [N, C, H, W] (1-D pooling with H = 1).
    public init(input: [Int], window: Pooling.Window, average: Bool, countIncludePad: Bool, blocked: Bool = false) {
        inputShape = input
        self.blocked = blocked
        outputShape = [input[0], input[1], window.outputSize(input[2], axis: 0), window.outputSize(input[3], axis: 1)]
        self.window = window
        self.average = average
        self.countIncludePad = countIncludePad
        inside = window.padding == (0, 0) && (outputShape[2] - 1) * window.stride.0 + window.kernel.0 <= input[2]
            && (outputShape[3] - 1) * window.stride.1 + window.kernel.1 <= input[3]
    }

    /// Global pooling: one value per plane of [N, C, ...], its channels in blocks when `blocked`.
    public convenience init(global input: [Int], average: Bool, blocked: Bool = false) {
        let rest = input.dropFirst(2).reduce(1, *)
        self.init(input: [input[0], input[1], 1, rest],
                  window: Pooling.Window(kernel: (1, rest), stride: (1, rest), padding: (0, 0), ceilMode: false),
                  average: average, countIncludePad: true, blocked: blocked)
    }

    /// A row of the plane, for windows reduced rows first.
    public var scratchFloats: Int { inside ? inputShape[3] : 0 }

    public func run(_ x: UnsafePointer<Float>, residuals: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                    pool: ThreadPool) {
        let (h, w) = (inputShape[2], inputShape[3]), (ho, wo) = (outputShape[2], outputShape[3])
        let win = window, average = self.average
        if blocked { return global(blocks: x, into: output, pool: pool) }
        if inside {
            pool.reserveScratch(scratchFloats)
            let pairs = win.kernel == (2, 2) && win.stride == (2, 2), whole = win.kernel == (1, w) && h == 1
            pool.parallelFor(inputShape[0] * inputShape[1]) { plane, worker in
                let src = x + plane * h * w, dst = output + plane * ho * wo, row = pool.scratch(worker)
                let scale = 1 / Float(win.kernel.0 * win.kernel.1)
                if pairs { return Self.pairs(src, width: w, height: h, into: dst, rows: ho, columns: wo, average: average) }
                if whole {
                    // A whole row, as global pooling is: 16 lanes at a time (a chain of dependent adds cost
                    // ResNet-20's global pool 4 cycles a value).
                    dst[0] = Self.reduce(src, count: w, average: average) * (average ? scale : 1)
                    return
                }
                for oy in 0..<ho {
                    // The window's rows reduced column by column (contiguous, so vectorized), then each window's columns.
                    let first = src + oy * win.stride.0 * w
                    row.update(from: first, count: w)
                    for ky in 1..<win.kernel.0 {
                        let next = first + ky * w
                        if average { for i in 0..<w { row[i] += next[i] } } else { for i in 0..<w { row[i] = max(row[i], next[i]) } }
                    }
                    let out = dst + oy * wo
                    if win.kernel.1 == 2 && win.stride.1 == 2 {
                        // A loop of pairs that LLVM vectorizes, its loads deinterleaved by shuffles.
                        if average {
                            for ox in 0..<wo { out[ox] = (row[2 * ox] + row[2 * ox + 1]) * scale }
                        } else {
                            for ox in 0..<wo { out[ox] = Swift.max(row[2 * ox], row[2 * ox + 1]) }
                        }
                        continue
                    }
                    for ox in 0..<wo {
                        let x0 = ox * win.stride.1
                        var v = row[x0]
                        for kx in 1..<win.kernel.1 { v = average ? v + row[x0 + kx] : max(v, row[x0 + kx]) }
                        dst[oy * wo + ox] = average ? v * scale : v
                    }
                }
            }
            return
        }
        pool.parallelFor(inputShape[0] * inputShape[1]) { plane, _ in
            let src = x + plane * h * w, dst = output + plane * ho * wo
            for oy in 0..<ho {
                let y0 = oy * win.stride.0 - win.padding.0
                let y1 = min(y0 + win.kernel.0, h + win.padding.0)
                let (ya, yb) = (max(y0, 0), min(y1, h))
                for ox in 0..<wo {
                    let x0 = ox * win.stride.1 - win.padding.1
                    let x1 = min(x0 + win.kernel.1, w + win.padding.1)
                    let (xa, xb) = (max(x0, 0), min(x1, w))
                    guard ya < yb && xa < xb else { dst[oy * wo + ox] = 0; continue }
                    var result: Float
                    if average {
                        var sum: Float = 0
                        for iy in ya..<yb { for ix in xa..<xb { sum += src[iy * w + ix] } }
                        result = sum / Float(self.countIncludePad ? (y1 - y0) * (x1 - x0) : (yb - ya) * (xb - xa))
                    } else {
                        result = src[ya * w + xa]
                        for iy in ya..<yb { for ix in xa..<xb { result = max(result, src[iy * w + ix]) } }
                    }
                    dst[oy * wo + ox] = result
                }
            }
        }
    }
}

extension PoolingKernel {
    /// 2x2 windows of stride 2 (LeNet's, a fifth of its time by the
    /// general path's copy per row and loop per pair): 8 windows at once
    /// from 16 columns of both their rows, the pairs being the even and
    /// odd halves (the last 8 overlap the others). Rows of fewer than 8
    /// windows (LeNet's 10 -> 5) read their 16 columns all the same where
    /// the plane holds them and store the windows they have; the last rows
    /// of a plane, where it does not, one window at a time.
    private static func pairs(_ src: UnsafePointer<Float>, width w: Int, height h: Int, into dst: UnsafeMutablePointer<Float>,
                              rows: Int, columns: Int, average: Bool) {
        for oy in 0..<rows {
            let a = src + 2 * oy * w, b = a + w, out = dst + oy * columns
            let top = UnsafeRawPointer(a), bottom = UnsafeRawPointer(b)
            func eight(_ ox: Int) -> SIMD8<Float> {
                let u = top.loadUnaligned(fromByteOffset: 8 * ox, as: SIMD16<Float>.self)
                let v = bottom.loadUnaligned(fromByteOffset: 8 * ox, as: SIMD16<Float>.self)
                if average {
                    let sum = u + v
                    return (sum.evenHalf + sum.oddHalf) * 0.25
                }
                let m = VectorMath.max(u, v)
                return VectorMath.max(m.evenHalf, m.oddHalf)
            }
            func store(_ result: SIMD8<Float>, at ox: Int) {
                UnsafeMutableRawPointer(out + ox).storeBytes(of: result, as: SIMD8<Float>.self)
            }
            guard columns >= 8 else {
                if (2 * oy + 1) * w + 16 <= h * w {
                    let result = eight(0)
                    var ox = 0
                    if columns >= 4 {
                        UnsafeMutableRawPointer(out).storeBytes(of: result.lowHalf, as: SIMD4<Float>.self)
                        ox = 4
                    }
                    for i in ox..<columns { out[i] = result[i] }
                    continue
                }
                for ox in 0..<columns {
                    let (p, q, r, t) = (a[2 * ox], a[2 * ox + 1], b[2 * ox], b[2 * ox + 1])
                    out[ox] = average ? (p + r + (q + t)) * 0.25 : Swift.max(Swift.max(p, r), Swift.max(q, t))
                }
                continue
            }
            var ox = 0
            while ox < columns - 8 {
                store(eight(ox), at: ox)
                ox += 8
            }
            store(eight(columns - 8), at: columns - 8)
        }
    }

    /// Global pooling of [N, C/16, P, 16] blocks: each block's pixels
    /// reduced 16 channels at a time, the channels of a partial last block left out.
    private func global(blocks x: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (channels, pixels, size) = (inputShape[1], inputShape[3], ChannelBlocks.size), average = self.average
        let blocks = ChannelBlocks.blocks(channels)
        pool.parallelFor(inputShape[0] * blocks) { job, _ in
            let source = UnsafeRawPointer(x + job * pixels * size)
            var v = source.loadUnaligned(as: SIMD16<Float>.self)
            for p in 1..<max(pixels, 1) {
                let next = source.loadUnaligned(fromByteOffset: 4 * p * size, as: SIMD16<Float>.self)
                v = average ? v + next : VectorMath.max(v, next)
            }
            if average { v /= Float(pixels) }
            let (b, first) = (job / blocks, job % blocks * size)
            for j in 0..<min(size, channels - first) { output[b * channels + first + j] = v[j] }
        }
    }

    /// The sum or the largest of `count` values: 16 lanes at a time, then the rest one by one.
    private static func reduce(_ x: UnsafePointer<Float>, count: Int, average: Bool) -> Float {
        var (result, i) = (x[0], 1)
        if count >= 16 {
            var v = UnsafeRawPointer(x).loadUnaligned(as: SIMD16<Float>.self)
            i = 16
            while i + 16 <= count {
                let next = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
                v = average ? v + next : VectorMath.max(v, next)
                i += 16
            }
            result = average ? v.sum() : v.max()
        }
        for j in i..<count { result = average ? result + x[j] : Swift.max(result, x[j]) }
        return result
    }
}

extension PoolingKernel: PreparedKernel {}
